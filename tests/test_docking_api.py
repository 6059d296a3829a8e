"""Project docking over HTTP (docs/api.md, "Project docking"): projects and the directory,
investor profiles, availability, meetings (request, propose, accept, decline, cancel),
"My meetings" and its .ics file, bookmarks, recommendations; every refusal and bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from booths.models import Roadshow
from docking.models import BusyCell, Meeting, Project
from docking.services import meetings
from recruitment.models import Notice
from tests.docking_world import make_docking_world

pytestmark = [pytest.mark.django_db]

PROJECT = {"title": "Battery recycling", "summary": "Black mass to cathodes",
           "description": "Wir recyceln · 我们回收", "fields": ["Energy", "chemistry"],
           "stage": "prototype", "seeking": ["investment", "licensing"],
           "amount_min": 200000, "amount_max": 800000, "currency": "eur", "country": "fr",
           "links": [{"label": "Site", "url": "https://example.org/"}]}


@pytest.fixture
def world():
    return make_docking_world()


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client, path, data=None):
    return client.post(path, data or {}, content_type="application/json")


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    return body["error"]["code"]


def iso(moment) -> str:
    return moment.isoformat()


# --- projects -----------------------------------------------------------------------------------

def test_owners_create_and_edit_projects_the_directory_filters(world):
    staff = as_user(world["staff_a"])
    made = post(staff, "/api/projects", {**PROJECT, "booth": world["booth_a"].pk})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["fields"] == ["energy", "chemistry"] and body["currency"] == "EUR"
    assert body["booth"] == {"id": world["booth_a"].pk, "name": "Acme Labs"} and body["mine"]
    # The other staff member of the booth may edit it; a stranger may not.
    edited = as_user(world["staff_a2"]).put(f"/api/projects/{body['id']}",
                                            {**PROJECT, "title": "Cells again"},
                                            content_type="application/json")
    assert edited.status_code == 200 and edited.json()["title"] == "Cells again"
    assert error_of(as_user(world["walt"]).put(f"/api/projects/{body['id']}", PROJECT,
                                               content_type="application/json"),
                    403) == "project.not_owner"
    assert error_of(as_user(world["walt"]).delete(f"/api/projects/{body['id']}"),
                    403) == "project.not_owner"
    # A person registers their own; staff of another booth cannot use booth A.
    own = post(as_user(world["walt"]), "/api/projects", PROJECT)
    assert own.status_code == 201 and own.json()["owner"]["name"] == "Walt Visitor"
    assert error_of(post(as_user(world["staff_b"]), "/api/projects",
                         {**PROJECT, "booth": world["booth_a"].pk}), 403) == "booth.not_staff"

    anyone = Client()
    everything = anyone.get("/api/projects").json()
    assert everything["total"] == 4
    def titles(query):
        return [p["title"] for p in anyone.get("/api/projects?" + query).json()["results"]]
    assert titles("field=robotics") == ["Warehouse robots"]
    assert titles("stage=idea") == ["Tea sensors"]
    assert sorted(titles("seeking=licensing")) == ["Battery recycling", "Cells again"]
    assert titles("country=cn") == ["Tea sensors"]
    assert titles(f"booth={world['booth_a'].pk}&stage=growth") == ["Warehouse robots"]
    assert error_of(anyone.get("/api/projects?stage=unicorn"), 400) == "query.invalid"
    assert anyone.get(f"/api/projects/{body['id']}").json()["mine"] is False
    assert error_of(anyone.get("/api/projects/999999"), 404) == "project.not_found"
    mine = as_user(world["staff_a"]).get("/api/projects/mine").json()["results"]
    assert {p["title"] for p in mine} == {"Warehouse robots", "Cells again"}
    assert as_user(world["staff_a"]).delete(f"/api/projects/{body['id']}").status_code == 204


@pytest.mark.parametrize("bad", [
    {"title": ""}, {"stage": "unicorn"}, {"seeking": ["money"]},
    {"amount_min": 9, "amount_max": 1}, {"currency": ""}, {"country": "Germany"},
    {"links": [{"label": "x", "url": "javascript:alert(1)"}]}, {"extra": 1},
    {"fields": ["x" * 41]},
])
def test_bad_projects_are_refused_and_nothing_is_written(world, bad):
    before = Project.objects.count()
    response = post(as_user(world["walt"]), "/api/projects", {**PROJECT, **bad})
    assert error_of(response, 422) == "request.invalid"
    assert Project.objects.count() == before


def test_project_endpoints_need_a_login(world):
    anyone = Client()
    assert error_of(post(anyone, "/api/projects", PROJECT), 401) == "auth.required"
    for path in ("/api/investor", "/api/availability", "/api/meetings", "/api/agenda",
                 "/api/agenda.ics", "/api/recommendations", "/api/bookmarks",
                 "/api/projects/mine", f"/api/projects/{world['robot'].pk}/investors"):
        assert error_of(anyone.get(path), 401) == "auth.required", path


def test_investor_profiles(world):
    walt = as_user(world["walt"])
    assert error_of(walt.get("/api/investor"), 404) == "investor.not_found"
    saved = walt.put("/api/investor", {"ticket_min": 10, "ticket_max": 5, "currency": "USD"},
                     content_type="application/json")
    assert error_of(saved, 422) == "request.invalid"
    saved = walt.put("/api/investor", {"ticket_min": 50000, "ticket_max": 250000,
                                       "currency": "usd", "stages": ["idea"],
                                       "fields": ["AgriTech"], "countries": ["cn"]},
                     content_type="application/json")
    assert saved.status_code == 200 and saved.json()["fields"] == ["agritech"]
    listed = as_user(world["vera"]).get("/api/investors?field=agritech").json()["results"]
    assert [i["user"]["name"] for i in listed] == ["Walt Visitor"]
    assert as_user(world["vera"]).get(f"/api/investors/{world['ida'].pk}").status_code == 200
    assert error_of(as_user(world["vera"]).get(f"/api/investors/{world['vera'].pk}"),
                    404) == "investor.not_found"


# --- availability -------------------------------------------------------------------------------

def test_availability_and_its_refusals(world):
    day = world["day"]
    vera = as_user(world["vera"])
    made = post(vera, "/api/availability", {"starts_at": iso(day), "slot_minutes": 20,
                                            "ends_at": iso(day + timedelta(hours=2))})
    assert made.status_code == 201, made.content
    cases = [
        ({"starts_at": iso(day + timedelta(hours=1)), "ends_at": iso(day + timedelta(hours=3))},
         409, "availability.overlap"),
        ({"starts_at": iso(day - timedelta(days=3)),
          "ends_at": iso(day - timedelta(days=3, hours=-1))}, 400, "availability.past"),
        ({"starts_at": iso(day + timedelta(hours=5)), "ends_at": iso(day + timedelta(hours=4))},
         400, "availability.invalid"),
        ({"starts_at": iso(day + timedelta(hours=5, minutes=2)),
          "ends_at": iso(day + timedelta(hours=6))}, 400, "availability.invalid"),
        ({"starts_at": iso(day + timedelta(hours=5)), "ends_at": iso(day + timedelta(hours=6)),
          "slot_minutes": 7}, 400, "availability.invalid"),
        ({"starts_at": day.replace(tzinfo=None).isoformat(),
          "ends_at": (day + timedelta(hours=9)).replace(tzinfo=None).isoformat()},
         400, "availability.invalid"),
    ]
    for data, status, code in cases:
        assert error_of(post(vera, "/api/availability", data), status) == code, data
    assert len(vera.get("/api/availability").json()["results"]) == 1
    assert error_of(as_user(world["walt"]).delete(f"/api/availability/{made.json()['id']}"),
                    404) == "availability.not_found"
    assert vera.delete(f"/api/availability/{made.json()['id']}").status_code == 204


# --- meetings -----------------------------------------------------------------------------------

def _both_available(world, a, b, hours=3):
    day = world["day"]
    for user in (a, b):
        assert post(as_user(user), "/api/availability", {
            "starts_at": iso(day), "ends_at": iso(day + timedelta(hours=hours)),
            "slot_minutes": 30}).status_code == 201


def test_request_accept_with_a_free_slot_and_the_agenda(world):
    _both_available(world, world["ida"], world["staff_a"])
    ida, alice = as_user(world["ida"]), as_user(world["staff_a"])
    made = post(ida, "/api/meetings", {"project": world["robot"].pk, "message": "Hello"})
    assert made.status_code == 201, made.content
    meeting = made.json()
    assert meeting["state"] == "requested" and meeting["recipient"] is None
    assert meeting["may_answer"] is False
    # Both staff of the booth hear of it and see it; Ida may not answer her own request.
    kinds = Notice.objects.filter(kind="meeting.requested").values_list("user_id", flat=True)
    assert set(kinds) == {world["ida"].pk, world["staff_a"].pk, world["staff_a2"].pk}
    assert error_of(post(ida, f"/api/meetings/{meeting['id']}/accept",
                         {"starts_at": iso(world["day"])}), 409) == "meeting.not_yours"
    listed = alice.get("/api/meetings").json()["results"]
    assert [m["id"] for m in listed] == [meeting["id"]] and listed[0]["may_answer"]
    # The free slots: both sides' availability, 30 minutes each.
    slots = alice.get(f"/api/meetings/{meeting['id']}/slots").json()["results"]
    assert slots[0] == {"starts_at": iso(world["day"]),
                        "ends_at": iso(world["day"] + timedelta(minutes=30))}
    assert len(slots) == 6
    accepted = post(alice, f"/api/meetings/{meeting['id']}/accept",
                    {"starts_at": slots[1]["starts_at"], "minutes": 30})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["state"] == "accepted"
    assert accepted.json()["recipient"]["name"] == "Alice Staff"
    assert BusyCell.objects.filter(meeting_id=meeting["id"]).count() == 12  # 6 cells each
    # The slot is gone from both sides' free time.
    free = alice.get(f"/api/meetings/{meeting['id']}/slots").json()["results"]
    assert slots[1] not in free and slots[0] in free
    # The other staff member can no longer answer: it is Alice's meeting now.
    assert error_of(as_user(world["staff_a2"]).get(f"/api/meetings/{meeting['id']}"),
                    404) == "meeting.not_found"

    agenda = ida.get("/api/agenda?tz=Asia/Shanghai").json()
    assert agenda["time_zone"] == "Asia/Shanghai"
    item = agenda["items"][0]
    assert item["kind"] == "meeting" and item["title"].startswith("Meeting with Alice Staff")
    assert item["starts_at"].endswith("+08:00")
    assert error_of(ida.get("/api/agenda?tz=Mars/Olympus"), 400) == "agenda.bad_zone"
    ics = ida.get("/api/agenda.ics")
    assert ics["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(ics.content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1 and str(events[0]["SUMMARY"]).startswith("Meeting with Alice")
    assert events[0].decoded("DTSTART") == world["day"] + timedelta(minutes=30)


def test_propose_another_slot_then_the_requester_accepts_it(world):
    vera, walt = as_user(world["vera"]), as_user(world["walt"])
    made = post(walt, "/api/meetings", {"user": world["vera"].pk}).json()
    slot = world["day"] + timedelta(hours=1)
    proposed = post(vera, f"/api/meetings/{made['id']}/propose",
                    {"starts_at": iso(slot), "minutes": 20})
    assert proposed.status_code == 200 and proposed.json()["state"] == "proposed"
    # Now it is Walt's turn: Vera cannot accept her own proposal.
    assert error_of(post(vera, f"/api/meetings/{made['id']}/accept"), 409) == \
        "meeting.not_yours"
    assert error_of(post(walt, f"/api/meetings/{made['id']}/accept",
                         {"starts_at": iso(slot + timedelta(minutes=5))}),
                    400) == "meeting.invalid_slot"
    accepted = post(walt, f"/api/meetings/{made['id']}/accept")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["starts_at"] == iso(slot)
    assert accepted.json()["ends_at"] == iso(slot + timedelta(minutes=20))
    cancelled = post(vera, f"/api/meetings/{made['id']}/cancel")
    assert cancelled.json()["state"] == "cancelled"
    assert not BusyCell.objects.filter(meeting_id=made["id"]).exists()
    assert error_of(post(walt, f"/api/meetings/{made['id']}/cancel"), 409) == "meeting.changed"


def test_meeting_refusals(world):
    vera, walt, ida = as_user(world["vera"]), as_user(world["walt"]), as_user(world["ida"])
    day = world["day"]
    # With oneself, about one's own project, nobody, both or neither.
    assert error_of(post(vera, "/api/meetings", {"user": world["vera"].pk}), 400) == \
        "meeting.self"
    assert error_of(post(vera, "/api/meetings", {"project": world["vera_project"].pk}),
                    400) == "meeting.self"
    assert error_of(post(as_user(world["staff_a2"]), "/api/meetings",
                         {"project": world["robot"].pk}), 400) == "meeting.self"
    assert error_of(post(vera, "/api/meetings", {}), 400) == "meeting.invalid"
    assert error_of(post(vera, "/api/meetings", {"user": world["walt"].pk,
                                                 "project": world["robot"].pk}),
                    400) == "meeting.invalid"
    assert error_of(post(vera, "/api/meetings", {"user": 999999}), 404) == "user.not_found"
    assert error_of(post(vera, "/api/meetings", {"project": 999999}), 404) == \
        "project.not_found"
    assert error_of(post(vera, "/api/meetings", {"user": "x"}), 422) == "request.invalid"
    assert error_of(post(vera, "/api/meetings", {"user": world["walt"].pk,
                                                 "message": "x" * 501}),
                    422) == "request.invalid"
    m1 = post(vera, "/api/meetings", {"user": world["walt"].pk}).json()
    assert error_of(post(vera, "/api/meetings", {"user": world["walt"].pk}), 409) == \
        "meeting.pending"
    # A stranger cannot read, answer or cancel someone else's meeting.
    for path in (f"/api/meetings/{m1['id']}", f"/api/meetings/{m1['id']}/slots"):
        assert error_of(ida.get(path), 404) == "meeting.not_found"
    for verb in ("accept", "decline", "cancel"):
        assert error_of(post(ida, f"/api/meetings/{m1['id']}/{verb}",
                             {"starts_at": iso(day)}), 404) == "meeting.not_found"
    assert ida.get("/api/meetings").json()["results"] == []
    # Slots in the past, off the grid, too long, without a zone.
    url = f"/api/meetings/{m1['id']}/accept"
    past = (timezone.now() - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    assert error_of(post(walt, url, {"starts_at": iso(past)}), 400) == "meeting.past"
    assert error_of(post(walt, url, {"starts_at": iso(day + timedelta(minutes=3))}),
                    400) == "meeting.invalid_slot"
    assert error_of(post(walt, url, {"starts_at": iso(day), "minutes": 500}),
                    400) == "meeting.invalid_slot"
    assert error_of(post(walt, url, {"starts_at": day.replace(tzinfo=None).isoformat()}),
                    400) == "meeting.invalid_slot"
    assert error_of(post(walt, url), 400) == "meeting.invalid_slot"
    # Outside the recipient's availability (once they keep some).
    post(walt, "/api/availability", {"starts_at": iso(day), "slot_minutes": 30,
                                     "ends_at": iso(day + timedelta(hours=1))})
    assert error_of(post(walt, url, {"starts_at": iso(day + timedelta(hours=2))}),
                    409) == "meeting.unavailable"
    # Overlapping meetings of one person: the second acceptance is refused.
    assert post(walt, url, {"starts_at": iso(day)}).status_code == 200
    m2 = post(ida, "/api/meetings", {"user": world["walt"].pk}).json()
    overlap = post(walt, f"/api/meetings/{m2['id']}/accept",
                   {"starts_at": iso(day + timedelta(minutes=15))})
    assert error_of(overlap, 409) == "meeting.overlap"
    assert Meeting.objects.get(pk=m2["id"]).state == "requested"  # nothing changed
    assert post(walt, f"/api/meetings/{m2['id']}/accept",
                {"starts_at": iso(day + timedelta(minutes=30))}).status_code == 200
    # Decline: only the side whose turn it is, only once.
    m3 = post(ida, "/api/meetings", {"user": world["vera"].pk}).json()
    assert error_of(post(ida, f"/api/meetings/{m3['id']}/decline"), 409) == "meeting.not_yours"
    assert post(vera, f"/api/meetings/{m3['id']}/decline").json()["state"] == "declined"
    assert error_of(post(vera, f"/api/meetings/{m3['id']}/decline"), 409) == \
        "meeting.not_yours"


def offered_slot(world, starts_at, minutes=30, candidate="vera"):
    """A slot of booth A hosted by Alice, offered to ``candidate``'s application."""
    from recruitment.models import Application, Job, Slot

    job = Job.objects.create(booth=world["booth_a"], title=f"Chemist {starts_at:%H%M}",
                             job_type="full_time")
    app = Application.objects.create(job=job, booth=world["booth_a"],
                                     candidate=world[candidate], status="interview")
    return Slot.objects.create(booth=world["booth_a"], host=world["staff_a"],
                               starts_at=starts_at, ends_at=starts_at
                               + timedelta(minutes=minutes), state="offered", application=app)


def test_accepting_clashes_with_a_booked_interview(world):
    day = world["day"]
    slot = offered_slot(world, day)
    vera = as_user(world["vera"])
    assert post(vera, f"/api/slots/{slot.pk}/book").status_code == 200
    # Both the candidate and the host now hold those cells.
    assert set(BusyCell.objects.filter(slot=slot).values_list("user_id", flat=True)) == {
        world["vera"].pk, world["staff_a"].pk}
    m = post(as_user(world["walt"]), "/api/meetings", {"user": world["vera"].pk}).json()
    refused = post(vera, f"/api/meetings/{m['id']}/accept",
                   {"starts_at": iso(day + timedelta(minutes=10))})
    assert error_of(refused, 409) == "meeting.overlap"
    agenda = vera.get("/api/agenda").json()["items"]
    assert [i["kind"] for i in agenda] == ["interview"]


def test_the_host_of_a_booked_interview_cannot_accept_a_meeting_then(world):
    """Interview first, meeting second: the host's time is taken by the booking (the gap of
    issue 12: only the candidate's was checked)."""
    day = world["day"]
    slot = offered_slot(world, day)
    assert post(as_user(world["vera"]), f"/api/slots/{slot.pk}/book").status_code == 200
    host = as_user(world["staff_a"])
    m = post(as_user(world["walt"]), "/api/meetings", {"user": world["staff_a"].pk}).json()
    refused = post(host, f"/api/meetings/{m['id']}/accept",
                   {"starts_at": iso(day + timedelta(minutes=25))})
    assert error_of(refused, 409) == "meeting.overlap"
    assert Meeting.objects.get(pk=m["id"]).state == "requested"
    assert not BusyCell.objects.filter(meeting_id=m["id"]).exists()
    # The candidate releases the interview: its cells are free, the meeting fits.
    assert post(as_user(world["vera"]), f"/api/slots/{slot.pk}/release").status_code == 200
    assert not BusyCell.objects.filter(slot=slot).exists()
    accepted = post(host, f"/api/meetings/{m['id']}/accept",
                    {"starts_at": iso(day + timedelta(minutes=25))})
    assert accepted.status_code == 200, accepted.content


def test_a_candidate_cannot_book_an_interview_over_the_hosts_meeting(world):
    """Meeting first, interview second: the host accepted a meeting; the candidate's booking
    over it is refused, and goes through once the meeting is cancelled."""
    day = world["day"]
    m = post(as_user(world["walt"]), "/api/meetings", {"user": world["staff_a"].pk}).json()
    host = as_user(world["staff_a"])
    assert post(host, f"/api/meetings/{m['id']}/accept",
                {"starts_at": iso(day)}).status_code == 200
    slot = offered_slot(world, day + timedelta(minutes=20), minutes=27)
    vera = as_user(world["vera"])
    assert error_of(post(vera, f"/api/slots/{slot.pk}/book"), 409) == "slot.overlap"
    slot.refresh_from_db()
    assert slot.state == "offered" and not BusyCell.objects.filter(slot=slot).exists()
    assert post(host, f"/api/meetings/{m['id']}/cancel").status_code == 200
    assert post(vera, f"/api/slots/{slot.pk}/book").status_code == 200


def test_withdrawing_an_application_frees_its_interviews_cells(world):
    from recruitment.services import applications

    day = world["day"]
    slot = offered_slot(world, day)
    assert post(as_user(world["vera"]), f"/api/slots/{slot.pk}/book").status_code == 200
    applications.withdraw(world["vera"], slot.application_id)
    assert not BusyCell.objects.filter(slot=slot).exists()
    m = meetings.request(world["walt"], user_id=world["staff_a"].pk)
    assert meetings.accept(world["staff_a"], m.pk, timezone.now(), day, 30).state == "accepted"


def test_sweep_reminds_once_and_marks_missed_meetings(world):
    day = world["day"]
    m = meetings.request(world["walt"], user_id=world["vera"].pk)
    meetings.accept(world["vera"], m.pk, timezone.now(), day, 30)
    assert meetings.sweep(day - timedelta(minutes=10)) == {"reminded": 0, "missed": 0,
                                                           "done": 0}
    assert meetings.sweep(day - timedelta(minutes=4))["reminded"] == 1
    assert meetings.sweep(day - timedelta(minutes=3))["reminded"] == 0  # once only
    reminders = Notice.objects.filter(kind="meeting.reminder")
    assert {n.user_id for n in reminders} == {world["walt"].pk, world["vera"].pk}
    assert reminders[0].data["in_seconds"] == 240
    assert meetings.sweep(day + timedelta(minutes=31))["missed"] == 1
    assert Meeting.objects.get(pk=m.pk).state == "missed"
    assert Notice.objects.filter(kind="meeting.missed").count() == 2
    # A meeting someone joined is done, not missed.
    m2 = meetings.request(world["walt"], user_id=world["vera"].pk)
    meetings.accept(world["vera"], m2.pk, timezone.now(), day + timedelta(hours=1), 30)
    meetings.joinable(world["walt"], m2.pk, day + timedelta(hours=1, minutes=1))
    assert meetings.sweep(day + timedelta(hours=2))["done"] == 1
    assert Meeting.objects.get(pk=m2.pk).state == "done"


# --- bookmarks and recommendations -----------------------------------------------------------

def test_bookmarked_roadshows_join_the_agenda(world):
    day = world["day"]
    show = Roadshow.objects.create(booth=world["booth_b"], title="Lab tour",
                                   starts_at=day + timedelta(hours=4),
                                   ends_at=day + timedelta(hours=5))
    vera = as_user(world["vera"])
    assert vera.post(f"/api/roadshows/{show.pk}/bookmark").status_code == 204
    assert vera.post(f"/api/roadshows/{show.pk}/bookmark").status_code == 204  # idempotent
    assert vera.get("/api/bookmarks").json() == {"roadshows": [show.pk]}
    assert error_of(vera.post("/api/roadshows/999999/bookmark"), 404) == "roadshow.not_found"
    items = vera.get("/api/agenda").json()["items"]
    assert [(i["kind"], i["title"]) for i in items] == [
        ("roadshow", "Roadshow · Lab tour · Beta University")]
    assert as_user(world["walt"]).get("/api/agenda").json()["items"] == []
    assert vera.delete(f"/api/roadshows/{show.pk}/bookmark").status_code == 204
    assert vera.get("/api/agenda").json()["items"] == []


def test_recommendations_come_with_reasons(world):
    home = as_user(world["ida"]).get("/api/recommendations").json()
    assert [p["title"] for p in home["projects"]] == ["Warehouse robots"]
    reason = home["projects"][0]["reason"]
    assert reason["text"] == "logistics · robotics · growth · EUR 1M-2M · DE"
    # Vera's tea project seeks no investment: it is not shown to investors.
    owners = as_user(world["staff_a"]).get(f"/api/projects/{world['robot'].pk}/investors")
    assert [i["name"] for i in owners.json()["results"]] == ["Ida Investor"]
    staff_home = as_user(world["staff_a"]).get("/api/recommendations").json()
    assert staff_home["investors"][0]["project"]["title"] == "Warehouse robots"
    assert error_of(as_user(world["vera"]).get("/api/jobs/999999/candidates"), 404) == \
        "job.not_found"


def test_an_interview_cannot_be_booked_over_an_accepted_meeting(world):
    from recruitment.models import Application, Job, Slot
    from recruitment.services import RecruitError, slots

    day = world["day"]
    m = meetings.request(world["walt"], user_id=world["vera"].pk)
    meetings.accept(world["vera"], m.pk, timezone.now(), day, 30)
    job = Job.objects.create(booth=world["booth_a"], title="Chemist", job_type="full_time")
    app = Application.objects.create(job=job, booth=world["booth_a"], candidate=world["vera"],
                                     status="interview")
    slot = Slot.objects.create(booth=world["booth_a"], host=world["staff_a"],
                               starts_at=day + timedelta(minutes=20),
                               ends_at=day + timedelta(minutes=47), state="offered",
                               application=app)
    with pytest.raises(RecruitError) as refused:
        slots.book(world["vera"], slot.pk)
    assert refused.value.code == "slot.overlap"
    assert Slot.objects.get(pk=slot.pk).state == "offered"
    # After the meeting (and on its grid's last partial cell too) the booking stands.
    Slot.objects.filter(pk=slot.pk).update(starts_at=day + timedelta(minutes=30),
                                           ends_at=day + timedelta(minutes=57))
    assert slots.book(world["vera"], slot.pk).state == "booked"
