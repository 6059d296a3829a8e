"""``python -m bench search``: catalogue search latency, per database, against a naive
``icontains`` search in the same run.

    python -m bench search [--scale 1.0] [--repeat 5] [--databases sqlite,postgresql]

At ``--scale 1`` each side gets a generated expo of the conference's size for the searchable
tables (5,000 booths, 30,000 jobs, 3,200 projects, 90,000 résumés; bulk_create, then
``search_rebuild``), in a fresh SQLite file or a fresh PostgreSQL database
(``HALLSERVER_BENCH_POSTGRES_URL``, default postgres://postgres@127.0.0.1:5432/postgres, which
must allow CREATE DATABASE). Each query of :data:`QUERIES` (one to three words in English,
Chinese, Russian and German, some misspelt) runs ``--repeat`` times through the search service
with facets, as booth staff (so résumés are searched too), and through a naive search: one
``icontains`` per searchable column and a count per kind. Prints p50/p95/p99 in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = {"booths": 5000, "jobs": 30_000, "projects": 3200, "resumes": 90_000}
QUERIES = [
    "robotics", "machine learning", "battery storage system", "machne lerning", "robtics",
    "机器人", "人工智能", "新能源 电池",
    "лазерная оптика", "инженер", "инжинер",
    "maschinenbau", "werkzeug", "maschienenbau",
]


def _split(words: str) -> list[str]:
    return words.split()


WORDS = {
    "en": _split("robotics machine learning battery storage system engineer vision sensor cloud "
                 "analytics research lab solar grid medical imaging data platform"),
    "zh": _split("机器人 人工智能 新能源 电池 储能 芯片 医疗 影像 数据 平台 工程师 研究院"),
    "ru": _split("лазерная оптика инженер фотоника исследование системы энергия данные "
                 "разработка материалы"),
    "de": _split("maschinenbau werkzeug werkzeugmaschinen ingenieur forschung energiespeicher "
                 "sensorik datenplattform fertigung"),
}
COUNTRIES = {"en": "US", "zh": "CN", "ru": "RU", "de": "DE"}
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"


#: Share of generated words taken from :data:`WORDS` (the words the queries look for); the
#: rest are made-up words, so that a query word is in a few per cent of the records, as in a
#: real catalogue, rather than in every fourth.
THEME_SHARE = 0.04
SYLLABLES = {
    "en": _split("ta ro mi ne ka lo ve sa tor ing ex al pro con ent"),
    "zh": _split("华 科 技 术 通 信 新 材 料 制 造 服 务 生 物 光 电"),
    "ru": _split("ка ро ми не ло ве са тор ние ст пр ов ен ал"),  # noqa: RUF001
    "de": _split("ba ro mi ne ka lo ve sa ter ung ein al pro kon ent"),
}


def _word(rng: random.Random, lang: str) -> str:
    if rng.random() < THEME_SHARE:
        return rng.choice(WORDS[lang])
    return "".join(rng.choice(SYLLABLES[lang]) for _ in range(rng.randint(2, 4)))


def _text(rng: random.Random, lang: str, n: int) -> str:
    sep = "" if lang == "zh" else " "
    return sep.join(_word(rng, lang) for _ in range(n))


def generate(scale: float, seed: int = 7) -> dict:
    """The expo, written with bulk_create; returns a booth staff user."""
    from datetime import date

    from django.contrib.auth import get_user_model

    from accounts.models import Account
    from booths.models import Booth, BoothStaff, Expo, Hall
    from docking.models import Project, Stage
    from recruitment.models import Job, JobType, Resume

    rng = random.Random(seed)
    langs = list(WORDS)
    size = {k: max(10, int(v * scale)) for k, v in SIZES.items()}
    expo = Expo.objects.create(name="Bench", slug="bench", starts_on=date(2026, 1, 1),
                               ends_on=date(2027, 1, 1))
    halls = Hall.objects.bulk_create(
        [Hall(expo=expo, name=f"Hall {i}", slug=f"h{i}") for i in range(10)])
    booths = []
    for i in range(size["booths"]):
        lang = langs[i % 4]
        booths.append(Booth(hall=halls[i % 10], name=_text(rng, lang, 2) + f" {i}",
                            name_zh=_text(rng, "zh", 2) if lang == "zh" else "",
                            country=COUNTRIES[lang], industry_tags=[rng.choice(WORDS["en"])],
                            description=_text(rng, lang, 20)))
    booths = Booth.objects.bulk_create(booths, batch_size=2000)
    jobs = []
    for i in range(size["jobs"]):
        lang, booth = langs[i % 4], booths[i % len(booths)]
        jobs.append(Job(booth=booth, title=_text(rng, lang, 3), description=_text(rng, lang, 60),
                        job_type=rng.choice(list(JobType)), fields=[rng.choice(WORDS["en"])],
                        country=COUNTRIES[lang], is_open=rng.random() > 0.1))
    Job.objects.bulk_create(jobs, batch_size=2000)
    Project.objects.bulk_create(
        [Project(booth=booths[i % len(booths)], title=_text(rng, langs[i % 4], 3),
                 summary=_text(rng, langs[i % 4], 15), description=_text(rng, langs[i % 4], 60),
                 fields=[rng.choice(WORDS["en"])], stage=rng.choice(list(Stage)),
                 country=COUNTRIES[langs[i % 4]]) for i in range(size["projects"])],
        batch_size=2000)
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"bench{i}") for i in range(size["resumes"] + 1)],
        batch_size=5000)
    staff, people = users[0], users[1:]
    BoothStaff.objects.create(booth=booths[0], user=staff)
    Account.objects.bulk_create(
        [Account(user=u, talent_search=rng.random() > 0.5) for u in people], batch_size=5000)
    Resume.objects.bulk_create(
        [Resume(user=u, data={"name": f"Person {u.pk}", "skills": [_text(rng, lang, 1)
                                                                    for _ in range(3)]},
                pdf_text=_text(rng, lang, 80))
         for u, lang in ((u, langs[n % 4]) for n, u in enumerate(people))], batch_size=5000)
    return {"staff": staff, "size": size}


def naive(q: str) -> int:
    """The search as a plain icontains per column: what the catalogue would do without one."""
    from django.db.models import Q

    from booths.models import Booth
    from docking.models import Project
    from recruitment.models import Job, Resume

    total = Booth.objects.filter(Q(name__icontains=q) | Q(name_zh__icontains=q)
                                 | Q(description__icontains=q)).count()
    total += Job.objects.filter(Q(title__icontains=q) | Q(description__icontains=q),
                                is_open=True).count()
    total += Project.objects.filter(Q(title__icontains=q) | Q(summary__icontains=q)
                                    | Q(description__icontains=q)).count()
    total += Resume.objects.filter(Q(pdf_text__icontains=q) | Q(data__icontains=q),
                                   user__account__talent_search=True).count()
    list(Job.objects.filter(title__icontains=q, is_open=True)[:20])
    return total


def _pcts(values: list[float]) -> dict:
    ordered = sorted(values)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": cut[49], "p95": cut[94], "p99": cut[98], "n": len(values)}


def child(scale: float, repeat: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hallserver.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from search.services.index import rebuild
    from search.services.query import search

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    world = generate(scale)
    entries = rebuild()
    load = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    timings = {"search": [], "naive": []}
    per_query = {}
    for q in QUERIES:
        search(world["staff"], q)  # warm
        for _ in range(repeat):
            t0 = time.perf_counter()
            page = search(world["staff"], q)
            timings["search"].append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            naive(q)
            timings["naive"].append((time.perf_counter() - t0) * 1000)
        per_query[q] = {"count": page["count"], "typo": page["typo"]}
    return {"vendor": connection.vendor, "entries": entries, "size": world["size"],
            "load_s": round(load, 1), "search": _pcts(timings["search"]),
            "naive": _pcts(timings["naive"]), "queries": per_query}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench search")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.scale, args.repeat)))
        return 0
    rows = []
    root = Path(__file__).resolve().parent.parent
    for vendor in args.databases.split(","):
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        admin = name = None
        with tempfile.TemporaryDirectory() as work:
            if vendor == "postgresql":
                import psycopg

                url = os.environ.get("HALLSERVER_BENCH_POSTGRES_URL", DEFAULT_PG)
                admin = psycopg.connect(url, autocommit=True)
                name = f"hallserver_bench_search_{os.getpid()}"
                admin.execute(f'CREATE DATABASE "{name}"')
                env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
            else:
                env["HALLSERVER_SQLITE_PATH"] = str(Path(work) / "bench.sqlite3")
            env["HALLSERVER_DATA_DIR"] = work
            try:
                run = subprocess.run(
                    [sys.executable, "-m", "bench", "search", "--child", "--scale",
                     str(args.scale), "--repeat", str(args.repeat)],
                    cwd=root, env=env, capture_output=True, text=True, check=True)
            finally:
                if admin is not None:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    admin.close()
        rows.append(json.loads(run.stdout.strip().splitlines()[-1]))
    print("| database | entries | load s | search p50 / p95 / p99 ms | naive icontains "
          "p50 / p95 / p99 ms |\n|---|---|---|---|---|")
    for r in rows:
        s, n = r["search"], r["naive"]
        print(f"| {r['vendor']} | {r['entries']} | {r['load_s']} | {s['p50']:.1f} / "
              f"{s['p95']:.1f} / {s['p99']:.1f} | {n['p50']:.1f} / {n['p95']:.1f} / "
              f"{n['p99']:.1f} |")
    print()
    print("| query | " + " | ".join(f"{r['vendor']} matches" for r in rows) + " |")
    print("|---|" + "---|" * len(rows))
    for q in QUERIES:
        print(f"| {q} | " + " | ".join(
            f"{r['queries'][q]['count']}{' (typo)' if r['queries'][q]['typo'] else ''}"
            for r in rows) + " |")
    return 0
