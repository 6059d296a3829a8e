"""The catalogue search on a small generated expo: scripts without spaces, Cyrillic, German
compounds, typos, filters and facets, who may see what, and an index kept current by edits
and deletes. The same module runs on PostgreSQL from tests/test_search_postgres.py."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django.test import Client

from accounts.models import Account
from booths.models import Booth, BoothStaff, Expo, Hall, Profile
from docking.models import Project, Stage
from recruitment.models import Job, JobType, Resume
from search.services.query import search
from tests.recruitment_world import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def expo():
    fair = Expo.objects.create(name="Expo", slug="expo", starts_on=date(2026, 1, 1),
                               ends_on=date(2027, 1, 1))
    east = Hall.objects.create(expo=fair, name="East", slug="east")
    west = Hall.objects.create(expo=fair, name="West", slug="west")
    robots = Booth.objects.create(hall=east, name="Shenzhen Robotics", name_zh="深圳机器人科技",
                                  country="CN", kind=Booth.Kind.COMPANY,
                                  industry_tags=["robotics"],
                                  description="工业机器人与智能制造")
    optics = Booth.objects.create(hall=west, name="Оптика Сибирь", country="RU",
                                  kind=Booth.Kind.UNIVERSITY, industry_tags=["optics"],
                                  description="Лазерная оптика и фотоника")
    werk = Booth.objects.create(hall=west, name="Werkzeugbau Müller", country="DE",
                                kind=Booth.Kind.COMPANY, industry_tags=["manufacturing"],
                                description="Präzisionswerkzeugmaschinenbau seit 1950")
    staff = make_user("staff", "Stella Staff", Profile.Kind.EXHIBITOR)
    BoothStaff.objects.create(booth=robots, user=staff)
    jobs = {
        "engineer": Job.objects.create(booth=robots, title="Machine Learning Engineer",
                                       description="Train perception models for robots",
                                       job_type=JobType.FULL_TIME, fields=["robotics"],
                                       country="CN"),
        "closed": Job.objects.create(booth=robots, title="Secret Hardware Engineer",
                                     job_type=JobType.FULL_TIME, fields=["robotics"],
                                     country="CN", is_open=False),
        "laser": Job.objects.create(booth=optics, title="Инженер-оптик",
                                    description="Разработка лазерных систем",
                                    job_type=JobType.POSTDOC, fields=["optics"],
                                    country="RU"),
        "werk": Job.objects.create(booth=werk, title="Maschinenbauingenieur (m/w/d)",
                                   description="Konstruktion von Werkzeugmaschinen",
                                   job_type=JobType.FULL_TIME, fields=["manufacturing"],
                                   country="DE"),
    }
    project = Project.objects.create(booth=werk, title="Smart Werkzeug", stage=Stage.GROWTH,
                                     summary="Sensoren für Werkzeugmaschinen",
                                     fields=["manufacturing"], country="DE")
    open_person = make_user("opento", "Olga Open")
    Account.objects.create(user=open_person, talent_search=True)
    Resume.objects.create(user=open_person, data={"name": "Olga Open",
                                                  "skills": ["quantum photonics"]})
    hidden = make_user("hidden", "Hans Hidden")
    Account.objects.create(user=hidden, talent_search=False)
    Resume.objects.create(user=hidden, data={"name": "Hans Hidden",
                                             "skills": ["quantum photonics"]})
    return {"robots": robots, "optics": optics, "werk": werk, "staff": staff, "jobs": jobs,
            "project": project, "open": open_person, "hidden": hidden,
            "visitor": make_user("vera", "Vera Visitor")}


def hits(page) -> set[tuple[str, int]]:
    return {(r["kind"], r["id"]) for r in page["results"]}


def test_chinese_query_finds_the_chinese_named_booth(expo):
    page = search(AnonymousUser(), "机器人")
    assert ("booth", expo["robots"].pk) in hits(page)
    booth = next(r for r in page["results"] if r["kind"] == "booth")
    assert "<mark>机器人</mark>" in booth["title_html"]


def test_two_character_chinese_query(expo):
    assert ("booth", expo["robots"].pk) in hits(search(AnonymousUser(), "深圳"))


def test_russian_query_any_case(expo):
    page = search(AnonymousUser(), "ЛАЗЕРН")
    assert hits(page) == {("booth", expo["optics"].pk), ("job", expo["jobs"]["laser"].pk)}
    assert not page["typo"]


def test_german_compound_part(expo):
    page = search(AnonymousUser(), "maschinenbau")
    assert ("job", expo["jobs"]["werk"].pk) in hits(page)
    assert ("booth", expo["werk"].pk) in hits(page)


def test_typo_still_finds_the_job(expo):
    page = search(AnonymousUser(), "Machne Lerning")
    assert page["typo"]
    assert ("job", expo["jobs"]["engineer"].pk) in hits(page)


def test_several_words_must_all_match(expo):
    assert hits(search(AnonymousUser(), "perception robots")) == {
        ("job", expo["jobs"]["engineer"].pk)}


def test_filters_and_facets_agree_with_results(expo):
    everything = search(AnonymousUser(), "", limit=50)
    assert sum(everything["facets"]["kind"].values()) == everything["count"] == len(
        everything["results"])
    for kind, number in everything["facets"]["kind"].items():
        assert search(AnonymousUser(), "", kind=kind, limit=50)["count"] == number
    for country, number in everything["facets"]["country"].items():
        page = search(AnonymousUser(), "", country=country, limit=50)
        assert page["count"] == number
        assert {r["country"] for r in page["results"]} == {country}
    german = search(AnonymousUser(), "werkzeug", country="de", limit=50)
    assert hits(german) == {("booth", expo["werk"].pk), ("job", expo["jobs"]["werk"].pk),
                            ("project", expo["project"].pk)}
    assert german["facets"]["kind"] == {"booth": 1, "job": 1, "project": 1}
    assert hits(search(AnonymousUser(), "", tag="optics", job_type="postdoc")) == {
        ("job", expo["jobs"]["laser"].pk)}
    assert hits(search(AnonymousUser(), "", stage="growth", kind="project")) == {
        ("project", expo["project"].pk)}
    east = search(AnonymousUser(), "", hall=expo["robots"].hall_id, limit=50)
    assert {r["hall"] for r in east["results"]} == {expo["robots"].hall_id}


def test_paging(expo):
    first = search(AnonymousUser(), "", limit=2)
    second = search(AnonymousUser(), "", offset=2, limit=2)
    assert first["count"] == second["count"] > 4
    assert not hits(first) & hits(second)


def test_closed_job_and_private_resume_never_returned(expo):
    closed = ("job", expo["jobs"]["closed"].pk)
    for viewer in (AnonymousUser(), expo["visitor"], expo["staff"]):
        assert closed not in hits(search(viewer, "Secret Hardware"))
        assert ("resume", expo["hidden"].pk) not in hits(search(viewer, "photonics"))
    # Résumés of people who opted in: booth staff only.
    assert ("resume", expo["open"].pk) in hits(search(expo["staff"], "photonics"))
    assert ("resume", expo["open"].pk) not in hits(search(expo["visitor"], "photonics"))
    assert search(expo["visitor"], "", kind="resume")["count"] == 0


def test_current_after_edit_delete_and_opt_out(expo):
    job = expo["jobs"]["engineer"]
    job.title = "Роботехник"
    job.save()
    assert ("job", job.pk) in hits(search(AnonymousUser(), "роботех"))
    assert ("job", job.pk) not in hits(search(AnonymousUser(), "Machine Learning"))
    job.is_open = False
    job.save(update_fields=["is_open"])
    assert ("job", job.pk) not in hits(search(AnonymousUser(), "роботех"))
    expo["werk"].delete()
    assert search(AnonymousUser(), "maschinenbau")["count"] == 0
    account = Account.objects.get(user=expo["open"])
    account.talent_search = False
    account.save()
    assert ("resume", expo["open"].pk) not in hits(search(expo["staff"], "photonics"))


def test_a_rolled_back_edit_leaves_the_index_as_it_was(expo):
    booth = expo["optics"]
    with pytest.raises(RuntimeError), transaction.atomic():
        booth.name = "Quasar Optics"
        booth.save()
        assert ("booth", booth.pk) in hits(search(AnonymousUser(), "quasar"))
        raise RuntimeError
    assert search(AnonymousUser(), "quasar")["count"] == 0


def test_snippets_are_escaped(expo):
    Booth.objects.create(hall=expo["robots"].hall, name="<script>alert(1)</script> Labs",
                         country="FR", description="<b>bold</b> claims about lasers")
    page = search(AnonymousUser(), "script")
    result = page["results"][0]
    assert "<script>" not in result["title_html"]
    assert "&lt;<mark>script</mark>&gt;" in result["title_html"]
    page = search(AnonymousUser(), "bold")
    assert "&lt;b&gt;<mark>bold</mark>&lt;/b&gt;" in page["results"][0]["snippet_html"]


def test_api_search_and_bad_filters(expo):
    client = Client()
    answer = client.get("/api/search", {"q": "机器人", "kind": "booth"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 1 and body["results"][0]["id"] == expo["robots"].pk
    assert body["facets"]["kind"] == {"booth": 1}
    refused = client.get("/api/search", {"kind": "nonsense"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "query.invalid"
    too_many = client.get("/api/search", {"limit": 500})
    assert too_many.status_code == 400
    assert too_many.json()["error"]["code"] == "query.invalid"


def test_database_vendor_is_reported(expo):
    # Which side this run covers (tests/test_search_postgres.py runs this module again).
    assert connection.vendor in ("sqlite", "postgresql")


def test_query_without_diacritics_finds_the_accented_record(expo):
    for q in ("muller", "MÜLLER", "müller", "praZisions"):
        page = search(AnonymousUser(), q)
        assert ("booth", expo["werk"].pk) in hits(page), q
        assert not page["typo"]
    booth = next(r for r in search(AnonymousUser(), "muller")["results"] if r["kind"] == "booth")
    assert booth["title_html"] == "Werkzeugbau <mark>Müller</mark>"
    # ß folds to ss, Cyrillic ё to its plain letter: either spelling finds the other.
    street = Booth.objects.create(hall=expo["robots"].hall, name="Straßenbau Ёлкин",
                                  country="DE")
    assert ("booth", street.pk) in hits(search(AnonymousUser(), "strassenbau елкин"))
    assert ("booth", street.pk) in hits(search(AnonymousUser(), "STRAẞENBAU"))


def test_misspelt_russian_and_german_words(expo):
    page = search(AnonymousUser(), "инжинер")
    assert page["typo"] and ("job", expo["jobs"]["laser"].pk) in hits(page)
    assert "<mark>Инженер</mark>" in next(r["title_html"] for r in page["results"]
                                           if r["kind"] == "job")
    page = search(AnonymousUser(), "Werkzeugbua")  # two letters swapped
    assert page["typo"] and ("booth", expo["werk"].pk) in hits(page)
    # A word new to the vocabulary is there for the typo step as soon as it is saved.
    Booth.objects.create(hall=expo["robots"].hall, name="Quasarium Labs", country="FR")
    page = search(AnonymousUser(), "quazarium")
    assert page["typo"] and [r["title"] for r in page["results"]] == ["Quasarium Labs"]
    # Too far from every word: nothing, rather than anything.
    assert search(AnonymousUser(), "xylophonium")["count"] == 0


def test_one_and_two_character_words(expo):
    assert ("booth", expo["robots"].pk) in hits(search(AnonymousUser(), "深"))
    page = search(AnonymousUser(), "智能 制造")
    assert hits(page) == {("booth", expo["robots"].pk)}
    assert "<mark>智能</mark>" in page["results"][0]["snippet_html"]
    assert hits(search(AnonymousUser(), "ml robots")) == set()
    assert ("job", expo["jobs"]["engineer"].pk) in hits(search(AnonymousUser(), "ng engineer"))


def test_ranking_title_start_then_title_then_text(expo):
    page = search(AnonymousUser(), "werkzeug")
    assert [(r["kind"], r["id"]) for r in page["results"]] == [
        ("booth", expo["werk"].pk), ("project", expo["project"].pk),
        ("job", expo["jobs"]["werk"].pk)]


@pytest.mark.parametrize("q", ["", "engineer", "maschinenbau", "photonics", "машин"])
def test_facets_equal_the_counts_of_the_filtered_results(expo, q):
    staff = expo["staff"]
    page = search(staff, q, limit=50)
    assert len(page["results"]) == page["count"]
    for name, counts in page["facets"].items():
        assert sum(counts.values()) <= page["count"]
        for value, number in counts.items():
            narrowed = search(staff, q, limit=50, **{name: int(value) if name == "hall"
                                                     else value})
            assert narrowed["count"] == number, (name, value)
            assert sum(1 for r in page["results"] if str(r[name]) == value) == number
            # Facets of the narrowed search still add up to its count.
            assert sum(narrowed["facets"]["kind"].values()) == narrowed["count"]
