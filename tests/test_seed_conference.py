"""``seed_demo --scale conference`` at a small fraction: the same seed gives the same expo,
every table gets its share, four languages, the search finds a Chinese-named booth, the
matchmaking generator's good matches come back among the recommendations, and the command
refuses to seed over an expo and reports its progress. tests/test_seed_conference_postgres.py
runs this module again on PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, time
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import Account
from booths.conference import PERSON_PASSWORD, Plan, conference_size, world_ids
from booths.matchgen import Generator, good_job, good_project
from booths.models import Booth, BoothStaff, Expo, Hall, Profile, Roadshow, Room
from booths.seed import seed_demo
from docking.models import InvestorProfile, Project
from recruitment.models import Job, Resume
from search.models import Entry

pytestmark = pytest.mark.django_db

FRACTION = 0.01
HAN = re.compile(r"[\u4e00-\u9fff]")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def noon() -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(), time(12, 10)))


def digest() -> str:
    """The expo's content, without ids or timestamps (the second seed has other ids)."""
    user = dict(get_user_model().objects.values_list("pk", "username"))
    booth = dict(Booth.objects.values_list("pk", "name"))
    parts = [
        list(Booth.objects.order_by("pk").values_list(
            "name", "name_zh", "kind", "country", "industry_tags", "description", "hall__slug")),
        [(user[u], *rest) for u, *rest in Profile.objects.order_by("pk").values_list(
            "user_id", "display_name", "kind", "organisation")],
        [(user[u], *rest) for u, *rest in Account.objects.order_by("pk").values_list(
            "user_id", "country", "languages", "headline", "talent_search")],
        [(user[u], booth[b], t) for u, b, t in BoothStaff.objects.order_by("pk").values_list(
            "user_id", "booth_id", "title")],
        [(user[u], *rest) for u, *rest in InvestorProfile.objects.order_by("pk").values_list(
            "user_id", "fields", "stages", "countries", "ticket_min", "ticket_max", "thesis")],
        [(booth.get(b), user.get(o), *rest) for b, o, *rest in Project.objects.order_by("pk")
         .values_list("booth_id", "owner_id", "title", "summary", "fields", "stage",
                      "amount_min", "currency", "country")],
        [(booth[b], *rest) for b, *rest in Job.objects.order_by("pk").values_list(
            "booth_id", "title", "description", "fields", "job_type", "languages", "place")],
        [(user[u], d) for u, d in Resume.objects.order_by("pk").values_list("user_id", "data")],
        [(booth[b], user.get(p), *rest) for b, p, *rest in Roadshow.objects.order_by("pk")
         .values_list("booth_id", "presenter_id", "title", "starts_at", "state")],
        sorted(Entry.objects.values_list("kind", "title", "text", "listed")),
    ]
    return hashlib.sha256(json.dumps(parts, default=str, ensure_ascii=False)
                          .encode()).hexdigest()


def wipe() -> None:
    Expo.objects.all().delete()
    get_user_model().objects.all().delete()
    Entry.objects.all().delete()


def seed(seed: int = 1):
    return seed_demo(now=noon(), scale="conference", seed=seed, fraction=FRACTION)


def test_the_same_seed_gives_the_same_expo_and_another_seed_another():
    seed(5)
    first = digest()
    wipe()
    seed(5)
    assert digest() == first
    wipe()
    seed(6)
    assert digest() != first


def test_every_table_gets_its_share():
    report = seed()
    size = conference_size(FRACTION)
    plan = Plan.of(size)
    world = Generator(1, size).world()
    User = get_user_model()

    assert Hall.objects.count() == 6 and Booth.objects.count() == size["booths"] == 50
    assert all(Booth.objects.filter(hall=h).exists() for h in Hall.objects.all())
    assert Booth.objects.filter(kind=Booth.Kind.INVESTOR).count() == size["firms"]
    assert {b.kind for b in Booth.objects.all()} == set(Booth.Kind.values)
    assert User.objects.count() == plan.people + 2  # + the moderator and the admin
    assert Profile.objects.count() == User.objects.count()
    assert Account.objects.count() == plan.people
    assert plan.people == plan.staff + 12 + 10 + 900 + 1
    assert BoothStaff.objects.count() == plan.staff
    assert InvestorProfile.objects.count() == len(world.investors)
    assert Project.objects.count() == len(world.projects) >= size["projects"]
    assert Project.objects.filter(owner__isnull=False).exists()
    assert Job.objects.count() == size["jobs"] == 300
    assert Resume.objects.count() == size["resumes"] == 900
    forums = Roadshow.objects.filter(title__icontains="forum").count() + Roadshow.objects.filter(
        title__contains="论坛").count() + Roadshow.objects.filter(title__contains="Форум").count()
    assert forums == 6 * 4 * 2  # two a day per hall, over the expo's four days
    assert Roadshow.objects.filter(state=Roadshow.State.LIVE).exists()
    assert Roadshow.objects.filter(state=Roadshow.State.ENDED).exists()
    assert Roadshow.objects.filter(state=Roadshow.State.SCHEDULED).exists()
    assert not Roadshow.objects.filter(presenter__isnull=True).exists()
    for kind, n in [(Room.Kind.BOOTH, 50), (Room.Kind.STAFF, 50), (Room.Kind.LOBBY, 6),
                    (Room.Kind.ROADSHOW, Roadshow.objects.count())]:
        assert Room.objects.filter(kind=kind).count() == n, kind
    assert not Booth.objects.filter(room__isnull=True).exists()
    assert Entry.objects.count() == 50 + 300 + len(world.projects) + 900
    assert report.counts["résumés"] == 900 and report.timings["search index"] >= 0


def test_names_and_texts_in_four_languages_and_search_finds_chinese():
    seed()
    booths = list(Booth.objects.all())
    chinese = [b for b in booths if HAN.search(b.name_zh)]
    russian = [b for b in booths if CYRILLIC.search(b.name)]
    german = [b for b in booths if re.search(r"\b(entwickelt|forscht|investiert)\b",
                                             b.description)]
    english = [b for b in booths if re.search(r"\b(develops|researches|invests)\b",
                                              b.description)]
    assert chinese and russian and german and english
    assert Job.objects.filter(title__regex=r"[\u4e00-\u9fff]").exists()
    assert any(CYRILLIC.search(p.display_name) for p in Profile.objects.all())
    assert any(HAN.search(r.data["summary"]) for r in Resume.objects.all())

    from search.services.query import search

    target = chinese[0]
    word = HAN.findall(target.name_zh)
    query = "".join(word[:4])
    page = search(AnonymousUser(), query, kind="booth", limit=100)
    assert ("booth", target.pk) in {(r["kind"], r["id"]) for r in page["results"]}


def test_planted_matches_come_back_among_the_recommendations():
    from docking.services import matching

    seed()
    world = Generator(1, conference_size(FRACTION)).world()
    ids = world_ids(world)
    matching.changed(*matching.BUILDERS)
    planted = [n for n, inv in enumerate(world.investors) if inv.get("planted")]
    assert planted
    for n in planted:
        uid = ids["investors"][n]
        good = {ids["projects"][k] for k, p in enumerate(world.projects)
                if good_project(world.investors[n], p)}
        inv = InvestorProfile.objects.filter(user_id=uid).values().first()
        top = {r["id"] for r in matching.projects_for_investor(inv, exclude_user=uid)}
        assert top & good, n
    # And jobs for candidates: most candidates with good jobs see one in their ten.
    hits = asked = 0
    for k, r in enumerate(world.resumes[:60]):
        good = {ids["jobs"][j] for j, job in enumerate(world.jobs) if good_job(r, job)}
        if not good:
            continue
        row = Resume.objects.filter(user_id=ids["candidates"][k]).values(
            "data", "user__account__country", "user__account__languages",
            "user__account__interests").first()
        who = matching.candidate_of(row["data"], {
            "country": row["user__account__country"],
            "languages": row["user__account__languages"],
            "interests": row["user__account__interests"]})
        asked += 1
        hits += bool({j["id"] for j in matching.jobs_for_candidate(who)} & good)
    assert asked and hits >= asked * 0.8


def test_world_ids_refuse_another_seed():
    seed()
    with pytest.raises(ValueError, match="not those of this seed"):
        world_ids(Generator(2, conference_size(FRACTION)).world())


def test_demo_and_generated_accounts_sign_in():
    report = seed()
    names = {a.username for a in report.accounts}
    assert {"visitor", "exhibitor", "moderator", "admin", "investor"} <= names
    for account in report.accounts:
        assert authenticate(None, username=account.username, password=account.password)
    assert get_user_model().objects.filter(username="visitor", profile__kind="visitor").exists()
    assert Resume.objects.filter(user__username="cand0").exists()
    assert InvestorProfile.objects.filter(user__username="investor").exists()
    assert BoothStaff.objects.get(user__username="exhibitor").title == "Sales lead"
    someone = get_user_model().objects.filter(username__startswith="team").first()
    assert authenticate(None, username=someone.username, password=PERSON_PASSWORD)


def test_the_command_reports_progress_and_refuses_to_seed_over_an_expo():
    out = StringIO()
    call_command("seed_demo", "--scale", "conference", "--fraction", str(FRACTION),
                 "--seed", "3", stdout=out)
    text = out.getvalue()
    for step in ("booths", "people", "projects", "jobs", "résumés", "roadshows",
                 "search index"):
        assert re.search(rf"  {step}: [\d,]+/[\d,]+ \(100 %\)", text), step
    assert "Seeded expo 'demo-expo': 6 halls, 50 booths" in text
    assert "900 résumés" in text and "time: " in text
    before = Booth.objects.count(), get_user_model().objects.count()

    again = StringIO()
    call_command("seed_demo", "--scale", "conference", "--fraction", str(FRACTION),
                 stdout=again)
    assert "already exists" in again.getvalue() and "nothing was changed" in again.getvalue()
    assert (Booth.objects.count(), get_user_model().objects.count()) == before


@pytest.mark.parametrize("args, message", [
    (["--scale", "conference", "--fraction", "0"], "fraction"),
    (["--scale", "conference", "--fraction", "1.5"], "fraction"),
    (["--scale", "demo", "--fraction", "0.5"], "conference scale only"),
    (["--scale", "conference", "--booths-per-hall", "3"], "use fraction"),
])
def test_bad_options_are_refused_before_writing(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed_demo", *args, stdout=StringIO())
    assert Expo.objects.count() == 0


def test_the_demo_scale_is_unchanged_by_a_seed_option():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert Booth.objects.count() == 72 and Job.objects.count() == 0
    assert not Resume.objects.exists()
