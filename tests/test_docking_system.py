"""Meetings across two real daphne processes sharing one database and a real Redis: one person
accepts two overlapping meetings at the same moment, one acceptance through each process;
exactly one wins and the other gets ``meeting.overlap``; the winner's other side hears of it
on its socket, whichever process served the acceptance. And across apps: a candidate books an
interview with a host while the host accepts an overlapping meeting on the other process;
exactly one of the two is made."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, server_cluster
from tests.test_recruitment_system import Http, at_once
from tests.test_system import Client

pytestmark = pytest.mark.system

ROUNDS = 10

SETUP = """
import json
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from booths.models import Profile
from docking.models import Meeting
User = get_user_model()
busy = User.objects.create_user(username="busy-person", password="pw-busy-person-1")
Profile.objects.create(user=busy, display_name="Busy Person", kind="visitor")
asker = User.objects.create_user(username="asker", password="pw-asker-12345")
Profile.objects.create(user=asker, display_name="Asker", kind="visitor")
start = (timezone.now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
rounds = []
for n in range(ROUNDS):
    pair = []
    for side in range(2):
        other = asker if side == 0 else User.objects.create_user(
            username=f"other-{n}", password=None)
        if side:
            Profile.objects.create(user=other, display_name=f"Other {n}", kind="visitor")
        pair.append(Meeting.objects.create(requester=other, recipient=busy).pk)
    # The two slots overlap by 15 minutes (the second starts 15 minutes into the first).
    at = start + timedelta(hours=2 * n)
    rounds.append({"meetings": pair, "starts": [at.isoformat(),
                                               (at + timedelta(minutes=15)).isoformat()]})
print(json.dumps({"rounds": rounds}))
""".replace("ROUNDS", str(ROUNDS))


# The busy person also hosts interviews for a booth: each round, a slot offered to the
# candidate and a meeting asked of the busy person, 15 minutes apart (so they overlap).
SETUP_INTERVIEWS = """
import json
from datetime import date, timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from booths.models import Booth, BoothStaff, Expo, Hall, Profile
from docking.models import Meeting
from recruitment.models import Application, Job, Slot
User = get_user_model()
busy = User.objects.get(username="busy-person")
expo = Expo.objects.create(name="Docking race", slug="docking-race", starts_on=date(2026, 1, 1),
                           ends_on=date(2027, 12, 31))
hall = Hall.objects.create(expo=expo, name="Hall", slug="hall")
booth = Booth.objects.create(hall=hall, name="Acme", country="DE")
BoothStaff.objects.create(booth=booth, user=busy)
cand = User.objects.create_user(username="candidate", password="pw-candidate-123")
Profile.objects.create(user=cand, display_name="Candidate", kind="visitor")
start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
rounds = []
for n in range(ROUNDS):
    at = start + timedelta(hours=2 * n)
    job = Job.objects.create(booth=booth, title=f"Job {n}", job_type="full_time")
    app = Application.objects.create(job=job, booth=booth, candidate=cand, status="interview")
    slot = Slot.objects.create(booth=booth, host=busy, starts_at=at,
                               ends_at=at + timedelta(minutes=30), state="offered",
                               application=app)
    other = User.objects.create_user(username=f"meeter-{n}", password=None)
    Profile.objects.create(user=other, display_name=f"Meeter {n}", kind="visitor")
    meeting = Meeting.objects.create(requester=other, recipient=busy)
    rounds.append({"slot": slot.pk, "meeting": meeting.pk,
                   "starts_at": (at + timedelta(minutes=15)).isoformat()})
print(json.dumps({"interviews": rounds}))
""".replace("ROUNDS", str(ROUNDS))


def set_up(server) -> dict:
    """The busy person, the askers and their meetings, the candidate and the interview slots,
    in the database of ``server``."""
    world = {}
    for script in (SETUP, SETUP_INTERVIEWS):
        out = subprocess.run([sys.executable, "-m", "hallserver", "manage", "shell", "-c",
                              script], cwd=ROOT, env=server.env, check=True,
                             capture_output=True, text=True)
        world.update(json.loads(out.stdout.strip().splitlines()[-1]))
    return world


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, redis_url):
    with server_cluster(tmp_path_factory, redis_url, ("dock1", "daphne"),
                        ("dock2", "daphne")) as (first, second):
        yield first, second, set_up(first)


async def test_two_overlapping_acceptances_on_two_processes_one_wins(cluster):
    await accept_both(cluster)


async def accept_both(cluster) -> None:
    """Each round: the busy person accepts two overlapping meetings at once, one through each
    process; exactly one wins."""
    first, second, world = cluster
    tab1 = Http(first.url, "busy-person", "pw-busy-person-1")
    tab2 = Http(second.url, "busy-person", "pw-busy-person-1")
    asker = Http(second.url, "asker", "pw-asker-12345")
    wins = {0: 0, 1: 0}
    async with Client(second, f"sessionid={asker.cookie('sessionid')}") as asker_socket:
        for round_ in world["rounds"]:
            (m1, m2), (s1, s2) = round_["meetings"], round_["starts"]
            one, two = await asyncio.to_thread(
                at_once,
                lambda m=m1, s=s1: tab1.post(f"/api/meetings/{m}/accept", {"starts_at": s}),
                lambda m=m2, s=s2: tab2.post(f"/api/meetings/{m}/accept", {"starts_at": s}))
            assert sorted([one[0], two[0]]) == [200, 409], (one, two)
            loser = one if one[0] == 409 else two
            assert loser[1]["error"]["code"] == "meeting.overlap", loser
            winner = 0 if one[0] == 200 else 1
            wins[winner] += 1
            if winner == 0:
                # The asker's meeting was accepted through the first process: their socket
                # on the second hears of it.
                notice = await asker_socket.wait_event(
                    "recruit.notice", match=lambda d, m=m1: d["kind"] == "meeting.accepted"
                    and d["data"]["id"] == m)
                assert notice["data"]["starts_at"] == s1
    # What the database holds: one accepted meeting per round, never two.
    listed = json.loads(tab1.opener.open(f"{first.url}/api/meetings?state=accepted",
                                         timeout=10).read())["results"]
    assert len(listed) == ROUNDS
    assert sum(wins.values()) == ROUNDS


async def test_an_interview_booking_and_a_meeting_acceptance_race_one_wins(cluster):
    await book_and_accept(cluster)


async def book_and_accept(cluster) -> None:
    """Each round: the candidate books an interview with the busy person through one process
    while the busy person accepts an overlapping meeting through the other (the processes
    swap every round); exactly one of the two is made, the other is refused with its app's
    overlap code."""
    first, second, world = cluster
    servers = (first, second)
    made = {"interview": 0, "meeting": 0}
    for n, round_ in enumerate(world["interviews"]):
        cand = Http(servers[n % 2].url, "candidate", "pw-candidate-123")
        host = Http(servers[1 - n % 2].url, "busy-person", "pw-busy-person-1")
        booked, accepted = await asyncio.to_thread(
            at_once,
            lambda c=cand, s=round_["slot"]: c.post(f"/api/slots/{s}/book"),
            lambda h=host, r=round_: h.post(f"/api/meetings/{r['meeting']}/accept",
                                            {"starts_at": r["starts_at"]}))
        assert sorted([booked[0], accepted[0]]) == [200, 409], (booked, accepted)
        if booked[0] == 200:
            assert accepted[1]["error"]["code"] == "meeting.overlap", accepted
            made["interview"] += 1
        else:
            assert booked[1]["error"]["code"] == "slot.overlap", booked
            made["meeting"] += 1
    assert sum(made.values()) == ROUNDS
    # What the database holds agrees: per round, the slot is booked or the meeting accepted.
    host = Http(first.url, "busy-person", "pw-busy-person-1")
    meetings = {m["id"] for m in json.loads(host.opener.open(
        f"{first.url}/api/meetings?state=accepted", timeout=10).read())["results"]}
    cand = Http(second.url, "candidate", "pw-candidate-123")
    booked = {s["id"] for s in json.loads(cand.opener.open(
        f"{second.url}/api/slots", timeout=10).read())["results"] if s["state"] == "booked"}
    for round_ in world["interviews"]:
        assert (round_["slot"] in booked) != (round_["meeting"] in meetings), round_
