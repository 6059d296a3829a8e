"""The conference-size expo: ``seed_demo --scale conference [--seed N] [--fraction F]``.

5,000 organisations with booths over the six halls (250 of them investment firms), 3,200
projects, 30,000 jobs, 90,000 structured résumés, four days of roadshows and forums, and the
people behind them, every one a Django user with a ``booths.Profile`` and an
``accounts.Account``: 10,250 booth staff (two per booth, three partners per investment firm),
1,200 angel investors, 1,000 project founders and the 90,000 owners of the résumés (visitors
looking for work), with names and texts in English, Chinese, Russian and German. The issue's
"60,000 people" and "90,000 résumés" cannot both hold with one résumé per person (the model's
one-to-one): the résumés win, as the matchmaking benchmark has them, so there are 102,452
people.

The matching data (investors' mandates, projects, jobs, résumés) is exactly the world of the
matchmaking benchmark's generator (:mod:`booths.matchgen`) for the same seed, so that
``python -m bench match --seeded`` scores recommendations on a seeded database against the
latent truth regenerated from the seed (:func:`world_ids` maps the two). Everything else
(names, texts, booths, schedules) comes from a second generator seeded from the same seed.

All writes are bulk loads (:mod:`hallserver.bulk`: ``executemany`` on SQLite, ``COPY`` on
PostgreSQL) inside one transaction: one password hash for every generated person, no per-row
signals; the rooms that signals would give booths and roadshows are written in bulk too, and
the search index is built once at the end.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Account
from hallserver.bulk import insert

from . import conference_words as W
from .matchgen import COUNTRY_REGION, PROFESSIONS, REGIONS, SECTORS, SIZES, Generator, World
from .models import Booth, BoothStaff, Expo, Hall, Profile, Roadshow, Room

#: The password of every generated person (one hash, computed once).
PERSON_PASSWORD = "conference-demo"
BATCH = 5000
STAFF_PER_BOOTH = 2
FORUMS_PER_HALL_DAY = 2
ROADSHOW_SLOTS = [(h, m) for h in range(9, 18) for m in (0, 30)]  # one stage per hall

Progress = Callable[[str, int, int], None]
LANG_OF_COUNTRY = {c: lang for lang, countries in W.CITIES.items() for c in countries}
LANG_OF_COUNTRY.update({"CN": "zh", "HK": "zh", "DE": "de", "AT": "de", "CH": "de"})
L = {lang: n for n, lang in enumerate(W.LANGS)}


def conference_size(fraction: float = 1.0) -> dict:
    """The matchmaking generator's conference size, every count times ``fraction``."""
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    full = SIZES["conference"]
    if fraction == 1:
        return dict(full)
    size = {k: max(1, round(v * fraction)) for k, v in full.items()}
    size["partners"] = full["partners"]
    size["booths"] = max(size["booths"], size["firms"] + 6)
    return size


@dataclass
class Plan:
    """How many of each the conference gets; derived from the generator's size."""

    size: dict
    booths: int = 0
    firms: int = 0
    staff: int = 0
    angels: int = 0
    owners: int = 0
    resumes: int = 0
    days: int = 4

    @classmethod
    def of(cls, size: dict) -> Plan:
        booths, firms = size["booths"], size["firms"]
        staff = (booths - firms) * STAFF_PER_BOOTH + firms * size["partners"]
        return cls(size=size, booths=booths, firms=firms, staff=staff, angels=size["angels"],
                   owners=size["owners"], resumes=size["resumes"])

    @property
    def people(self) -> int:
        """Generated people: staff, angels, founders, the résumés' owners, the demo visitor."""
        return self.staff + self.angels + self.owners + self.resumes + 1


@dataclass
class ConferenceResult:
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    world: World | None = None


def _pick_lang(rng: random.Random) -> str:
    return rng.choices(list(W.LANG_WEIGHTS), list(W.LANG_WEIGHTS.values()))[0]


class Texts:
    """Names and phrases in four languages from the word lists (deterministic by its rng)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names: set[str] = set()

    def country(self, lang: str) -> str:
        return self.rng.choice(sorted(W.CITIES[lang]))

    def city(self, lang: str, country: str):
        return self.rng.choice(W.CITIES[lang][country])

    def person(self, lang: str) -> str:
        rng = self.rng
        if lang == "zh":
            family, given = W.PEOPLE["zh"]
            return rng.choice(family) + rng.choice(given)
        if lang == "ru":
            male, female, surnames = W.PEOPLE["ru"]
            if rng.random() < 0.5:
                return f"{rng.choice(male)} {rng.choice(surnames)}"
            return f"{rng.choice(female)} {rng.choice(surnames)}а"
        first, last = W.PEOPLE[lang]
        return f"{rng.choice(first)} {rng.choice(last)}"

    def _unique(self, name: str, city: str) -> str:
        if name in self.names:
            name = f"{name} ({city})"
        n = 2
        base = name
        while name in self.names:
            name, n = f"{base} {n}", n + 1
        self.names.add(name)
        return name

    def booth_names(self, lang: str, kind: str, sector: str, country: str) -> tuple[str, str]:
        """(name, name_zh) of an organisation."""
        rng = self.rng
        fld = W.FIELDS[sector]
        if lang == "zh":
            city_en, city_zh = self.city("zh", country)
            first, second = rng.choice(W.BRAND["zh"][0]), rng.choice(W.BRAND["zh"][1])
            brand_zh, brand_en = first[0] + second[0], first[1] + second[1]
            zh, en = {
                Booth.Kind.COMPANY: (f"{city_zh}{brand_zh}{fld[1]}科技有限公司",
                                     f"{city_en} {brand_en} {fld[0]} Co., Ltd."),
                Booth.Kind.UNIVERSITY: (f"{city_zh}{brand_zh}理工大学",
                                        f"{city_en} {brand_en} University of Technology"),
                Booth.Kind.INSTITUTE: (f"{city_zh}{fld[1]}研究院{brand_zh}分院",
                                       f"{city_en} {brand_en} Institute of {fld[0]}"),
                Booth.Kind.INVESTOR: (f"{brand_zh}{fld[1]}创业投资基金",
                                      f"{brand_en} {fld[0]} Venture Fund"),
            }[kind]
            name = self._unique(en, city_en)
            return name, (zh if name == en else f"{zh}（{city_zh}）")
        if lang == "ru":
            city, adjective = self.city("ru", country)
            brand = rng.choice(W.BRAND["ru"][0])
            name = {
                Booth.Kind.COMPANY: f"ООО «{brand}» — {fld[2]}",
                Booth.Kind.UNIVERSITY: f"{adjective} технический университет «{brand}»",
                Booth.Kind.INSTITUTE: f"НИИ «{brand}»: {fld[2]}",
                Booth.Kind.INVESTOR: f"Венчурный фонд «{brand}» ({fld[2]})",
            }[kind]
            return self._unique(name, city), ""
        if lang == "de":
            city = self.city("de", country)
            brand = rng.choice(W.BRAND["de"][0])
            name = {
                Booth.Kind.COMPANY: f"{brand} {fld[3]} {rng.choice(W.COMPANY_SUFFIX['de'])}",
                Booth.Kind.UNIVERSITY: f"Hochschule {city} für {fld[3]}",
                Booth.Kind.INSTITUTE: f"Institut für {fld[3]} {city}",
                Booth.Kind.INVESTOR: f"{brand} Beteiligungen {fld[3]}",
            }[kind]
            return self._unique(name, city), ""
        city = self.city("en", country)
        first, second = W.BRAND["en"]
        brand = rng.choice(first) + rng.choice(second)
        name = {
            Booth.Kind.COMPANY: f"{brand} {fld[0]} {rng.choice(W.COMPANY_SUFFIX['en'])}",
            Booth.Kind.UNIVERSITY: f"{city} University of {fld[0]}",
            Booth.Kind.INSTITUTE: f"{brand} Institute for {fld[0]}",
            Booth.Kind.INVESTOR: f"{brand} {fld[0]} Ventures",
        }[kind]
        return self._unique(name, city), ""

    def booth_description(self, lang: str, name: str, kind: str, sector: str) -> str:
        rng = self.rng
        i = L[lang]
        product = rng.choice(W.PRODUCTS[sector])[i]
        customer = rng.choice(W.CUSTOMERS)[i]
        fld = W.FIELDS[sector][i]
        investor = kind == Booth.Kind.INVESTOR
        research = kind in (Booth.Kind.UNIVERSITY, Booth.Kind.INSTITUTE)
        if lang == "zh":
            what = (f"{name}专注投资{fld}领域的早期和成长期企业，重点关注{product}。" if investor
                    else f"{name}在{fld}领域开展研究，与{customer}合作开发{product}。" if research
                    else f"{name}专注于{fld}领域，主要产品为{product}，服务于{customer}。")
            return what + rng.choice(["欢迎洽谈合作。", "诚邀合作伙伴与经销商。",
                                      "展会期间可在展位聊天预约会谈。"])
        if lang == "ru":
            what = (f"{name} инвестирует в компании отрасли «{fld}», прежде всего в {product}."
                    if investor else
                    f"{name} ведёт исследования в области «{fld}»: {product} для {customer}."
                    if research else f"{name} разрабатывает {product} для {customer}.")
            return f"{what} " + rng.choice(["Ищем партнёров и дистрибьюторов.",
                                           "Приглашаем к сотрудничеству.",
                                           "Запишитесь на встречу в чате стенда."])
        if lang == "de":
            what = (f"{name} investiert in junge Unternehmen der {fld}, besonders in {product}."
                    if investor else
                    f"{name} forscht zu {product} und arbeitet dafür mit {customer} zusammen."
                    if research else f"{name} entwickelt {product} für {customer}.")
            return f"{what} " + rng.choice(["Wir suchen Vertriebs- und Entwicklungspartner.",
                                           "Besuchen Sie uns im Stand-Chat.",
                                           "Wir freuen uns auf Ihre Anfrage."])
        what = (f"{name} invests in {fld.lower()} companies, from {product} to their customers."
                if investor else
                f"{name} researches {product} and trains engineers for {customer}." if research
                else f"{name} develops {product} for {customer}.")
        return f"{what} " + rng.choice(["Drop by the booth chat to book a meeting.",
                                       "We are looking for distributors and pilot customers.",
                                       "Staff answer questions all day in the booth chat."])


def _batched_create(model, objs: list, step: str, report: Progress, done: list[int],
                    total: int) -> list:
    """Write ``objs`` (instances or dicts by attname) with :func:`hallserver.bulk.insert`,
    reporting progress after each chunk; the ids, in order."""
    report(step, done[0], total)

    def advance(n: int) -> None:
        done[0] += n
        report(step, done[0], total)

    return insert(model, objs, chunk=BATCH, progress=advance)


def seed_conference(expo: Expo, halls: list[Hall], *, seed: int, fraction: float, now: datetime,
                    report: Progress, demo_users) -> ConferenceResult:
    """Fill ``expo`` (already created, with its ``halls``) with the conference."""
    result = ConferenceResult()
    timings = result.timings
    clock = [time.perf_counter()]

    def lap(step: str) -> None:
        now_ = time.perf_counter()
        timings[step] = now_ - clock[0]
        clock[0] = now_

    size = conference_size(fraction)
    plan = Plan.of(size)
    report("world", 0, 1)
    world = Generator(seed, size).world()
    result.world = world
    report("world", 1, 1)
    lap("world")
    rng = random.Random(f"conference-{seed}")
    texts = Texts(rng)
    hall_of = {h.slug: h for h in halls}

    # --- organisations ---------------------------------------------------------------------
    sectors = list(W.FIELDS)
    booths: list[Booth] = []
    meta: list[tuple[str, str]] = []  # (lang, sector) per booth
    for n in range(plan.booths):
        investor = n < plan.firms
        lang = _pick_lang(rng)
        country = texts.country(lang)
        if investor:
            sector = rng.choice(sectors)
            kind = Booth.Kind.INVESTOR
            hall = hall_of["investment-finance"]
        else:
            sector = rng.choice(sectors)
            kind = rng.choices([Booth.Kind.COMPANY, Booth.Kind.UNIVERSITY, Booth.Kind.INSTITUTE],
                               [0.75, 0.1, 0.15])[0]
            hall = hall_of[W.HALL_OF_SECTOR[sector]]
        name, name_zh = texts.booth_names(lang, kind, sector, country)
        tags = rng.sample(SECTORS[sector], 3)
        slug = slugify(name) or f"org-{n}"
        booths.append(Booth(
            hall=hall, name=name[:160], name_zh=name_zh[:160], kind=kind, country=country,
            industry_tags=tags,
            description=texts.booth_description(lang, name, kind, sector),
            links=[{"label": "Website", "url": f"https://example.org/{slug}/"}]))
        meta.append((lang, sector))
    # Within a hall the catalogue lists booths in insertion order: interleave the halls' booths
    # as generated.
    done = [0]
    _batched_create(Booth, booths, "booths", report, done, plan.booths)
    insert(Room, [room for b in booths for room in (
        {"kind": Room.Kind.BOOTH, "booth_id": b.pk, "hall_id": b.hall_id, "title": b.name},
        {"kind": Room.Kind.STAFF, "booth_id": b.pk, "hall_id": b.hall_id,
         "title": f"{b.name} (staff)"})])
    lap("booths")

    # --- people ------------------------------------------------------------------------------
    User = get_user_model()
    people: list[dict] = []  # username, display, lang, country, kind, org, staff booth, title
    firm_booths = booths[:plan.firms]
    other_booths = booths[plan.firms:]
    investors = world.investors
    firm_investors = [i for i in investors if i["kind"] == "firm"]
    angel_investors = [i for i in investors if i["kind"] == "angel"]
    role_of_investor: dict[int, int] = {}  # index in world.investors -> index in people
    firm_slots = [b for b in firm_booths for _ in range(size["partners"])]
    lang_of_booth = {b.pk: lang for b, (lang, _) in zip(booths, meta, strict=True)}
    for b, (lang, _) in zip(other_booths, meta[plan.firms:], strict=True):
        for k in range(STAFF_PER_BOOTH):
            people.append({"username": f"team{len(people):05d}", "lang": lang,
                           "country": b.country, "kind": Profile.Kind.EXHIBITOR,
                           "org": b.name, "booth": b,
                           "title": W.STAFF_TITLES[k % len(W.STAFF_TITLES)][L[lang]]})
    inv_index = {id(inv): n for n, inv in enumerate(investors)}
    for slot, inv in zip(firm_slots, firm_investors, strict=False):
        lang = lang_of_booth[slot.pk]
        role_of_investor[inv_index[id(inv)]] = len(people)
        people.append({"username": f"partner{len(people):05d}", "lang": lang,
                       "country": slot.country, "kind": Profile.Kind.EXHIBITOR,
                       "org": slot.name, "booth": slot, "title": W.PARTNER[L[lang]]})
    for inv in angel_investors:
        lang = LANG_OF_COUNTRY.get(inv["countries"][0], "en")
        role_of_investor[inv_index[id(inv)]] = len(people)
        people.append({"username": f"angel{len(people):05d}", "lang": lang,
                       "country": inv["countries"][0], "kind": Profile.Kind.VISITOR, "org": ""})
    owner_start = len(people)
    for _ in range(plan.owners):
        lang = _pick_lang(rng)
        people.append({"username": f"founder{len(people):05d}", "lang": lang,
                       "country": texts.country(lang), "kind": Profile.Kind.VISITOR, "org": ""})
    visitor_at = len(people)  # the demo visitor: a person of their own, with no résumé
    people.append({"username": "visitor", "lang": "en", "country": "GB",
                   "kind": Profile.Kind.VISITOR, "org": ""})
    resume_start = len(people)
    for n, r in enumerate(world.resumes):
        lang = LANG_OF_COUNTRY.get(r["country"], "en")
        if lang == "en" and rng.random() < 0.08:
            lang = "ru"  # Russian speakers abroad
        # "cand<n>", as bench/match.py names them: the matching index lists candidates in the
        # order a database scan of the user names gives, and ties in a score keep that order,
        # so the same names give the benchmark's very figures.
        people.append({"username": f"cand{n}", "lang": lang, "country": r["country"],
                       "kind": Profile.Kind.VISITOR, "org": "", "resume": r})
    # The demo accounts take the places of a few generated people.
    exhibitor_at = 0
    investor_at = role_of_investor.get(0)
    renames = {exhibitor_at: "exhibitor", visitor_at: "visitor"}
    if investor_at is not None:
        renames[investor_at] = "investor"
    taken = set(get_user_model().objects.filter(username__in=renames.values())
                .values_list("username", flat=True))
    renames = {at: name for at, name in renames.items() if name not in taken}
    if "visitor" in taken:
        people[visitor_at]["username"] = "visitor-conference"
    # PBKDF2 releases the GIL: the few hashes (one shared by every generated person, one per
    # demo account) are computed side by side.
    plain = {name: pw for name, pw in demo_users.items() if name in renames.values()}
    plain[""] = PERSON_PASSWORD
    with ThreadPoolExecutor(max_workers=4) as pool:
        passwords = dict(zip(plain, pool.map(make_password, plain.values()), strict=True))
    shared_hash = passwords.pop("")
    for at, name in renames.items():
        people[at]["username"] = name
    people[exhibitor_at]["title"] = "Sales lead"
    for p in people:
        p["display"] = texts.person(p["lang"])
    total = len(people)
    done = [0]
    joined = timezone.now()
    users = _batched_create(User, [{"username": p["username"], "date_joined": joined,
                                    "password": passwords.get(p["username"], shared_hash)}
                                   for p in people], "people", report, done, total * 3)
    _batched_create(Profile, [{"user_id": u, "display_name": p["display"][:80],
                               "kind": p["kind"], "organisation": p["org"][:120]}
                              for u, p in zip(users, people, strict=True)],
                    "people", report, done, total * 3)
    accounts = []
    for u, p in zip(users, people, strict=True):
        r = p.get("resume")
        if r is not None:  # what matching reads stays the generator's
            accounts.append({"user_id": u, "country": r["country"], "languages": [],
                             "interests": [], "talent_search": r["talent_search"],
                             "headline": _headline(p["lang"], r["profession"])})
        else:
            accounts.append({"user_id": u, "country": p["country"][:2],
                             "languages": [p["lang"]] if p["lang"] == "en"
                             else [p["lang"], "en"], "interests": []})
    _batched_create(Account, accounts, "people", report, done, total * 3)
    insert(BoothStaff, [{"booth_id": p["booth"].pk, "user_id": u, "title": p["title"][:120]}
                        for u, p in zip(users, people, strict=True) if "booth" in p])
    lap("people")

    # --- investors and projects ------------------------------------------------------------
    from docking.models import InvestorProfile, Project

    inv_users = [users[role_of_investor[n]] for n in range(len(investors))]
    insert(InvestorProfile, [{
        "user_id": u, "ticket_min": i["ticket_min"], "ticket_max": i["ticket_max"],
        "currency": i["currency"], "stages": i["stages"], "fields": i["fields"],
        "countries": i["countries"], "thesis": _thesis(people[role_of_investor[n]]["lang"], i)}
        for n, (u, i) in enumerate(zip(inv_users, investors, strict=True))])
    by_sector: dict[str, list[int]] = {}
    for n, (_, sector) in enumerate(meta):
        if n >= plan.firms:
            by_sector.setdefault(sector, []).append(n)
    owners = users[owner_start:owner_start + plan.owners]
    projects = []
    for p in world.projects:
        if rng.random() < 0.75 or not owners:
            pool = by_sector.get(p["sector"]) or list(range(plan.firms, plan.booths))
            b = rng.choice(pool)
            booth, owner, lang = booths[b], None, meta[b][0]
        else:
            booth, owner = None, rng.choice(owners)
            lang = LANG_OF_COUNTRY.get(p["country"], "en")
        title, summary, description = _project_texts(rng, lang, p, booth)
        projects.append({
            "booth_id": booth.pk if booth else None, "owner_id": owner, "title": title[:200],
            "summary": summary[:500], "description": description, "fields": p["fields"],
            "stage": p["stage"], "seeking": p["seeking"], "amount_min": p["amount_min"],
            "amount_max": p["amount_max"], "currency": p["currency"], "country": p["country"],
            "links": []})
    done = [0]
    _batched_create(Project, projects, "projects", report, done, len(projects))
    lap("projects")

    # --- jobs --------------------------------------------------------------------------------
    from recruitment.models import Job, Resume

    jobs = []
    deadline = timezone.localdate(now) + timedelta(days=60)
    for j in world.jobs:
        b = rng.randrange(plan.firms, plan.booths)
        booth, blang = booths[b], meta[b][0]
        lang = blang if blang in (*j["languages"], "ru") else (
            "zh" if "zh" in j["languages"] else "de" if "de" in j["languages"] else "en")
        title, description, place = _job_texts(rng, lang, j, booth, meta[b][1])
        lo = rng.randrange(30, 120) * 1000
        jobs.append({
            "booth_id": booth.pk, "title": title[:200], "description": description,
            "job_type": j["job_type"], "fields": j["fields"], "place": place[:120],
            "country": j["country"], "remote": j["remote"], "salary_min": lo,
            "salary_max": lo + rng.randrange(10, 60) * 1000,
            "currency": REGIONS[COUNTRY_REGION[j["country"]]][1], "languages": j["languages"],
            "deadline": deadline, "is_open": True})
    done = [0]
    _batched_create(Job, jobs, "jobs", report, done, len(jobs))
    lap("jobs")

    # --- résumés ----------------------------------------------------------------------------
    employers = [b.name for b in other_booths]
    schools = [b.name for b in other_booths if b.kind == Booth.Kind.UNIVERSITY] or employers
    resumes = [{"user_id": u, "data": _resume_data(rng, p["lang"], p["resume"], employers,
                                                   schools)}
               for u, p in zip(users[resume_start:], people[resume_start:], strict=True)]
    done = [0]
    _batched_create(Resume, resumes, "résumés", report, done, len(resumes))
    lap("résumés")

    # --- roadshows and forums ---------------------------------------------------------------
    staff_of: dict[int, tuple[int, str]] = {}
    for u, p in zip(users, people, strict=True):
        if "booth" in p:
            staff_of.setdefault(p["booth"].pk, (u, p["display"]))
    shows = _schedule(rng, now, halls, booths, meta, staff_of, plan)
    done = [0]
    _batched_create(Roadshow, shows, "roadshows", report, done, len(shows))
    hall_of_booth = {b.pk: b.hall_id for b in booths}
    insert(Room, [{"kind": Room.Kind.ROADSHOW, "roadshow_id": s.pk, "booth_id": s.booth_id,
                   "hall_id": hall_of_booth[s.booth_id], "title": s.title} for s in shows])
    lap("roadshows")

    # --- demo staff roles --------------------------------------------------------------------
    _demo_extras(demo_users, hall_of)

    # --- search index ---------------------------------------------------------------------
    from search.services.index import rebuild

    report("search index", 0, 1)
    entries = rebuild()
    report("search index", 1, 1)
    lap("search index")
    result.counts = {"organisations": len(booths), "people": len(users) + 2,
                     "investors": len(investors), "projects": len(projects), "jobs": len(jobs),
                     "résumés": len(resumes), "roadshows and forums": len(shows),
                     "search entries": entries}
    return result


def _headline(lang: str, profession: str) -> str:
    family, k = PROFESSIONS[profession], int(profession.rsplit("-", 1)[1])
    return W.TITLES[family][k][L[lang]]


def _thesis(lang: str, inv: dict) -> str:
    i = L[lang]
    stages = ", ".join(W.STAGE_WORDS[s][i] for s in inv["stages"])
    fld = W.FIELDS[inv["sector"]][i]
    countries = ", ".join(inv["countries"])
    lo, hi, cur = inv["ticket_min"], inv["ticket_max"], inv["currency"]
    return {
        "en": f"{fld}: {stages}; tickets {lo:,}-{hi:,} {cur}; {countries}.",
        "zh": f"投资方向：{fld}；阶段：{stages}；单笔投资{lo:,}-{hi:,} {cur}；地区：{countries}。",
        "ru": f"Направление: {fld}; стадии: {stages}; чек {lo:,}-{hi:,} {cur}; страны: "
              f"{countries}.",
        "de": f"Schwerpunkt {fld}; Phasen: {stages}; Tickets {lo:,}-{hi:,} {cur}; Länder: "
              f"{countries}.",
    }[lang]


def _project_texts(rng: random.Random, lang: str, p: dict, booth: Booth | None):
    i = L[lang]
    product = rng.choice(W.PRODUCTS[p["sector"]])[i]
    customer = rng.choice(W.CUSTOMERS)[i]
    stage = W.STAGE_WORDS[p["stage"]][i]
    who = booth.name if booth else ""
    if lang == "zh":
        title = f"面向{customer}的{product}"
        summary = f"项目阶段：{stage}。我们为{customer}提供{product}。"
        desc = f"{who}的项目团队正在寻找投资与合作伙伴，共同推广{product}。"
    elif lang == "ru":
        title = f"{product[:1].upper()}{product[1:]} для {customer}"
        summary = f"Стадия: {stage}. Мы создаём {product} для {customer}."
        desc = f"Команда {who} ищет инвесторов и партнёров для вывода продукта на рынок."
    elif lang == "de":
        title = f"{product[:1].upper()}{product[1:]} für {customer}"
        summary = f"Phase: {stage}. Wir bringen {product} zu {customer}."
        desc = f"Das Team {who} sucht Investoren und Partner für den Markteintritt."
    else:
        title = f"{product[:1].upper()}{product[1:]} for {customer}"
        summary = f"Stage: {stage}. We bring {product} to {customer}."
        desc = f"The team{' of ' + who if who else ''} is looking for investors and partners."
    return title, summary, desc


def _job_texts(rng: random.Random, lang: str, j: dict, booth: Booth, sector: str):
    i = L[lang]
    family, k = PROFESSIONS[j["profession"]], int(j["profession"].rsplit("-", 1)[1])
    title = W.TITLES[family][k][i] + W.JOB_TYPE_SUFFIX[j["job_type"]][i]
    product = rng.choice(W.PRODUCTS[sector])[i]
    study = W.STUDY[family][i]
    place = "" if j["remote"] and rng.random() < 0.5 else j["country"]
    where = place or {"en": "remote", "zh": "远程", "ru": "удалённо", "de": "remote"}[lang]
    description = {
        "en": f"{booth.name} is hiring: {title}, {where}. You will work on {product}. "
              f"Background in {study.lower()}.",
        "zh": f"{booth.name}招聘{title}，工作地点：{where}。"
              f"负责{product}相关工作，{study}背景优先。",
        "ru": f"{booth.name} ищет специалиста: {title}, {where}. Направление: {product}. "
              f"Образование: {study.lower()}.",
        "de": f"{booth.name} sucht: {title}, {where}. Sie arbeiten an {product}. "
              f"Hintergrund in {study}.",
    }[lang]
    return title, description, place


def _resume_data(rng: random.Random, lang: str, r: dict, employers: list[str],
                 schools: list[str]) -> dict:
    i = L[lang]
    family = PROFESSIONS[r["profession"]]
    title = _headline(lang, r["profession"])
    years = rng.randint(1, 20)
    end = 2026 - rng.randint(0, 2)
    summary = {"en": f"{title} with {years} years of experience.",
               "zh": f"{title}，{years}年工作经验。",
               "ru": f"{title}, опыт работы {years} лет.",
               "de": f"{title} mit {years} Jahren Berufserfahrung."}[lang]
    return {
        "summary": summary,
        "education": [{"school": rng.choice(schools), "degree": rng.choice(W.DEGREES)[i],
                       "field": W.STUDY[family][i], "start": str(end - years - 4),
                       "end": str(end - years)}],
        "experience": [{"employer": rng.choice(employers), "title": title,
                        "start": str(end - years), "end": "", "description": ""}],
        "skills": r["skills"], "job_types": r["job_types"], "places": [],
        "languages": [{"language": lang_, "level": ""} for lang_ in r["languages"]],
    }


def _schedule(rng, now, halls, booths, meta, staff_of, plan: Plan) -> list:
    """Four days of roadshows (one stage per hall, every half hour from 9:00 to 18:00) and
    forums (two a day per hall), each state set by ``now``."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now)
    by_hall: dict[int, list[int]] = {}
    for n, b in enumerate(booths):
        by_hall.setdefault(b.hall_id, []).append(n)
    slots = ROADSHOW_SLOTS
    shows = []
    for day in range(plan.days):
        date = today + timedelta(days=day - 1)
        for hall in halls:
            pool = by_hall.get(hall.pk)
            if not pool:
                continue
            for hour, minute in slots:
                n = rng.choice(pool)
                start = datetime.combine(date, dtime(hour, minute), tzinfo=tz).astimezone(UTC)
                shows.append(_show(rng, booths[n], meta[n][0], meta[n][1], start,
                                   timedelta(minutes=rng.choice([20, 25])), now, staff_of,
                                   forum=False))
            research = [n for n in pool if booths[n].kind in (Booth.Kind.UNIVERSITY,
                                                              Booth.Kind.INSTITUTE)] or pool
            for k in range(FORUMS_PER_HALL_DAY):
                n = rng.choice(research)
                start = datetime.combine(date, dtime(10 + 5 * k, 15), tzinfo=tz).astimezone(UTC)
                shows.append(_show(rng, booths[n], meta[n][0], meta[n][1], start,
                                   timedelta(minutes=90), now, staff_of, forum=True))
    return shows


def _show(rng, booth: Booth, lang: str, sector: str, start, length, now, staff_of, *,
          forum: bool) -> Roadshow:
    i = L[lang]
    product = rng.choice(W.PRODUCTS[sector])[i]
    fld = W.FIELDS[sector][i]
    if forum:
        title = {"en": f"Forum: the future of {fld.lower()}", "zh": f"{fld}发展论坛",
                 "ru": f"Форум «{fld}: взгляд в будущее»", "de": f"Forum: Zukunft der {fld}"}[lang]
    else:
        title = {"en": f"Live demo: {product}", "zh": f"产品发布：{product}",
                 "ru": f"Презентация: {product}", "de": f"Live-Vorführung: {product}"}[lang]
    presenter, presenter_name = staff_of.get(booth.pk, (None, ""))
    end = start + length
    state = (Roadshow.State.ENDED if end <= now else
             Roadshow.State.LIVE if start <= now else Roadshow.State.SCHEDULED)
    desc = {"en": f"{booth.name} presents, followed by Q&A in the chat.",
            "zh": f"{booth.name}现场演示，随后在聊天中答疑。",
            "ru": f"Выступление {booth.name}, затем вопросы в чате.",
            "de": f"{booth.name} präsentiert, danach Fragen im Chat."}[lang]
    return Roadshow(booth=booth, title=title[:200], description=desc, presenter_id=presenter,
                    presenter_name=presenter_name[:120], starts_at=start, ends_at=end,
                    state=state)


def _demo_extras(demo_users: dict, hall_of: dict) -> None:
    """The moderator and admin demo accounts (the exhibitor, visitor and investor are among the
    generated people)."""
    User = get_user_model()
    specs = {"moderator": ("Mia Moderator", True, False), "admin": ("Ada Admin", True, True)}
    for username, (display, is_staff, is_super) in specs.items():
        if User.objects.filter(username=username).exists():
            continue
        user = User.objects.create(username=username,
                                   password=make_password(demo_users[username]),
                                   is_staff=is_staff, is_superuser=is_super)
        Profile.objects.create(user=user, display_name=display, kind=Profile.Kind.MODERATOR)
        if not is_super:
            user.user_permissions.add(*Permission.objects.filter(
                content_type__app_label="booths").filter(
                Q(codename__startswith="view_")
                | Q(codename__in=["change_chatmessage", "delete_chatmessage", "change_room"])))


def expo_counts() -> dict[str, int]:
    """Rows per table of what the conference seed writes (for its report and tests)."""
    from docking.models import InvestorProfile, Project
    from recruitment.models import Job, Resume
    from search.models import Entry

    models = [Booth, Room, BoothStaff, Profile, Account, InvestorProfile, Project, Job, Resume,
              Roadshow, Entry, get_user_model()]
    return {m.__name__: m.objects.count() for m in models}


def world_ids(world: World) -> dict[str, list[int]]:
    """Database ids per item of the generator's ``world`` in an expo this module seeded: it
    writes each kind in the generator's order, so the n-th row by id is the n-th item
    (investors and candidates by their user ids). ``ValueError`` when the database's rows are
    not this world's (another seed or fraction)."""
    from docking.models import InvestorProfile, Project
    from recruitment.models import Job, Resume

    investors = list(InvestorProfile.objects.order_by("pk").values_list(
        "user_id", "fields", "stages", "ticket_min"))
    projects = list(Project.objects.order_by("pk").values_list("pk", "fields", "stage",
                                                               "amount_min"))
    jobs = list(Job.objects.order_by("pk").values_list("pk", "fields", "job_type"))
    resumes = list(Resume.objects.order_by("pk").values_list("user_id", "data"))
    checks = [
        ("investors", investors, world.investors,
         lambda row, i: list(row[1:]) == [i["fields"], i["stages"], i["ticket_min"]]),
        ("projects", projects, world.projects,
         lambda row, p: list(row[1:]) == [p["fields"], p["stage"], p["amount_min"]]),
        ("jobs", jobs, world.jobs, lambda row, j: list(row[1:]) == [j["fields"], j["job_type"]]),
        ("résumés", resumes, world.resumes,
         lambda row, r: (row[1] or {}).get("skills") == r["skills"]),
    ]
    for name, rows, items, same in checks:
        if len(rows) != len(items) or not all(map(same, rows, items)):
            raise ValueError(f"the database's {name} are not those of this seed and fraction "
                             f"({len(rows):,} rows, {len(items):,} expected): seed it with "
                             "seed_demo --scale conference --seed N --fraction F")
    return {"investors": [r[0] for r in investors], "projects": [r[0] for r in projects],
            "jobs": [r[0] for r in jobs], "candidates": [r[0] for r in resumes]}
