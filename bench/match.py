"""``python -m bench match``: how good the recommendations are, and how fast.

    python -m bench match [--size small|conference] [--seed 1] [--queries 300] [--json FILE]
    python -m bench match --seeded [--seed 1] [--fraction 1] [--database PATH|URL]

Builds a fresh expo in a temporary SQLite database with :mod:`bench.matchgen` (bulk inserts),
then for each kind of recommendation (projects for an investor, investors for a project, jobs
for a candidate, candidates for a job) asks three methods for ten items per query, in the same
run: Hallserver's matching (``docking.services.matching``), plain tag overlap (the most shared
tags, ties broken at random) and random picks (both under the same hard filters). It prints
precision@10 and recall@10 against the good matches as :mod:`bench.matchgen` defines them, the
best precision@10 and recall@10 possible (a query with three good matches has at most 0.3
precision@10; ten of more than ten cannot all fit its recall), and the time per
Hallserver list (p50, p95; one database read of the asking side included, index warm).

``--seeded`` scores an expo made by ``seed_demo --scale conference --seed N [--fraction F]``
instead (booths/conference.py writes the same generator's world, with names and texts around
it): the expo in ``--database`` (a SQLite file or a postgres:// URL, already seeded with that
seed and fraction), or a fresh SQLite database seeded by the command. The latent truth is
regenerated from the seed; the database's investors, projects, jobs and résumés are checked
against it, row by row, before any query.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from booths.matchgen import SIZES, Generator, World, good_job, good_project

K = 10


def setup_django(data_dir: Path) -> None:
    os.environ.pop("DATABASE_URL", None)
    os.environ["HALLSERVER_DATA_DIR"] = str(data_dir)
    os.environ["HALLSERVER_SQLITE_PATH"] = str(data_dir / "match.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hallserver.settings")
    # One index for the whole run, built before the timed lists.
    os.environ["HALLSERVER_MATCH_INDEX_TTL"] = "1e9"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def setup_seeded(data_dir: Path, database: str | None) -> None:
    """Django on ``database`` (a postgres:// URL or a SQLite path), or on a fresh SQLite file
    in ``data_dir`` when None."""
    os.environ["HALLSERVER_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    if database and "://" in database:
        os.environ["DATABASE_URL"] = database
    else:
        os.environ["HALLSERVER_SQLITE_PATH"] = database or str(data_dir / "seeded.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hallserver.settings")
    os.environ["HALLSERVER_MATCH_INDEX_TTL"] = "1e9"
    import django

    django.setup()
    if not database:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def load(world: World, size: dict, rng: random.Random) -> dict:
    """Write the generated expo; returns database ids per generated item."""
    from datetime import date

    from django.contrib.auth import get_user_model
    from django.db import transaction

    from accounts.models import Account
    from booths.models import Booth, Expo, Hall, Profile
    from docking.models import InvestorProfile, Project
    from recruitment.models import Job, Resume

    User = get_user_model()
    batch = 2000
    with transaction.atomic():
        expo = Expo.objects.create(name="Bench expo", slug="bench", starts_on=date(2026, 1, 1),
                                   ends_on=date(2027, 1, 1))
        halls = Hall.objects.bulk_create([Hall(expo=expo, name=f"Hall {i}", slug=f"h{i}")
                                          for i in range(10)])
        booths = Booth.objects.bulk_create(
            [Booth(hall=halls[i % 10], name=f"Org {i}", country="DE")
             for i in range(size["booths"])], batch_size=batch)

        def people(prefix: str, n: int):
            users = User.objects.bulk_create([User(username=f"{prefix}{i}", password="!")
                                              for i in range(n)], batch_size=batch)
            Profile.objects.bulk_create([Profile(user=u, display_name=u.username)
                                         for u in users], batch_size=batch)
            return users

        inv_users = people("inv", len(world.investors))
        InvestorProfile.objects.bulk_create([InvestorProfile(
            user=u, ticket_min=i["ticket_min"], ticket_max=i["ticket_max"],
            currency=i["currency"], stages=i["stages"], fields=i["fields"],
            countries=i["countries"]) for u, i in zip(inv_users, world.investors, strict=True)])
        owners = people("own", size["owners"])
        homes = [(rng.choice(booths), None) if rng.random() < 0.75 else (None, rng.choice(owners))
                 for _ in world.projects]
        projects = Project.objects.bulk_create([Project(
            booth=homes[n][0], owner=homes[n][1], title=f"Project {n}", fields=p["fields"],
            stage=p["stage"],
            seeking=p["seeking"], amount_min=p["amount_min"], amount_max=p["amount_max"],
            currency=p["currency"], country=p["country"]) for n, p in enumerate(world.projects)],
            batch_size=batch)
        jobs = Job.objects.bulk_create([Job(
            booth=rng.choice(booths), title=f"Job {n}", job_type=j["job_type"],
            fields=j["fields"], country=j["country"], remote=j["remote"],
            languages=j["languages"]) for n, j in enumerate(world.jobs)], batch_size=batch)
        cands = people("cand", len(world.resumes))
        Account.objects.bulk_create([Account(
            user=u, country=r["country"], languages=[], talent_search=r["talent_search"])
            for u, r in zip(cands, world.resumes, strict=True)], batch_size=batch)
        Resume.objects.bulk_create([Resume(user=u, data={
            "skills": r["skills"], "job_types": r["job_types"], "places": [],
            "languages": [{"language": lang, "level": ""} for lang in r["languages"]]})
            for u, r in zip(cands, world.resumes, strict=True)], batch_size=batch)
    return {"investors": [u.pk for u in inv_users], "projects": [p.pk for p in projects],
            "jobs": [j.pk for j in jobs], "candidates": [u.pk for u in cands]}


def overlap_top(query: list[str], items: list[list[str]], eligible: list[int],
                rng: random.Random) -> list[int]:
    """Plain tag overlap: the items sharing the most tags with the query."""
    q = set(query)
    scored = [(len(q & set(items[i])), rng.random(), i) for i in eligible]
    scored = [s for s in scored if s[0] > 0]
    scored.sort(reverse=True)
    return [i for _, _, i in scored[:K]]


def evaluate(world: World, ids: dict, queries: int, seed: int) -> list[dict]:
    from docking.models import InvestorProfile
    from docking.services import matching
    from recruitment.models import Job, Resume

    rng = random.Random(seed + 1)
    build = {}
    for kind in matching.BUILDERS:
        started = time.perf_counter()
        matching.index(kind)
        build[kind] = time.perf_counter() - started
    pos = {kind: {db: n for n, db in enumerate(ids[kind])} for kind in ids}
    invest_ok = [n for n, p in enumerate(world.projects) if "investment" in p["seeking"]]
    opted = [n for n, r in enumerate(world.resumes) if r["talent_search"]]
    all_inv = list(range(len(world.investors)))
    all_jobs = list(range(len(world.jobs)))

    def hall_projects(n):
        uid = ids["investors"][n]
        inv = InvestorProfile.objects.filter(user_id=uid).values().first()
        return [pos["projects"][r["id"]] for r in matching.projects_for_investor(
            inv, exclude_user=uid)]

    def hall_investors(n):
        return [pos["investors"][r["id"]] for r in matching.for_project(ids["projects"][n])]

    def hall_jobs(n):
        uid = ids["candidates"][n]
        row = Resume.objects.filter(user_id=uid).values(
            "data", "user__account__country", "user__account__languages",
            "user__account__interests").first()
        who = matching.candidate_of(row["data"], {
            "country": row["user__account__country"],
            "languages": row["user__account__languages"],
            "interests": row["user__account__interests"]})
        return [pos["jobs"][r["id"]] for r in matching.jobs_for_candidate(who)]

    def hall_candidates(n):
        job = Job.objects.filter(pk=ids["jobs"][n]).values(
            "fields", "job_type", "languages", "country", "remote").first()
        return [pos["candidates"][r["id"]] for r in matching.candidates_for_job(job)]

    kinds = [
        ("projects for an investor", world.investors, world.projects, invest_ok,
         lambda q, i: good_project(q, i), hall_projects, "fields", "fields", "projects"),
        ("investors for a project", world.projects, world.investors, all_inv,
         lambda q, i: good_project(i, q), hall_investors, "fields", "fields", "investors"),
        ("jobs for a candidate", world.resumes, world.jobs, all_jobs,
         lambda q, i: good_job(q, i), hall_jobs, "skills", "fields", "jobs"),
        ("candidates for a job", world.jobs, world.resumes, opted,
         lambda q, i: good_job(i, q), hall_candidates, "fields", "skills", "candidates"),
    ]
    rows = []
    for name, askers, items, eligible, good, hall, qkey, ikey, index_kind in kinds:
        order = list(range(len(askers)))
        rng.shuffle(order)
        chosen = []
        for n in order:
            if len(chosen) >= queries:
                break
            relevant = {i for i in eligible if good(askers[n], items[i])}
            if relevant:
                chosen.append((n, relevant))
        results = {"hallserver": [], "tag overlap": [], "random": []}
        times = []
        item_tags = [it[ikey] for it in items]
        for n, relevant in chosen:
            started = time.perf_counter()
            picked = hall(n)
            times.append(time.perf_counter() - started)
            results["hallserver"].append((picked, relevant))
            results["tag overlap"].append((overlap_top(askers[n][qkey], item_tags, eligible,
                                                       rng), relevant))
            results["random"].append((rng.sample(eligible, min(K, len(eligible))), relevant))
        ceiling = statistics.mean(min(K, len(r)) / len(r) for _, r in chosen) if chosen else 0
        p_ceiling = statistics.mean(min(K, len(r)) / K for _, r in chosen) if chosen else 0
        for method, lists in results.items():
            precision = [len(set(p[:K]) & r) / K for p, r in lists]
            recall = [len(set(p[:K]) & r) / len(r) for p, r in lists]
            row = {"kind": name, "method": method, "queries": len(lists),
                   "precision@10": round(statistics.mean(precision), 3) if lists else 0,
                   "recall@10": round(statistics.mean(recall), 3) if lists else 0,
                   "precision@10 ceiling": round(p_ceiling, 3),
                   "recall@10 ceiling": round(ceiling, 3),
                   "good per query": round(statistics.mean(len(r) for _, r in chosen), 1)
                   if chosen else 0}
            if method == "hallserver" and times:
                ms = sorted(t * 1000 for t in times)
                row["p50 ms"] = round(ms[len(ms) // 2], 2)
                row["p95 ms"] = round(ms[min(len(ms) - 1, int(len(ms) * 0.95))], 2)
                row["index build s"] = round(build[index_kind], 2)
            rows.append(row)
    return rows


def render(rows: list[dict], size: str, seed: int, counts: dict, setup_s: float) -> str:
    head = ["recommendation", "method", "queries", "good per query", "precision@10",
            "precision@10 ceiling", "recall@10", "recall@10 ceiling", "p50 ms", "p95 ms",
            "index build s"]
    lines = [f"### Matchmaking quality, size {size}, seed {seed}", "",
             "Expo: " + ", ".join(f"{v:,} {k}" for k, v in counts.items())
             + f"; generated and written in {setup_s:.0f} s.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append("| " + " | ".join(str(r.get(h if h != "recommendation" else "kind", ""))
                                       for h in head) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench match", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=300,
                        help="queries per kind of recommendation (default 300)")
    parser.add_argument("--json", dest="json_out", type=Path, default=None)
    parser.add_argument("--seeded", action="store_true",
                        help="score an expo seeded by seed_demo --scale conference")
    parser.add_argument("--fraction", type=float, default=1.0,
                        help="--seeded: the seed's --fraction (default 1)")
    parser.add_argument("--database", default=None,
                        help="--seeded: an already seeded SQLite file or postgres:// URL "
                             "(default: seed a fresh SQLite database)")
    args = parser.parse_args(argv)
    if args.seeded:
        return main_seeded(args)
    size = SIZES[args.size]
    with tempfile.TemporaryDirectory(prefix="bench-match-") as tmp:
        setup_django(Path(tmp))
        started = time.perf_counter()
        world = Generator(args.seed, size).world()
        ids = load(world, size, random.Random(args.seed))
        setup_s = time.perf_counter() - started
        counts = {"organisations": size["booths"], "projects": len(world.projects),
                  "investors": len(world.investors), "jobs": len(world.jobs),
                  "résumés": len(world.resumes)}
        rows = evaluate(world, ids, args.queries, args.seed)
    print(render(rows, args.size, args.seed, counts, setup_s), flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps({"size": args.size, "seed": args.seed,
                                             "counts": counts, "rows": rows}, indent=2))
    return 0


def main_seeded(args) -> int:
    label = "conference" if args.fraction == 1 else f"conference x {args.fraction:g}"
    with tempfile.TemporaryDirectory(prefix="bench-match-") as tmp:
        setup_seeded(Path(tmp), args.database)
        from booths.conference import conference_size, world_ids

        size = conference_size(args.fraction)
        started = time.perf_counter()
        if not args.database:
            from booths.seed import seed_demo

            seed_demo(scale="conference", seed=args.seed, fraction=args.fraction)
        world = Generator(args.seed, size).world()
        try:
            ids = world_ids(world)
        except ValueError as exc:
            sys.exit(f"bench match --seeded: {exc}")
        setup_s = time.perf_counter() - started
        counts = {"organisations": size["booths"], "projects": len(world.projects),
                  "investors": len(world.investors), "jobs": len(world.jobs),
                  "résumés": len(world.resumes)}
        rows = evaluate(world, ids, args.queries, args.seed)
    where = args.database or "a fresh SQLite database"
    text = render(rows, f"{label} (seeded: seed_demo --scale conference, {where})", args.seed,
                  counts, setup_s)
    print(text.replace("; generated and written in", "; seeded (or read) and checked in"),
          flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps({"size": label, "seed": args.seed, "seeded": True,
                                             "counts": counts, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
