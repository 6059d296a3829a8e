"""The HTTP API of docs/api.md, through Django's test client, against the seeded demo expo."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, override_settings

from booths.models import Booth, Expo, Hall, Room
from booths.seed import seed_demo

pytestmark = [pytest.mark.django_db]

ROOT = Path(__file__).resolve().parent.parent

ME_KEYS = {"id", "name", "kind", "staff_of", "moderator", "moderated_hall", "admin"}
HALL_KEYS = {"id", "name", "name_zh", "slug", "description", "color", "lobby_room",
             "booth_count"}
SUMMARY_KEYS = {"id", "name", "name_zh", "kind", "country", "industry_tags", "hall",
                "hall_name", "logo_url", "room"}
DETAIL_KEYS = SUMMARY_KEYS | {"description", "links", "staff", "staff_room", "roadshows"}
ROADSHOW_KEYS = {"id", "title", "description", "booth", "booth_name", "presenter_name",
                 "starts_at", "ends_at", "state", "room"}


@pytest.fixture(scope="module")
def expo(django_db_setup, django_db_blocker):
    """The demo expo, seeded once for this module inside a transaction that is rolled back
    at its end; every test runs in a savepoint, so what a test changes is undone."""
    with django_db_blocker.unblock(), override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    ):
        outer = transaction.atomic()
        outer.__enter__()
        seed_demo()
    yield
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def exhibitor_booth(expo) -> Booth:
    return Booth.objects.get(boothstaff__user__username="exhibitor")


def post(client: Client, path: str, data: dict | None = None, **extra):
    return client.post(path, data or {}, content_type="application/json", **extra)


def login(client: Client, username: str, password: str):
    return post(client, "/api/login", {"username": username, "password": password})


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def booth_named(name: str) -> Booth:
    return Booth.objects.get(name=name)


def search(client: Client, **params) -> dict:
    response = client.get("/api/booths", params)
    assert response.status_code == 200
    return response.json()


# --- session -------------------------------------------------------------------------------------

def test_session_of_an_anonymous_visitor(client, expo):
    response = client.get("/api/session")
    assert response.status_code == 200
    assert response.json() == {"user": None}
    assert response.cookies["csrftoken"].value


def test_login_returns_me_and_the_session_remembers(client, exhibitor_booth):
    response = login(client, "exhibitor", "exhibitor-demo")
    assert response.status_code == 200
    me = response.json()["user"]
    assert set(me) == ME_KEYS
    assert me["name"] == "Erik Exhibitor" and me["kind"] == "exhibitor"
    assert me["staff_of"] == [exhibitor_booth.pk]
    assert me["id"] == get_user_model().objects.get(username="exhibitor").pk
    assert client.get("/api/session").json() == {"user": me}


def test_login_of_a_visitor(client, expo):
    me = login(client, "visitor", "visitor-demo").json()["user"]
    assert me["kind"] == "visitor" and me["name"] == "Vera Visitor" and me["staff_of"] == []


def test_login_with_a_wrong_password_is_refused(client, expo):
    assert_error(login(client, "visitor", "not-the-password"), 400, "auth.invalid")
    assert_error(login(client, "nobody", "visitor-demo"), 400, "auth.invalid")
    assert_error(post(client, "/api/login"), 400, "auth.invalid")
    assert client.get("/api/session").json() == {"user": None}


def test_posts_need_the_csrf_token(expo):
    client = Client(enforce_csrf_checks=True)
    body = {"username": "visitor", "password": "visitor-demo"}
    assert post(client, "/api/login", body).status_code == 403
    assert post(client, "/api/guest", {"name": "Gina"}).status_code == 403
    token = client.get("/api/session").cookies["csrftoken"].value
    assert post(client, "/api/login", body, HTTP_X_CSRFTOKEN="wrong" * 8).status_code == 403
    response = post(client, "/api/login", body, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert response.json()["user"]["name"] == "Vera Visitor"
    # Logging in rotates the token; the new cookie works for the next POST.
    token = client.cookies["csrftoken"].value
    assert post(client, "/api/logout").status_code == 403
    response = post(client, "/api/logout", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and response.json() == {"user": None}


def test_guest_gets_an_account_and_is_logged_in(client, expo):
    response = post(client, "/api/guest", {"name": "Gina Guest"})
    assert response.status_code == 200
    me = response.json()["user"]
    assert set(me) == ME_KEYS
    assert me == {"id": me["id"], "name": "Gina Guest", "kind": "guest", "staff_of": [],
                  "moderator": False, "moderated_hall": None, "admin": False}
    assert client.get("/api/session").json() == {"user": me}
    other = Client()
    second = post(other, "/api/guest", {"name": "Gina Guest"}).json()["user"]
    assert second["id"] != me["id"]  # same display name, another guest


@pytest.mark.parametrize("name", ["x" * 40, "张伟", "  Li  Na  "])
def test_guest_names_of_1_to_40_characters(client, expo, name):
    response = post(client, "/api/guest", {"name": name})
    assert response.status_code == 200
    me = response.json()["user"]
    assert me["kind"] == "guest" and 1 <= len(me["name"]) <= 40
    assert me["name"] == " ".join(name.split())


@pytest.mark.parametrize("name", ["", "   ", "x" * 41, None])
def test_guest_names_that_are_empty_or_too_long_are_refused(client, expo, name):
    body = {} if name is None else {"name": name}
    assert_error(post(client, "/api/guest", body), 400, "guest.invalid_name")
    assert client.get("/api/session").json() == {"user": None}


def test_logout(client, expo):
    login(client, "visitor", "visitor-demo")
    response = post(client, "/api/logout")
    assert response.status_code == 200 and response.json() == {"user": None}
    assert client.get("/api/session").json() == {"user": None}


# --- directory -----------------------------------------------------------------------------------

def test_expo_lists_halls_with_lobbies_and_todays_roadshows(client, expo):
    response = client.get("/api/expo")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"expo", "halls", "roadshows"}
    assert data["expo"]["slug"] == "demo-expo" and data["expo"]["name"]
    halls = data["halls"]
    assert len(halls) == 6
    for hall in halls:
        assert set(hall) == HALL_KEYS
        assert hall["booth_count"] == 12
        lobby = Room.objects.get(pk=hall["lobby_room"])
        assert lobby.kind == "lobby" and lobby.hall_id == hall["id"]
    roadshows = data["roadshows"]
    assert len(roadshows) == 10
    for show in roadshows:
        assert set(show) == ROADSHOW_KEYS
        assert show["state"] in {"scheduled", "live", "ended"}
        room = Room.objects.get(pk=show["room"])
        assert room.kind == "roadshow" and room.roadshow_id == show["id"]
        assert datetime.fromisoformat(show["starts_at"]) < datetime.fromisoformat(show["ends_at"])
        assert Booth.objects.get(pk=show["booth"]).name == show["booth_name"]
    assert [s["state"] for s in roadshows].count("live") == 1


def test_expo_before_any_expo_exists(client, expo):
    Expo.objects.all().delete()
    assert client.get("/api/expo").status_code == 404


def test_hall_with_its_booths(client, expo):
    halls = client.get("/api/expo").json()["halls"]
    hall = halls[1]
    response = client.get(f"/api/halls/{hall['id']}")
    assert response.status_code == 200
    data = response.json()
    assert data["hall"] == hall
    booths = data["booths"]
    assert len(booths) == data["count"] == hall["booth_count"] == 12
    for booth in booths:
        assert set(booth) == SUMMARY_KEYS
        assert booth["hall"] == hall["id"] and booth["hall_name"] == hall["name"]
        room = Room.objects.get(pk=booth["room"])
        assert room.kind == "booth" and room.booth_id == booth["id"]
    assert {b["id"] for b in booths} == set(
        Booth.objects.filter(hall_id=hall["id"]).values_list("pk", flat=True))


def test_hall_booths_come_in_pages(client, expo):
    Expo.objects.all().delete()
    seed_demo(booths_per_hall=130)
    hall = client.get("/api/expo").json()["halls"][2]
    url = f"/api/halls/{hall['id']}"
    first = client.get(url).json()
    assert first["count"] == hall["booth_count"] == 130
    assert len(first["booths"]) == 48
    seen = [b["id"] for b in first["booths"]]
    seen += [b["id"] for b in client.get(url, {"offset": 48, "limit": 100}).json()["booths"]]
    assert len(seen) == len(set(seen)) == 130
    assert seen == list(Booth.objects.filter(hall_id=hall["id"]).values_list("pk", flat=True))
    assert len(client.get(url, {"limit": 1000}).json()["booths"]) == 100
    assert client.get(url, {"offset": 500}).json()["booths"] == []
    assert_error(client.get(url, {"limit": "ten"}), 400, "query.invalid")


def test_unknown_hall_and_booth_are_404(client, expo):
    assert client.get("/api/halls/999999").status_code == 404
    assert client.get("/api/booths/999999").status_code == 404


def test_unknown_hall_and_booth_answer_a_json_error(client, expo):
    for path in ("/api/halls/999999", "/api/booths/999999"):
        response = client.get(path)
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert set(response.json()["error"]) == {"code", "message"}


# --- booth search --------------------------------------------------------------------------------

@pytest.mark.parametrize(("q", "expected"), [
    ("Lianhe Robotics", "Suzhou Lianhe Robotics"),  # English name
    ("lianhe robotics", "Suzhou Lianhe Robotics"),  # case-insensitive
    ("联合机器人", "Suzhou Lianhe Robotics"),  # Chinese name
    ("perovskite", "Jiangsu Helios New Energy"),  # industry tag
    ("PEROVSKITE", "Jiangsu Helios New Energy"),
    ("molten salt", "Negev Solar Thermal"),  # description
])
def test_search_by_name_tag_and_description(client, expo, q, expected):
    data = search(client, q=q)
    assert expected in [b["name"] for b in data["results"]]
    assert data["count"] == len(data["results"])


def test_search_by_country_code_finds_every_booth_of_the_country(client, expo):
    finnish = set(Booth.objects.filter(country="FI").values_list("pk", flat=True))
    assert finnish
    for q in ("FI", "fi"):
        data = search(client, q=q, limit=100)
        assert finnish <= {b["id"] for b in data["results"]}


def test_search_results_all_match(client, expo):
    data = search(client, q="robot", limit=100)
    assert data["count"] >= 2
    for b in data["results"]:
        booth = Booth.objects.get(pk=b["id"])
        text = " ".join([booth.name, booth.name_zh, booth.description, *booth.industry_tags])
        assert "robot" in text.lower()


def test_filters_by_hall_kind_and_country(client, expo):
    hall = Hall.objects.order_by("position").first()
    data = search(client, hall=hall.pk, limit=100)
    assert data["count"] == 12 and {b["hall"] for b in data["results"]} == {hall.pk}

    data = search(client, kind="university", limit=100)
    assert data["count"] == Booth.objects.filter(kind="university").count() > 0
    assert {b["kind"] for b in data["results"]} == {"university"}

    data = search(client, country="cn", limit=100)  # case-insensitive
    assert data["count"] == Booth.objects.filter(country="CN").count() > 0
    assert {b["country"] for b in data["results"]} == {"CN"}

    data = search(client, hall=hall.pk, kind="company", country="CN", limit=100)
    expected = Booth.objects.filter(hall=hall, kind="company", country="CN")
    assert {b["id"] for b in data["results"]} == set(expected.values_list("pk", flat=True))

    assert search(client, hall=999999) == {"count": 0, "results": []}


def test_paging(client, expo):
    first = search(client)
    assert first["count"] == 72 and len(first["results"]) == 24  # default limit
    seen = []
    for offset in range(0, 72, 24):
        page = search(client, offset=offset, limit=24)
        assert page["count"] == 72
        seen += [b["id"] for b in page["results"]]
    assert len(seen) == len(set(seen)) == 72
    assert [b["id"] for b in first["results"]] == seen[:24]
    tail = search(client, offset=70, limit=24)
    assert [b["id"] for b in tail["results"]] == seen[70:]
    assert search(client, offset=500)["results"] == []


def test_limit_is_capped_at_100(client, expo):
    Expo.objects.all().delete()
    seed_demo(booths_per_hall=20)
    data = search(client, limit=1000)
    assert data["count"] == 120
    assert len(data["results"]) == 100
    assert len(search(client, limit=100, offset=100)["results"]) == 20


@pytest.mark.parametrize("params", [
    {"hall": "abc"}, {"hall": "-1"}, {"offset": "x"}, {"limit": "ten"}, {"limit": "1.5"},
])
def test_bad_search_parameters(client, expo, params):
    assert_error(client.get("/api/booths", params), 400, "query.invalid")


@pytest.mark.parametrize("params", [
    {"hall": "²"}, {"hall": "9" * 30}, {"offset": "9" * 30},
])
def test_out_of_range_search_parameters_are_refused_not_a_server_error(expo, params):
    client = Client(raise_request_exception=False)
    assert_error(client.get("/api/booths", params), 400, "query.invalid")


# --- booth detail --------------------------------------------------------------------------------

def test_booth_detail_for_a_visitor(client, exhibitor_booth):
    response = client.get(f"/api/booths/{exhibitor_booth.pk}")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == DETAIL_KEYS
    assert data["id"] == exhibitor_booth.pk and data["name"] == exhibitor_booth.name
    assert data["description"] == exhibitor_booth.description
    assert data["links"] == exhibitor_booth.links and data["links"]
    exhibitor = get_user_model().objects.get(username="exhibitor")
    assert {"id": exhibitor.pk, "name": "Erik Exhibitor", "title": "Sales lead"} in data["staff"]
    assert data["staff_room"] is None
    assert Room.objects.get(pk=data["room"]).booth_id == exhibitor_booth.pk
    for show in data["roadshows"]:
        assert set(show) == ROADSHOW_KEYS and show["booth"] == exhibitor_booth.pk
    summary = next(b for b in search(client, limit=100, hall=exhibitor_booth.hall_id)["results"]
                   if b["id"] == exhibitor_booth.pk)
    assert {k: data[k] for k in SUMMARY_KEYS} == summary

    login(client, "visitor", "visitor-demo")
    assert client.get(f"/api/booths/{exhibitor_booth.pk}").json()["staff_room"] is None


@pytest.mark.parametrize("username", ["exhibitor", "moderator"])
def test_staff_room_only_for_the_booths_staff_and_moderators(client, exhibitor_booth, username):
    login(client, username, f"{username}-demo")
    data = client.get(f"/api/booths/{exhibitor_booth.pk}").json()
    staff_room = Room.objects.get(kind="staff", booth=exhibitor_booth)
    assert data["staff_room"] == staff_room.pk


def test_staff_room_of_another_booth_stays_hidden_from_its_exhibitor(client, exhibitor_booth):
    login(client, "exhibitor", "exhibitor-demo")
    other = Booth.objects.exclude(pk=exhibitor_booth.pk).first()
    assert client.get(f"/api/booths/{other.pk}").json()["staff_room"] is None


# --- pages ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/hall/1", "/booth/1", "/login"])
def test_pages_serve_the_browser_ui(client, expo, path):
    if not (ROOT / "frontend" / "index.html").exists():
        pytest.skip("frontend/index.html is not written yet")
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"<html" in response.content.lower()
    assert response.cookies["csrftoken"].value


# --- moderators' rooms ---------------------------------------------------------------------------

def test_moderators_get_the_moderation_rooms_they_may_enter(client, expo):
    expo_room = Room.objects.get(kind="moderation", hall__isnull=True)
    hall_rooms = dict(Room.objects.filter(kind="moderation", hall__isnull=False)
                      .values_list("hall_id", "pk"))
    assert len(hall_rooms) == 6
    by_id = sorted((pk, hall) for hall, pk in hall_rooms.items())
    everything = [{"id": expo_room.pk, "hall": None}, *({"id": pk, "hall": hall}
                                                       for pk, hall in by_id)]

    # Nobody else hears of them: anonymous visitors, visitors, booth staff.
    assert "moderation_rooms" not in client.get("/api/expo").json()
    for username in ("visitor", "exhibitor"):
        login(client, username, f"{username}-demo")
        assert "moderation_rooms" not in client.get("/api/expo").json()

    # Expo-wide moderators and admins: the expo-wide room first, then every hall's.
    for username in ("moderator", "admin"):
        login(client, username, f"{username}-demo")
        assert client.get("/api/expo").json()["moderation_rooms"] == everything

    # A hall moderator: their hall's room only.
    from booths.models import Profile

    hall = Hall.objects.order_by("pk")[2]
    Profile.objects.filter(user__username="moderator").update(moderated_hall=hall)
    login(client, "moderator", "moderator-demo")
    assert client.get("/api/expo").json()["moderation_rooms"] == [
        {"id": hall_rooms[hall.pk], "hall": hall.pk}]


def test_the_moderator_console_page_serves_the_browser_ui(client, expo):
    if not (ROOT / "frontend" / "index.html").exists():
        pytest.skip("frontend/index.html is not written yet")
    response = client.get("/moderate")
    assert response.status_code == 200
    assert b"<html" in response.content.lower()
