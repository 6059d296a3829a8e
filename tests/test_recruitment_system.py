"""Recruitment across two real daphne processes sharing one database and a real Redis: two
staff members offer the same interview slots at the same moment, one through each process, and
exactly one of each pair wins; a candidate books two overlapping slots at once from both
processes, and only one booking stands. A notice made on one process reaches the candidate's
socket on the other."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.request import HTTPCookieProcessor, Request, build_opener

import pytest

from tests.conftest import ROOT, server_cluster
from tests.test_system import Client

pytestmark = pytest.mark.system

ROUNDS = 12

SETUP = """
import json
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from booths.models import Booth, BoothStaff, Profile
from recruitment.models import Application, Job, Resume, Slot
User = get_user_model()
staff1 = User.objects.get(username="exhibitor")
booth = Booth.objects.get(boothstaff__user=staff1)
staff2 = User.objects.create_user(username="second-staff", password="pw-second-staff-1")
Profile.objects.create(user=staff2, display_name="Second Staff", kind="exhibitor")
BoothStaff.objects.create(booth=booth, user=staff2)
job = Job.objects.create(booth=booth, title="Race engineer", job_type="full_time")
start = timezone.now() + timedelta(days=1)
rounds = []
for n in range(ROUNDS):
    pair = []
    for side in ("a", "b"):
        user = User.objects.create_user(username=f"cand-{n}-{side}", password=None)
        Profile.objects.create(user=user, display_name=f"C{n}{side}", kind="visitor")
        Resume.objects.create(user=user)
        pair.append(Application.objects.create(job=job, booth=booth, candidate=user).pk)
    slot = Slot.objects.create(booth=booth, host=staff1, starts_at=start + timedelta(hours=n),
                               ends_at=start + timedelta(hours=n, minutes=30))
    rounds.append({"slot": slot.pk, "apps": pair})
# One candidate with two overlapping slots offered by different hosts.
booker = User.objects.create_user(username="booker", password="pw-booker-1234")
Profile.objects.create(user=booker, display_name="Booker", kind="visitor")
Resume.objects.create(user=booker)
job2 = Job.objects.create(booth=booth, title="Second race", job_type="full_time")
apps = [Application.objects.create(job=j, booth=booth, candidate=booker, status="interview")
        for j in (job, job2)]
late = start + timedelta(days=2)
overlapping = []
for host, app, minutes in ((staff1, apps[0], 0), (staff2, apps[1], 10)):
    overlapping.append(Slot.objects.create(
        booth=booth, host=host, starts_at=late + timedelta(minutes=minutes),
        ends_at=late + timedelta(minutes=minutes + 30), state="offered", application=app).pk)
print(json.dumps({"rounds": rounds, "overlapping": overlapping, "booker": booker.pk}))
""".replace("ROUNDS", str(ROUNDS))


class Http:
    """A logged-in HTTP session against one server process."""

    def __init__(self, base: str, username: str, password: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = build_opener(HTTPCookieProcessor(self.jar))
        self.opener.open(f"{base}/api/session", timeout=10).read()
        status, body = self.post("/api/login", {"username": username, "password": password})
        assert status == 200, body

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def post(self, path: str, data: dict | None = None) -> tuple[int, dict]:
        req = Request(self.base + path, data=json.dumps(data or {}).encode(), headers={
            "Content-Type": "application/json", "X-CSRFToken": self.cookie("csrftoken"),
            "Referer": self.base + "/"})
        try:
            with self.opener.open(req, timeout=20) as resp:
                return resp.status, json.loads(resp.read())
        except HTTPError as exc:
            return exc.code, json.loads(exc.read())


def at_once(*calls):
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, fn):
        barrier.wait()
        results[i] = fn()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def set_up(server) -> dict:
    """Create the staff, candidates, applications and slots in the server's database."""
    out = subprocess.run([sys.executable, "-m", "hallserver", "manage", "shell", "-c", SETUP],
                         cwd=ROOT, env=server.env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, redis_url):
    with server_cluster(tmp_path_factory, redis_url, ("rec1", "daphne"),
                        ("rec2", "daphne")) as (first, second):
        yield first, second, set_up(first)


def test_two_staff_on_two_processes_offer_the_same_slot_one_wins(cluster):
    first, second, world = cluster
    staff1 = Http(first.url, "exhibitor", "exhibitor-demo")
    staff2 = Http(second.url, "second-staff", "pw-second-staff-1")
    winners = []
    for round_ in world["rounds"]:
        slot, (app_a, app_b) = round_["slot"], round_["apps"]
        one, two = at_once(
            lambda s=slot, a=app_a: staff1.post(f"/api/slots/{s}/offer", {"application": a}),
            lambda s=slot, b=app_b: staff2.post(f"/api/slots/{s}/offer", {"application": b}))
        statuses = sorted([one[0], two[0]])
        assert statuses == [200, 409], (one, two)
        loser = one if one[0] == 409 else two
        assert loser[1]["error"]["code"] == "slot.taken"
        winner = one if one[0] == 200 else two
        assert winner[1]["state"] == "offered"
        winners.append((slot, winner[1]["application"]))
    # What each winner was told is what the database holds, whichever process answered.
    slots = {s["id"]: s for s in json.loads(
        staff1.opener.open(f"{first.url}/api/booths/{_booth(staff1, first)}/slots",
                           timeout=10).read())["results"]}
    for slot, application in winners:
        assert slots[slot]["state"] == "offered" and slots[slot]["application"] == application


def _booth(http: Http, server) -> int:
    me = json.loads(http.opener.open(f"{server.url}/api/session", timeout=10).read())
    return me["user"]["staff_of"][0]


async def _book_both(cluster) -> None:
    first, second, world = cluster
    tab1 = Http(first.url, "booker", "pw-booker-1234")
    tab2 = Http(second.url, "booker", "pw-booker-1234")
    staff = Http(second.url, "second-staff", "pw-second-staff-1")
    async with Client(second, f"sessionid={staff.cookie('sessionid')}") as staff_socket:
        slot1, slot2 = world["overlapping"]
        one, two = await asyncio.to_thread(
            at_once, lambda: tab1.post(f"/api/slots/{slot1}/book"),
            lambda: tab2.post(f"/api/slots/{slot2}/book"))
        assert sorted([one[0], two[0]]) == [200, 409], (one, two)
        loser = one if one[0] == 409 else two
        assert loser[1]["error"]["code"] in ("slot.overlap", "slot.taken")
        booked = (one if one[0] == 200 else two)[1]["id"]
        # The booking made through either process reaches staff on the second one.
        notice = await staff_socket.wait_event(
            "recruit.notice", match=lambda d: d["kind"] == "slot.booked")
        assert notice["data"]["id"] == booked


async def test_one_candidate_books_two_overlapping_slots_at_once_only_one_stands(cluster):
    await _book_both(cluster)


async def book_both(cluster) -> None:
    """The booking race, for other databases (tests/test_postgres.py)."""
    await _book_both(cluster)
