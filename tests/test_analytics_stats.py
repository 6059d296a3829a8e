"""The numbers behind every chart equal counts taken straight from the raw records."""

from __future__ import annotations

import statistics
from datetime import timedelta

import pytest
from django.db.models import Q
from django.test import Client
from django.utils import timezone

from analytics.models import Event
from analytics.services import stats
from booths.models import Booth, BoothStaff, Roadshow
from docking.models import Meeting, Project
from recruitment.models import Application, Job
from streaming.models import Lead
from tests.recruitment_world import make_user, make_world

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def scripted():
    """Visits, chats, knocks, calls, leads and applications at three booths of one hall,
    spread over today and a day before, at known times."""
    w = make_world()
    a, b = w["booth_a"], w["booth_b"]
    c = Booth.objects.create(hall=a.hall, name="Gamma", country="FR")
    now = timezone.localtime().replace(hour=15, minute=2, second=0, microsecond=0)
    yesterday = now - timedelta(days=1)
    people = [make_user(f"p{i}", f"Person {i}") for i in range(6)]

    def ev(kind, booth, user, at, seconds=0.0, roadshow=None):
        Event.objects.create(kind=kind, booth_id=booth.pk, hall_id=booth.hall_id,
                             user_id=user.pk if user else None, at=at, seconds=seconds,
                             roadshow_id=roadshow)

    for i, p in enumerate(people[:4]):  # four visitors at A today, 5 minutes apart
        at = now + timedelta(minutes=5 * i)
        ev("enter", a, p, at)
        ev("leave", a, p, at + timedelta(minutes=3), seconds=180)
    ev("enter", a, people[0], now + timedelta(minutes=1))  # the same person again: one visitor
    ev("enter", a, None, now + timedelta(minutes=2))  # an anonymous visit
    ev("enter", a, people[4], yesterday)
    ev("chat", a, people[0], now)
    ev("chat", a, people[1], now)
    ev("knock", a, people[0], now)
    ev("call", a, people[0], now, seconds=95)
    ev("enter", b, people[5], now)
    ev("enter", b, people[4], now + timedelta(minutes=7))
    ev("chat", b, people[5], now)
    show = Roadshow.objects.create(booth=a, title="Show", starts_at=now, ends_at=now)
    ev("enter", a, people[5], now, roadshow=show.pk)  # a viewer, not a booth visit
    ev("leave", a, people[5], now + timedelta(minutes=10), seconds=600, roadshow=show.pk)
    Lead.objects.create(booth=a, name="L", contact="l")
    job = Job.objects.create(booth=a, title="J", job_type="full_time")
    Application.objects.create(job=job, booth=a, candidate=people[2])
    # Meeting requests: about A's project, of A's staff in person, of B's staff, and about a
    # project of a person (no booth's).
    project = Project.objects.create(booth=a, title="P", stage="growth")
    own = Project.objects.create(owner=people[3], title="Q", stage="idea")
    Meeting.objects.create(requester=people[0], project=project, booth=a)
    Meeting.objects.create(requester=people[1], recipient=w["staff_a2"], booth=a)
    Meeting.objects.create(requester=people[2], recipient=w["staff_b"], booth=b,
                           state="declined")
    Meeting.objects.create(requester=people[4], recipient=people[3], project=own)
    return {"world": w, "a": a, "b": b, "c": c, "now": now, "people": people, "show": show}


def raw_visitors(booth, start, end) -> int:
    """Distinct visitors from the raw rows, anonymous entries counted one by one."""
    rows = Event.objects.filter(booth_id=booth.pk, kind="enter", roadshow_id__isnull=True,
                                at__gte=start, at__lt=end)
    return (rows.exclude(user_id=None).values("user_id").distinct().count()
            + rows.filter(user_id=None).count())


def test_booth_charts_equal_the_raw_records(scripted):
    a, now = scripted["a"], scripted["now"]
    charts = stats.booth_charts(a, now)
    day_start, _ = stats.day_range(now.date())
    today = charts["today"]
    assert today["start"] == day_start.timestamp() and charts["step"] == 300
    assert len(today["counts"]) == 288
    # Every 5-minute step holds the distinct visitors who entered in it.
    for index, value in enumerate(today["counts"]):
        start = day_start + timedelta(seconds=300 * index)
        assert value == raw_visitors(a, start, start + timedelta(seconds=300)), index
    # 15:00-15:05: p0 (twice: once) and the anonymous visit; then p1, p2, p3.
    step = int((now - day_start).total_seconds() // 300)
    assert today["counts"][step:step + 4] == [2, 1, 1, 1]
    assert sum(today["counts"]) == 5
    # The whole expo includes yesterday.
    assert sum(charts["expo"]["counts"]) == 6
    funnel = charts["funnel"]["booth"]
    assert funnel == {
        "visits": Event.objects.filter(booth_id=a.pk, kind="enter",
                                       roadshow_id__isnull=True).count(),
        "visitors": 5, "chats": 2, "knocks": 1, "calls": 1, "call_seconds": 95.0,
        "leads": Lead.objects.filter(booth=a).count(),
        "applications": Application.objects.filter(booth=a).count(),
        "meetings": Meeting.objects.filter(
            Q(project__booth=a) | Q(project=None, recipient__in=BoothStaff.objects.filter(
                booth=a).values("user"))).count()}
    assert funnel["meetings"] == 2
    assert funnel["visits"] == 7
    hours = charts["hours"]["booth"]
    assert sum(hours) == 7 and hours[15] == 7  # yesterday's visit was at 15:02 too


def test_hall_median_is_the_median_booth(scripted):
    a, b, c, now = scripted["a"], scripted["b"], scripted["c"], scripted["now"]
    charts = stats.booth_charts(a, now)
    assert charts["hall_booths"] == 3
    median = charts["funnel"]["hall_median"]
    assert median["visits"] == statistics.median([7, 2, 0]) == 2
    assert median["chats"] == 1 and median["leads"] == 0
    day_start, _ = stats.day_range(now.date())
    step = int((now - day_start).total_seconds() // 300)
    # At that step: A 2, B 1, C 0 → 1.
    assert charts["today"]["hall_median"][step] == 1
    assert charts["hours"]["hall_median"][15] == 2  # A 7, B 2, C 0
    assert not Event.objects.filter(booth_id=c.pk).exists() and b.pk != a.pk


def test_expo_charts_equal_the_raw_records(scripted):
    a, b, now, show = scripted["a"], scripted["b"], scripted["now"], scripted["show"]
    data = stats.expo_charts(now)
    top = {r["booth"]: (r["visitors"], r["visits"]) for r in data["top_booths"]}
    assert top == {a.pk: (5, 7), b.pk: (2, 2)}  # distinct users: the anonymous one has none
    assert data["halls"][0]["visits"] == 9
    assert data["roadshows"] == [{"roadshow": show.pk, "title": "Show", "viewers": 1,
                                  "views": 1, "watch_seconds": 600.0}]
    # Meeting requests per state: every state, each equal to a count of the raw rows.
    assert [m["state"] for m in data["meetings"]] == list(Meeting.State.values)
    for row in data["meetings"]:
        assert row["count"] == Meeting.objects.filter(state=row["state"]).count(), row
    assert {m["state"]: m["count"] for m in data["meetings"] if m["count"]} == {
        "requested": 3, "declined": 1}
    day_start, _ = stats.day_range(now.date())
    counts = data["concurrent"]["counts"]
    at = int((now - day_start).total_seconds() // 300)
    # Before the scripted visits: only yesterday's visit (never left) is still open.
    assert counts[at - 1] == 1
    # At the end of the step of ``now`` (15:05): yesterday's visit, at A p0 twice and the
    # anonymous visit, at B p5, p5 watching the roadshow; nobody has left yet.
    end = day_start + timedelta(seconds=300 * (at + 1))
    enters = Event.objects.filter(kind="enter", at__lt=end).count()
    leaves = Event.objects.filter(kind="leave", at__lt=end).count()
    assert counts[at] == enters - leaves == 6
    # Every step agrees with the raw rows.
    for index, value in enumerate(counts):
        end = day_start + timedelta(seconds=300 * (index + 1))
        assert value == (Event.objects.filter(kind="enter", at__lt=end).count()
                         - Event.objects.filter(kind="leave", at__lt=end).count()), index


def test_charts_over_http(scripted):
    client = Client()
    client.force_login(scripted["world"]["staff_a"])
    data = client.get(f"/api/booths/{scripted['a'].pk}/analytics").json()
    assert data["funnel"]["booth"]["visits"] == 7
    day_start, _ = stats.day_range(scripted["now"].date())
    assert data["today"]["start"] == day_start.timestamp()
