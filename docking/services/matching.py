"""Matchmaking that explains itself: projects for an investor, investors for a project, jobs
for a candidate, candidates (who opted in to talent search) for a job.

The method (docs/docking.md, "Matchmaking"): a weighted score over the structured fields people
fill in, each part also a phrase of the reason ("robotics · growth · DE"):

- fields: the rarity-weighted share of the item's field tags the other side names (a rare tag
  such as "photonics" says more than "software");
- stage (projects ↔ investors) or job type (jobs ↔ candidates);
- ticket ↔ amount sought overlapping in one currency; languages a job needs that the candidate
  speaks;
- country (or remote, for jobs).

Hard filters: a project must seek investment to be shown to an investor; candidates must have
opted in to talent search; closed jobs are never shown; nobody is shown their own.

Each process keeps an in-memory index per kind (numpy arrays and tag postings), rebuilt from
the database when older than ``DOCKING["MATCH_INDEX_TTL"]`` or after this process changed the
data (:func:`changed`). A list is then a few vector operations over all items plus the tag
postings of the query: milliseconds at the conference's size.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from booths.models import BoothStaff
from recruitment.models import Job, Resume

from ..models import InvestorProfile, Project, Seeking, Stage
from . import DockError

log = logging.getLogger(__name__)
TOP = 10
W_FIELDS, W_STAGE, W_TICKET, W_COUNTRY = 3.0, 2.0, 2.0, 1.0
W_TYPE, W_LANG, W_PLACE = 2.0, 2.0, 3.0
RELATED = 1.0  # weight of co-occurring tags in the fields of projects ↔ investors
STAGES = [s.value for s in Stage]
#: Larger than any weighted score, so one more requirement met outranks any score.
TIER = 2 * (W_FIELDS + W_STAGE + W_TICKET + W_COUNTRY)


class TagIndex:
    """Postings of lower-cased tags over ``n`` items, with each tag's rarity weight (IDF)."""

    def __init__(self, tag_lists: list[list[str]]) -> None:
        self.n = len(tag_lists)
        self.tag_lists = [sorted(set(tags)) for tags in tag_lists]
        self._cooc: dict | None = None
        postings: dict[str, list[int]] = {}
        for i, tags in enumerate(tag_lists):
            for tag in set(tags):
                postings.setdefault(tag, []).append(i)
        self.postings = {t: np.asarray(ix, dtype=np.int32) for t, ix in postings.items()}
        self.idf = {t: math.log(1 + self.n / len(ix)) for t, ix in self.postings.items()}
        self.mass = np.asarray([sum(self.idf[t] for t in set(tags)) for tags in tag_lists],
                               dtype=np.float32)
        self.norm = np.sqrt(np.asarray([sum(self.idf[t] ** 2 for t in set(tags))
                                        for tags in tag_lists], dtype=np.float32))

    def weight(self, tag: str) -> float:
        return self.idf.get(tag, math.log(1 + self.n))

    def shared(self, tags) -> np.ndarray:
        """Per item, the summed weight of the tags it shares with ``tags``."""
        out = np.zeros(self.n, dtype=np.float32)
        for tag in set(tags):
            ix = self.postings.get(tag)
            if ix is not None:
                out[ix] += self.idf[tag]
        return out

    def cosine(self, tags, related: float = 0.0) -> np.ndarray:
        """Per item, the cosine between its IDF-weighted tag vector and that of ``tags``
        (0 to 1): a tag both sides name counts by its rarity squared, and an item is not
        favoured for having few tags, as a share of its own tags would favour it.

        ``related`` > 0 adds to the query, at that weight times how often they appear with
        its tags in these items, the tags people name together with its tags (so
        "drones" finds "motion-control" projects: items that share no tag but the
        subject)."""
        weights = dict.fromkeys(set(tags), 1.0)
        if related:
            for tag, w in self._related(weights).items():
                weights[tag] = weights.get(tag, 0.0) + related * w
        out = np.zeros(self.n, dtype=np.float32)
        for tag, w in weights.items():
            ix = self.postings.get(tag)
            if ix is not None:
                out[ix] += w * self.idf[tag] ** 2
        own = math.sqrt(sum((w * self.weight(t)) ** 2 for t, w in weights.items())) or 1.0
        return out / (np.maximum(self.norm, 1e-6) * own)

    def _related(self, query: dict) -> dict[str, float]:
        """Tags co-occurring with the query's, each with the mean over the query's tags of
        the share of that tag's items that also name it."""
        if self._cooc is None:
            cooc: dict[str, dict[str, int]] = {}
            for tags in self.tag_lists:
                for a in tags:
                    row = cooc.setdefault(a, {})
                    for b in tags:
                        if b != a:
                            row[b] = row.get(b, 0) + 1
            self._cooc = cooc
        out: dict[str, float] = {}
        for tag in query:
            df = len(self.postings.get(tag, ()))
            for other, n in self._cooc.get(tag, {}).items():
                if other not in query:
                    out[other] = out.get(other, 0.0) + n / df / len(query)
        return out

    def hits(self, tags) -> np.ndarray:
        """Per item, whether it has any of ``tags``."""
        out = np.zeros(self.n, dtype=bool)
        for tag in set(tags):
            ix = self.postings.get(tag)
            if ix is not None:
                out[ix] = True
        return out


class Codes:
    """A column of short strings (stage, country, currency, job type) as integer codes, so that
    comparing it with a query's values is one fast vector operation."""

    def __init__(self, values: list[str]) -> None:
        self.vocab: dict[str, int] = {}
        self.codes = np.asarray([self.vocab.setdefault(v or "", len(self.vocab))
                                 for v in values], dtype=np.int32)

    def eq(self, value: str) -> np.ndarray:
        return self.codes == self.vocab.get(value or "", -1)

    def isin(self, values) -> np.ndarray:
        wanted = [self.vocab[v] for v in values if v in self.vocab]
        return np.isin(self.codes, wanted) if wanted else np.zeros(len(self.codes), bool)


def _lower(tags) -> list[str]:
    return [str(t).strip().lower() for t in tags or [] if str(t).strip()]


def _num(value) -> float:
    return float(value) if value is not None else np.nan


def _overlap(lo, hi, qlo: float, qhi: float) -> np.ndarray:
    """Whether each range [lo, hi] (open ends as NaN) meets [qlo, qhi]."""
    lo = np.where(np.isnan(lo), 0.0, lo)
    hi = np.where(np.isnan(hi), np.inf, hi)
    qlo = 0.0 if math.isnan(qlo) else qlo
    qhi = math.inf if math.isnan(qhi) else qhi
    return (lo <= qhi) & (hi >= qlo)


@dataclass
class Index:
    built: float
    ids: np.ndarray
    rows: list[dict]
    tags: TagIndex
    extra: dict = field(default_factory=dict)


# --- building the indexes -----------------------------------------------------------------------

def _projects() -> Index:
    rows = list(Project.objects.values("id", "title", "fields", "stage", "seeking",
                                       "amount_min", "amount_max", "currency", "country",
                                       "owner_id", "booth_id"))
    for r in rows:
        r["fields"] = _lower(r["fields"])
    return Index(time.monotonic(), np.asarray([r["id"] for r in rows], dtype=np.int64), rows,
                 TagIndex([r["fields"] for r in rows]), {
                     "stage": Codes([r["stage"] for r in rows]),
                     "country": Codes([r["country"] for r in rows]),
                     "currency": Codes([r["currency"] for r in rows]),
                     "lo": np.asarray([_num(r["amount_min"]) for r in rows], dtype=np.float64),
                     "hi": np.asarray([_num(r["amount_max"]) for r in rows], dtype=np.float64),
                     "invest": np.asarray([Seeking.INVESTMENT in r["seeking"] for r in rows],
                                          dtype=bool),
                     "owner": np.asarray([r["owner_id"] or 0 for r in rows], dtype=np.int64),
                     "booth": np.asarray([r["booth_id"] or 0 for r in rows], dtype=np.int64)})


def _investors() -> Index:
    rows = list(InvestorProfile.objects.filter(active=True).values(
        "user_id", "user__profile__display_name", "ticket_min", "ticket_max", "currency",
        "stages", "fields", "countries"))
    for r in rows:
        r["fields"] = _lower(r["fields"])
        r["countries"] = [c.upper() for c in r["countries"] or []]
        r["id"], r["name"] = r["user_id"], r["user__profile__display_name"] or ""
    return Index(time.monotonic(), np.asarray([r["id"] for r in rows], dtype=np.int64), rows,
                 TagIndex([r["fields"] for r in rows]), {
                     "stages": TagIndex([r["stages"] for r in rows]),
                     "any_stage": np.asarray([not r["stages"] for r in rows], dtype=bool),
                     "countries": TagIndex([r["countries"] for r in rows]),
                     "any_country": np.asarray([not r["countries"] for r in rows], dtype=bool),
                     "currency": Codes([r["currency"] for r in rows]),
                     "lo": np.asarray([_num(r["ticket_min"]) for r in rows], dtype=np.float64),
                     "hi": np.asarray([_num(r["ticket_max"]) for r in rows],
                                      dtype=np.float64)})


def _jobs() -> Index:
    rows = list(Job.objects.filter(is_open=True).values(
        "id", "title", "fields", "job_type", "country", "remote", "languages", "booth_id",
        "booth__name"))
    for r in rows:
        r["fields"], r["languages"] = _lower(r["fields"]), _lower(r["languages"])
    return Index(time.monotonic(), np.asarray([r["id"] for r in rows], dtype=np.int64), rows,
                 TagIndex([r["fields"] for r in rows]), {
                     "type": Codes([r["job_type"] for r in rows]),
                     "country": Codes([r["country"] for r in rows]),
                     "remote": np.asarray([r["remote"] for r in rows], dtype=bool),
                     "languages": TagIndex([r["languages"] for r in rows]),
                     "n_lang": np.asarray([len(set(r["languages"])) for r in rows],
                                          dtype=np.float32),
                     "booth": np.asarray([r["booth_id"] for r in rows], dtype=np.int64)})


def candidate_of(data: dict, account: dict | None) -> dict:
    """What matching reads of a person: skills and interests, job types, languages, country."""
    account = account or {}
    langs = [lang.get("language", "") if isinstance(lang, dict) else lang
             for lang in data.get("languages", [])]
    return {"skills": _lower([*data.get("skills", []), *account.get("interests", [])]),
            "job_types": list(data.get("job_types", [])),
            "languages": _lower([*langs, *account.get("languages", [])]),
            "country": (account.get("country") or "").upper(),
            "places": _lower(data.get("places", []))}


def _candidates() -> Index:
    rows = []
    for r in Resume.objects.filter(user__account__talent_search=True).values(
            "user_id", "data", "user__profile__display_name", "user__account__country",
            "user__account__languages", "user__account__interests"):
        who = candidate_of(r["data"] or {}, {"country": r["user__account__country"],
                                             "languages": r["user__account__languages"],
                                             "interests": r["user__account__interests"]})
        rows.append({"id": r["user_id"], "name": r["user__profile__display_name"] or "",
                     **who})
    return Index(time.monotonic(), np.asarray([r["id"] for r in rows], dtype=np.int64), rows,
                 TagIndex([r["skills"] for r in rows]), {
                     "types": TagIndex([r["job_types"] for r in rows]),
                     "languages": TagIndex([r["languages"] for r in rows]),
                     "country": Codes([r["country"] for r in rows])})


BUILDERS = {"projects": _projects, "investors": _investors, "jobs": _jobs,
            "candidates": _candidates}
_indexes: dict[str, Index] = {}
_rebuilding: set[str] = set()
_lock = threading.Lock()


def index(kind: str) -> Index:
    """The index of ``kind``: built on first use; once older than the TTL, rebuilt in a
    background thread while lists keep using the current one (a list never waits for the
    rebuild of 90,000 résumés)."""
    current = _indexes.get(kind)
    if current is None:
        with _lock:
            current = _indexes.get(kind)
            if current is None:
                current = _indexes[kind] = BUILDERS[kind]()
        return current
    if time.monotonic() - current.built > settings.DOCKING["MATCH_INDEX_TTL"]:
        with _lock:
            if kind not in _rebuilding:
                _rebuilding.add(kind)
                threading.Thread(target=_rebuild, args=(kind,), daemon=True,
                                 name=f"match-index-{kind}").start()
    return current


def _rebuild(kind: str) -> None:
    from django.db import connection

    try:
        _indexes[kind] = BUILDERS[kind]()
    except Exception:
        log.exception("rebuilding the %s index failed", kind)
    finally:
        connection.close()  # this thread's own connection
        with _lock:
            _rebuilding.discard(kind)


def changed(*kinds: str) -> None:
    """This process changed matching data of ``kinds``: rebuild at the next list (other
    processes follow within the TTL)."""
    for kind in kinds or list(BUILDERS):
        _indexes.pop(kind, None)


# --- scoring and reasons ------------------------------------------------------------------------

def _top(scores: np.ndarray, k: int, met: np.ndarray | None = None) -> list[int]:
    """The ``k`` best items with a positive score. With ``met`` (per item, how many of the
    asker's stated requirements it meets), items meeting more requirements come first and the
    score orders each tier; so when too few meet all of them the list fills up with the
    nearest misses rather than coming back short."""
    ok = np.flatnonzero(scores > 0)
    rank = scores if met is None else scores + TIER * met
    if len(ok) > k:
        ok = ok[np.argpartition(-rank[ok], k - 1)[:k]]
    return sorted(ok.tolist(), key=lambda i: (-rank[i], i))


def _field_part(tags: TagIndex, mine: list[str], theirs: list[str]) -> list[str]:
    common = set(mine) & set(theirs)
    return sorted(common, key=lambda t: (-tags.weight(t), t))[:2]


def _reason(parts: list[tuple[str, str]]) -> dict:
    return {"parts": [{"kind": k, "value": v} for k, v in parts],
            "text": " · ".join(v for _, v in parts)}


def _ticket_text(lo, hi, currency: str) -> str:
    def short(x):
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return "…"
        x = float(x)
        for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if x >= div:
                return f"{x / div:g}{unit}"
        return f"{x:g}"
    return f"{currency} {short(lo)}-{short(hi)}".strip()


def projects_for_investor(inv: dict, k: int = TOP, exclude_user: int = 0,
                          exclude_booths=()) -> list[dict]:
    """``inv``: fields, stages, countries, ticket_min/max, currency. Projects of
    ``exclude_user`` and of ``exclude_booths`` (the investor's own) are left out."""
    ix = index("projects")
    if not len(ix.ids):
        return []
    x = ix.extra
    fields = _lower(inv.get("fields"))
    f = ix.tags.cosine(fields, RELATED)
    stages = inv.get("stages") or []
    s = x["stage"].isin(stages).astype(np.float32) if stages else np.full(len(f), 0.5)
    countries = [c.upper() for c in inv.get("countries") or []]
    c = x["country"].isin(countries).astype(np.float32) if countries else np.full(len(f), 0.5)
    t = (_overlap(x["lo"], x["hi"], _num(inv.get("ticket_min")), _num(inv.get("ticket_max")))
         & (x["currency"].eq(inv.get("currency") or "") | x["currency"].eq("")))
    score = W_FIELDS * f + W_STAGE * s + W_TICKET * t + W_COUNTRY * c
    own = (x["owner"] == exclude_user) if exclude_user else np.zeros(len(f), dtype=bool)
    own |= np.isin(x["booth"], list(exclude_booths))
    score = np.where(x["invest"] & (f > 0) & ~own, score, 0)
    # The investor's stated stages, countries and ticket are requirements, not bonuses.
    has_ticket = inv.get("ticket_min") is not None or inv.get("ticket_max") is not None
    met = (np.asarray(s >= 1 if stages else True, dtype=np.float32)
           + (c >= 1 if countries else True) + (t if has_ticket else True))
    out = []
    for i in _top(score, k, met):
        row = ix.rows[i]
        parts = [("field", tag) for tag in _field_part(ix.tags, fields, row["fields"])]
        if stages and row["stage"] in stages:
            parts.append(("stage", row["stage"]))
        if t[i] and (row["amount_min"] or row["amount_max"]):
            parts.append(("ticket", _ticket_text(row["amount_min"], row["amount_max"],
                                                 row["currency"])))
        if countries and row["country"] in countries:
            parts.append(("country", row["country"]))
        out.append({"kind": "project", "id": row["id"], "title": row["title"],
                    "score": round(float(score[i]), 3), "reason": _reason(parts)})
    return out


def investors_for_project(project: dict, k: int = TOP, exclude_users=()) -> list[dict]:
    """``project``: fields, stage, country, amount_min/max, currency."""
    ix = index("investors")
    if not len(ix.ids):
        return []
    x = ix.extra
    fields = _lower(project.get("fields"))
    f = ix.tags.cosine(fields, RELATED)
    stage = project.get("stage") or ""
    s = np.where(x["any_stage"], 0.5, x["stages"].hits([stage]).astype(np.float32))
    country = (project.get("country") or "").upper()
    c = np.where(x["any_country"], 0.5, x["countries"].hits([country]).astype(np.float32))
    t = (_overlap(x["lo"], x["hi"], _num(project.get("amount_min")),
                  _num(project.get("amount_max")))
         & (x["currency"].eq(project.get("currency") or "") | x["currency"].eq("")))
    score = W_FIELDS * f + W_STAGE * s + W_TICKET * t + W_COUNTRY * c
    score = np.where((f > 0) & ~np.isin(ix.ids, list(exclude_users)), score, 0)
    # Each investor's stated stages, countries and ticket are requirements the project must
    # meet (an investor who states none of one kind takes any).
    no_ticket = np.isnan(x["lo"]) & np.isnan(x["hi"])
    met = ((s >= 1) | x["any_stage"]).astype(np.float32) \
        + ((c >= 1) | x["any_country"]) + (t | no_ticket)
    out = []
    for i in _top(score, k, met):
        row = ix.rows[i]
        parts = [("field", tag) for tag in _field_part(ix.tags, fields, row["fields"])]
        if stage in row["stages"]:
            parts.append(("stage", stage))
        if t[i] and (row["ticket_min"] or row["ticket_max"]):
            parts.append(("ticket", _ticket_text(row["ticket_min"], row["ticket_max"],
                                                 row["currency"])))
        if country and country in row["countries"]:
            parts.append(("country", country))
        out.append({"kind": "investor", "id": row["id"], "name": row["name"],
                    "score": round(float(score[i]), 3), "reason": _reason(parts)})
    return out


def jobs_for_candidate(who: dict, k: int = TOP) -> list[dict]:
    """``who``: skills, job_types, languages, country, places (see :func:`candidate_of`)."""
    ix = index("jobs")
    if not len(ix.ids):
        return []
    x = ix.extra
    skills = who["skills"]
    f = ix.tags.shared(skills) / np.maximum(ix.tags.mass, 1e-6)
    ty = x["type"].isin(who["job_types"]).astype(np.float32) if who["job_types"] \
        else np.full(len(f), 0.5)
    speaks = x["languages"].shared(who["languages"])
    langs = np.where(x["n_lang"] > 0, speaks / np.maximum(x["languages"].mass, 1e-6), 1.0)
    place = (x["remote"] | x["country"].eq(who["country"])).astype(np.float32)
    score = W_FIELDS * f + W_TYPE * ty + W_LANG * langs + W_PLACE * place
    score = np.where(f > 0, score, 0)
    out = []
    for i in _top(score, k):
        row = ix.rows[i]
        parts = [("field", tag) for tag in _field_part(ix.tags, skills, row["fields"])]
        if row["job_type"] in who["job_types"]:
            parts.append(("job_type", row["job_type"]))
        if row["languages"] and langs[i] >= 1:
            parts.append(("languages", "/".join(row["languages"][:3])))
        if row["remote"]:
            parts.append(("remote", "remote"))
        elif row["country"] and row["country"] == who["country"]:
            parts.append(("country", row["country"]))
        out.append({"kind": "job", "id": row["id"], "title": row["title"],
                    "booth": {"id": row["booth_id"], "name": row["booth__name"]},
                    "score": round(float(score[i]), 3), "reason": _reason(parts)})
    return out


def candidates_for_job(job: dict, k: int = TOP) -> list[dict]:
    """``job``: fields, job_type, languages, country, remote."""
    ix = index("candidates")
    if not len(ix.ids):
        return []
    x = ix.extra
    fields = _lower(job.get("fields"))
    own_mass = sum(ix.tags.weight(t) for t in set(fields)) or 1.0
    f = ix.tags.shared(fields) / own_mass
    job_type = job.get("job_type") or ""
    ty = x["types"].hits([job_type]).astype(np.float32)
    need = _lower(job.get("languages"))
    langs = (x["languages"].shared(need) / (sum(x["languages"].weight(t) for t in set(need))
                                            or 1.0)) if need else np.ones(len(f))
    country = (job.get("country") or "").upper()
    place = np.ones(len(f)) if job.get("remote") else x["country"].eq(country)
    score = W_FIELDS * f + W_TYPE * ty + W_LANG * langs + W_PLACE * place
    score = np.where(f > 0, score, 0)
    out = []
    for i in _top(score, k):
        row = ix.rows[i]
        parts = [("field", tag) for tag in _field_part(ix.tags, fields, row["skills"])]
        if ty[i]:
            parts.append(("job_type", job_type))
        if need and langs[i] >= 0.999:
            parts.append(("languages", "/".join(need[:3])))
        if not job.get("remote") and country and row["country"] == country:
            parts.append(("country", country))
        out.append({"kind": "candidate", "id": row["id"], "name": row["name"],
                    "score": round(float(score[i]), 3), "reason": _reason(parts)})
    return out


# --- for a person or a page ---------------------------------------------------------------------

def _project_query(project: Project) -> dict:
    return {"fields": project.fields, "stage": project.stage, "country": project.country,
            "amount_min": project.amount_min, "amount_max": project.amount_max,
            "currency": project.currency}


def for_project(project_id: int) -> list[dict]:
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise DockError("project.not_found", f"No project {project_id}.", 404)
    owners = [project.owner_id] if project.owner_id else list(
        BoothStaff.objects.filter(booth_id=project.booth_id).values_list("user_id", flat=True))
    return investors_for_project(_project_query(project), exclude_users=owners)


def for_job(user, job_id: int) -> list[dict]:
    """Candidates who opted in, for staff of the job's booth."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise DockError("job.not_found", f"No job {job_id}.", 404)
    if not BoothStaff.objects.filter(user=user, booth_id=job.booth_id).exists():
        raise DockError("booth.not_staff", "Only the job's booth staff see candidates.", 403)
    return candidates_for_job({"fields": job.fields, "job_type": job.job_type,
                               "languages": job.languages, "country": job.country,
                               "remote": job.remote})


def for_user(user) -> dict:
    """The person's home: projects if they have an investor profile, jobs if they have a
    résumé, investors for each project they own."""
    out: dict = {"projects": [], "jobs": [], "investors": []}
    inv = InvestorProfile.objects.filter(user=user, active=True).values().first()
    if inv:
        booths = BoothStaff.objects.filter(user=user).values_list("booth_id", flat=True)
        out["projects"] = projects_for_investor(inv, exclude_user=user.pk,
                                                exclude_booths=list(booths))
    resume = Resume.objects.filter(user=user).values("data").first()
    if resume is not None:
        account = user.account.__dict__ if hasattr(user, "account") else {}
        out["jobs"] = jobs_for_candidate(candidate_of(resume["data"] or {}, account))
    from .projects import mine

    for project in mine(user)[:3]:
        out["investors"].append({"project": {"id": project["id"], "title": project["title"]},
                                 "investors": for_project(project["id"])})
    return out


__all__ = ["STAGES", "changed", "for_job", "for_project", "for_user", "index"]
