"""Matchmaking (docking/services/matching.py): the reasons, the hard filters, each kind of list,
and the index that a list never waits for once built."""

from __future__ import annotations

import pytest

from accounts.models import Account
from docking.models import InvestorProfile, Project
from docking.services import matching
from recruitment.models import Job, Resume
from tests.docking_world import make_docking_world
from tests.recruitment_world import make_user


@pytest.fixture
def world():
    return make_docking_world()


@pytest.mark.django_db
def test_projects_for_an_investor_rank_the_fit_first_and_explain(world):
    near = Project.objects.create(  # the investor's tags, the wrong stage and country
        owner=world["walt"], title="Robot arms", fields=["robotics", "logistics"],
        stage="idea", seeking=["investment"], country="US")
    Project.objects.create(owner=world["walt"], title="Robot toys", fields=["robotics"],
                           stage="growth", seeking=["partners"], country="DE")
    matching.changed()
    inv = InvestorProfile.objects.filter(user=world["ida"]).values().first()
    picks = matching.projects_for_investor(inv)
    assert [p["id"] for p in picks] == [world["robot"].pk, near.pk]  # no investment: not shown
    assert picks[0]["reason"]["parts"][:2] == [{"kind": "field", "value": "logistics"},
                                               {"kind": "field", "value": "robotics"}]
    assert picks[1]["reason"]["text"] == "logistics · robotics"
    # The investor's own project is never recommended to them.
    assert matching.projects_for_investor(inv, exclude_user=world["walt"].pk)[-1]["id"] \
        == world["robot"].pk


@pytest.mark.django_db
def test_jobs_and_candidates_both_ways(world):
    job = Job.objects.create(booth=world["booth_a"], title="Robot engineer",
                             job_type="full_time", fields=["Robotics", "ros"], country="DE",
                             languages=["de"])
    Job.objects.create(booth=world["booth_b"], title="Closed", job_type="full_time",
                       fields=["robotics"], is_open=False)
    for user, opted in ((world["vera"], True), (world["walt"], False)):
        Resume.objects.create(user=user, data={"skills": ["robotics", "ros"],
                                               "job_types": ["full_time"],
                                               "languages": [{"language": "de"}]})
        Account.objects.create(user=user, country="DE", talent_search=opted)
    matching.changed()
    who = matching.candidate_of(Resume.objects.get(user=world["vera"]).data,
                                {"country": "DE", "languages": [], "interests": []})
    jobs = matching.jobs_for_candidate(who)
    assert [j["id"] for j in jobs] == [job.pk]
    assert jobs[0]["reason"]["text"] == "robotics · ros · full_time · de · DE"
    picks = matching.for_job(world["staff_a"], job.pk)
    assert [c["id"] for c in picks] == [world["vera"].pk]  # Walt did not opt in
    with pytest.raises(matching.DockError):
        matching.for_job(world["staff_b"], job.pk)


@pytest.mark.django_db(transaction=True)
def test_an_old_index_is_rebuilt_in_the_background(settings):
    world = make_docking_world()
    settings.DOCKING = {**settings.DOCKING, "MATCH_INDEX_TTL": 0}
    first = matching.index("projects")
    Project.objects.create(owner=world["walt"], title="New", fields=["x"], stage="idea")
    served = matching.index("projects")  # too old: served while a thread rebuilds it
    assert served is first
    for thread in [t for t in __import__("threading").enumerate()
                   if t.name == "match-index-projects"]:
        thread.join(10)
    assert len(matching.index("projects").ids) == len(first.ids) + 1


@pytest.mark.django_db
def test_the_demo_seed_plants_projects_the_demo_investor_is_shown_first():
    from django.contrib.auth import get_user_model

    from booths.seed import seed_demo

    seed_demo()
    matching.changed()
    visitor = get_user_model().objects.get(username="visitor")
    inv = InvestorProfile.objects.get(user=visitor)
    assert Project.objects.count() > 20
    picks = matching.for_user(visitor)["projects"]
    planted = [p for p in picks if Project.objects.get(pk=p["id"]).amount_min == 1_500_000]
    assert len(planted) == 4 and picks[:4] == planted  # the planted ones, first
    for pick in planted:
        kinds = {part["kind"] for part in pick["reason"]["parts"]}
        assert {"field", "stage", "ticket", "country"} <= kinds
        assert Project.objects.get(pk=pick["id"]).country in inv.countries


@pytest.mark.django_db
def test_an_investors_stated_criteria_are_requirements_before_the_tags(world):
    """The investor's very tags in the wrong country rank after a project sharing one tag
    that meets stage, country and ticket; it still fills the list after it, and its reason
    names only what matched."""
    abroad = Project.objects.create(
        owner=world["walt"], title="Robot arms US", fields=["robotics", "logistics"],
        stage="growth", seeking=["investment"], amount_min=1_000_000, amount_max=2_000_000,
        currency="EUR", country="US")
    fits = Project.objects.create(
        owner=world["walt"], title="Drone depots", fields=["logistics", "drones", "sensors"],
        stage="first_revenue", seeking=["investment"], amount_min=1_000_000,
        amount_max=2_000_000, currency="EUR", country="FR")
    matching.changed()
    inv = InvestorProfile.objects.filter(user=world["ida"]).values().first()
    picks = matching.projects_for_investor(inv)
    assert [p["id"] for p in picks] == [world["robot"].pk, fits.pk, abroad.pk]
    assert picks[1]["reason"]["text"] == "logistics · first_revenue · EUR 1M-2M · FR"
    assert picks[2]["reason"]["text"] == "robotics · logistics · growth · EUR 1M-2M"
    assert picks[2]["score"] > picks[1]["score"]  # the weighted score alone would swap them


@pytest.mark.django_db
def test_a_project_is_shown_the_investors_whose_criteria_it_meets_first(world):
    """Ivo names the project's very tags but invests in the US only; Ines shares one tag and
    takes German growth projects at this ticket: Ines first, Ivo after her."""
    ivo, ines = make_user("ivo", "Ivo Investor"), make_user("ines", "Ines Investor")
    InvestorProfile.objects.create(user=ivo, ticket_min=500_000, ticket_max=3_000_000,
                                   currency="EUR", stages=["growth"],
                                   fields=["robotics", "logistics"], countries=["US"])
    InvestorProfile.objects.create(user=ines, ticket_min=500_000, ticket_max=3_000_000,
                                   currency="EUR", stages=["growth"],
                                   fields=["logistics", "drones", "sensors"], countries=["DE"])
    matching.changed()
    picks = matching.for_project(world["robot"].pk)
    order = [p["id"] for p in picks]
    assert order.index(ines.pk) < order.index(ivo.pk)
    assert "US" not in picks[order.index(ivo.pk)]["reason"]["text"]
    assert "DE" not in picks[order.index(ivo.pk)]["reason"]["text"]
