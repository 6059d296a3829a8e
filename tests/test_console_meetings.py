"""Meeting requests (project docking) in the exhibitor console's inbox: who sees which, answers
through docking's services (the requester is told), exports of the rows shown, refusals over
HTTP and the WebSocket, and new counts pushed live to every tab of the booth's staff."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from openpyxl import load_workbook

from console.models import InboxState
from console.services import inbox
from docking.models import Meeting, Project
from docking.services import meetings
from recruitment.models import Notice
from tests.recruitment_world import make_world
from tests.wsclient import WsClient


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client, path, data=None):
    return client.post(path, data or {}, content_type="application/json")


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.content
    return response.json()["error"]["code"]


def slot() -> datetime:
    """A slot start on the 5-minute grid, two days ahead."""
    moment = datetime.now(UTC) + timedelta(days=2)
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


def meeting_world() -> dict:
    w = make_world()
    w["project"] = Project.objects.create(booth=w["booth_a"], title="Solar glass",
                                          stage="growth")
    # Asked about A's project; asked of A's Arno in person; asked of B's Bert.
    w["m_project"] = meetings.request(w["vera"], project_id=w["project"].pk,
                                      message="=cmd() let us talk")
    w["m_arno"] = meetings.request(w["walt"], user_id=w["staff_a2"].pk, message="coffee?")
    w["m_bert"] = meetings.request(w["vera"], user_id=w["staff_b"].pk, message="hello B")
    return w


@pytest.fixture
def world(db):
    return meeting_world()


@pytest.mark.django_db
def test_the_inbox_holds_the_meetings_asked_of_the_booth(world):
    a, b = world["booth_a"].pk, world["booth_b"].pk
    alice = as_user(world["staff_a"])
    page = alice.get(f"/api/booths/{a}/inbox?source=meetings").json()
    assert page["statuses"] == ["accepted", "declined", "cancelled"]
    assert [(i["ref"], i["who"]["name"], i["title"], i["status"]) for i in page["items"]] == [
        (world["m_arno"].pk, "Walt Visitor", "", "requested"),
        (world["m_project"].pk, "Vera Visitor", "Solar glass", "requested")]
    assert page["items"][0]["meeting"]["to"]["name"] == "Arno Staff"
    assert page["items"][1]["meeting"]["to"] is None  # nobody of the booth answered yet
    assert page["unread"]["sources"]["meetings"] == 2 and page["unread"]["total"] == 2
    bert = as_user(world["staff_b"]).get(f"/api/booths/{b}/inbox?source=meetings").json()
    assert [i["ref"] for i in bert["items"]] == [world["m_bert"].pk]


@pytest.mark.django_db
def test_answers_go_through_docking_and_reach_the_requester(world):
    a = world["booth_a"].pk
    alice, arno = as_user(world["staff_a"]), as_user(world["staff_a2"])
    ref = world["m_project"].pk
    # A request needs a slot to be accepted: the inbox says so and changes nothing.
    assert error_of(post(alice, f"/api/booths/{a}/inbox/meetings/{ref}",
                         {"status": "accepted"}), 400) == "meeting.invalid_slot"
    assert Meeting.objects.get(pk=ref).state == "requested"
    # Alice proposes a slot through docking; the inbox shows it to her colleague.
    start = slot()
    proposed = post(alice, f"/api/meetings/{ref}/propose",
                    {"starts_at": start.isoformat(), "minutes": 30})
    assert proposed.status_code == 200, proposed.content
    item = next(i for i in arno.get(f"/api/booths/{a}/inbox?source=meetings").json()["items"]
                if i["ref"] == ref)
    assert item["status"] == "proposed"
    assert item["meeting"]["to"]["name"] == "Alice Staff"
    assert datetime.fromisoformat(item["meeting"]["starts_at"]) == start
    # The requester accepts; Alice's colleague cancels it from the inbox (now Alice's meeting,
    # so refused), Alice herself can.
    assert post(as_user(world["vera"]), f"/api/meetings/{ref}/accept", {}).status_code == 200
    assert error_of(post(arno, f"/api/booths/{a}/inbox/meetings/{ref}",
                         {"status": "cancelled"}), 409) == "meeting.not_yours"
    done = post(alice, f"/api/booths/{a}/inbox/meetings/{ref}", {"status": "cancelled",
                                                                 "note": "moved to Monday"})
    assert done.status_code == 200, done.content
    assert done.json()["item"]["status"] == "cancelled"
    assert done.json()["item"]["note"] == "moved to Monday"
    kinds = [n.kind for n in Notice.objects.filter(user=world["vera"]).order_by("id")
             if n.data["id"] == ref]
    assert kinds == ["meeting.requested", "meeting.proposed", "meeting.accepted",
                     "meeting.cancelled"]
    # Arno declines the request asked of him from the inbox: Walt hears of it.
    walt_ref = world["m_arno"].pk
    assert error_of(post(alice, f"/api/booths/{a}/inbox/meetings/{walt_ref}",
                         {"status": "declined"}), 409) == "meeting.not_yours"
    declined = post(arno, f"/api/booths/{a}/inbox/meetings/{walt_ref}", {"status": "declined"})
    assert declined.json()["item"]["status"] == "declined"
    assert Notice.objects.filter(user=world["walt"], kind="meeting.declined").count() == 1
    # Read flags and notes are the team's: the counts are right for both.
    assert error_of(post(arno, f"/api/booths/{a}/inbox/meetings/{ref}",
                         {"status": "requested"}), 400) == "inbox.bad_status"
    for client in (alice, arno):
        assert client.get(f"/api/booths/{a}/inbox/unread").json()["sources"]["meetings"] == 0


@pytest.mark.django_db
def test_staff_of_another_booth_cannot_read_or_answer_its_meetings(world):
    a, b = world["booth_a"].pk, world["booth_b"].pk
    bert = as_user(world["staff_b"])
    ref = world["m_project"].pk
    for response in (bert.get(f"/api/booths/{a}/inbox?source=meetings"),
                     post(bert, f"/api/booths/{a}/inbox/meetings/{ref}", {"read": True}),
                     bert.get(f"/api/booths/{a}/exports/meetings?format=csv"),
                     bert.get(f"/api/booths/{a}/exports/meetings?format=xlsx")):
        assert error_of(response, 403) == "console.forbidden"
    # Through his own booth: A's meeting is not in B's inbox.
    assert error_of(post(bert, f"/api/booths/{b}/inbox/meetings/{ref}",
                         {"status": "declined"}), 404) == "inbox.not_found"
    assert Meeting.objects.get(pk=ref).state == "requested"
    assert not InboxState.objects.exists()
    assert error_of(Client().get(f"/api/booths/{a}/inbox?source=meetings"),
                    401) == "auth.required"


@pytest.mark.django_db
def test_meeting_exports_hold_the_rows_the_inbox_shows(world):
    a = world["booth_a"].pk
    alice = as_user(world["staff_a"])
    post(alice, f"/api/booths/{a}/inbox/meetings/{world['m_arno'].pk}", {"note": "Arno's"})
    shown = alice.get(f"/api/booths/{a}/inbox?source=meetings").json()["items"]
    expected = [(i["ref"], i["who"]["name"], i["title"], i["status"], i["note"])
                for i in shown]
    assert len(expected) == 2
    response = alice.get(f"/api/booths/{a}/exports/meetings?format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = rows[0]
    assert header == ["id", "received", "name", "project", "with", "message", "state",
                      "starts", "ends", "note"]
    assert [(int(r[0]), r[2], r[3], r[6], r[9]) for r in rows[1:]] == expected
    assert rows[2][5] == "'=cmd() let us talk"  # a formula stays text
    sheet = load_workbook(io.BytesIO(
        alice.get(f"/api/booths/{a}/exports/meetings?format=xlsx").content)).active
    values = list(sheet.values)
    assert list(values[0]) == header
    assert [(v[0], v[2], v[3] or "", v[6], v[9] or "") for v in values[1:]] == expected


@pytest.mark.django_db(transaction=True)
async def test_a_meeting_request_and_its_answer_reach_every_staff_tab_live():
    w = await database_sync_to_async(make_world)()
    a, b = w["booth_a"].pk, w["booth_b"].pk
    project = await database_sync_to_async(Project.objects.create)(
        booth=w["booth_a"], title="Solar glass", stage="growth")
    tab1 = await WsClient(w["staff_a"]).connect()
    tab2 = await WsClient(w["staff_a"]).connect()
    colleague = await WsClient(w["staff_a2"]).connect()
    bert = await WsClient(w["staff_b"]).connect()
    vera = await WsClient(w["vera"]).connect()
    assert await bert.error("console.inbox", {"booth": a}) == "console.forbidden"
    assert await vera.error("console.inbox", {"booth": a}) == "console.forbidden"
    assert (await tab1.ok("console.inbox", {"booth": a}))["total"] == 0
    m = await database_sync_to_async(meetings.request)(w["vera"], project_id=project.pk)
    for client in (tab1, tab2, colleague):
        counts = await client.event("console.inbox", match=lambda d: d["total"] == 1)
        assert counts["booth"] == a and counts["sources"]["meetings"] == 1
        bell = await client.event("recruit.notice",
                                  match=lambda d: d["kind"] == "meeting.requested")
        assert bell["unread"]["notices"] == 1
    # Bert (booth B) still has nothing, and was sent none of booth A's counts or notices.
    assert (await bert.ok("console.inbox", {"booth": b}))["total"] == 0
    await bert.drain()
    assert not [f for f in bert.events if f.get("event") in ("console.inbox", "recruit.notice")]
    # Alice declines from the inbox: Vera hears of it, every tab gets the new counts.
    await database_sync_to_async(inbox.update)(w["staff_a"], a, "meetings", m.pk,
                                               status="declined")
    notice = await vera.event("recruit.notice", match=lambda d: d["kind"] == "meeting.declined")
    assert notice["data"]["state"] == "declined"
    for client in (tab2, colleague):
        counts = await client.event("console.inbox", match=lambda d: d["total"] == 0)
        assert counts["sources"]["meetings"] == 0
    reconnected = await WsClient(w["staff_a2"]).connect()
    assert (await reconnected.ok("console.inbox", {"booth": a}))["sources"]["meetings"] == 0
    for c in (tab1, tab2, colleague, bert, vera, reconnected):
        await c.close()
