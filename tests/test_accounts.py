"""Sign-up, guest upgrade and profiles over the HTTP API (docs/api.md, "Accounts")."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from booths.models import ChatMessage, Profile, Room
from tests.conftest import free_port
from tests.recruitment_world import make_world

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def world():
    return make_world()


def post(client, path, data=None, **extra):
    return client.post(path, data or {}, content_type="application/json", **extra)


def put(client, path, data):
    return client.put(path, data, content_type="application/json")


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    return body["error"]["code"]


def test_sign_up_creates_a_visitor_and_logs_in():
    client = Client()
    response = post(client, "/api/signup", {"username": "nina@example.org",
                                            "password": "correct horse battery",
                                            "display_name": "  Nina   N "})
    assert response.status_code == 201, response.content
    me = response.json()["user"]
    assert me["name"] == "Nina N" and me["kind"] == "visitor"
    assert client.get("/api/session").json()["user"]["id"] == me["id"]
    user = get_user_model().objects.get(pk=me["id"])
    assert user.email == "nina@example.org" and user.check_password("correct horse battery")


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"username": "nina", "password": "password", "display_name": "N"}, 400,
     "account.weak_password"),
    ({"username": "nina", "password": "12345678901", "display_name": "N"}, 400,
     "account.weak_password"),
    ({"username": "ninaninanina", "password": "ninaninanina", "display_name": "N"}, 400,
     "account.weak_password"),
    ({"username": "ni/na", "password": "correct horse battery", "display_name": "N"}, 400,
     "account.invalid_username"),
    ({"username": "guest-x", "password": "correct horse battery", "display_name": "N"}, 400,
     "account.invalid_username"),
    ({"username": "x@", "password": "correct horse battery", "display_name": "N"}, 400,
     "account.invalid_username"),
    ({"username": "nina", "password": "correct horse battery", "display_name": "   "}, 400,
     "account.invalid_name"),
    ({"username": "nina", "password": "correct horse battery"}, 422, "request.invalid"),
])
def test_sign_up_refusals(body, status, code):
    assert error_of(post(Client(), "/api/signup", body), status) == code
    assert not get_user_model().objects.filter(username="nina").exists()


def test_sign_up_refuses_a_taken_name_in_any_case(world):
    response = post(Client(), "/api/signup", {"username": "VERA", "password": "another good one",
                                              "display_name": "V"})
    assert error_of(response, 409) == "account.taken"


def test_sign_up_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    response = post(client, "/api/signup", {"username": "nina", "password": "correct horse b",
                                            "display_name": "N"})
    assert error_of(response, 403) == "csrf.failed"
    assert not get_user_model().objects.filter(username="nina").exists()
    # With the token (the cookie's value in X-CSRFToken), as the page sends it.
    token = client.get("/api/session").cookies["csrftoken"].value
    response = post(client, "/api/signup", {"username": "nina", "password": "correct horse b",
                                            "display_name": "N"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content


def test_a_logged_in_session_still_needs_the_token_to_change_anything(world):
    """The API's CSRF check (hallserver/api.py) covers accounts' operations for sessions
    too: a cross-site request carries the session cookie but not the token."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["guest"])
    token = client.get("/api/session").cookies["csrftoken"].value
    assert error_of(put(client, "/api/profile", {**PROFILE, "headline": "Hacked"}),
                    403) == "csrf.failed"
    assert error_of(post(client, "/api/upgrade", {"username": "gus",
                                                  "password": "correct horse 99"}),
                    403) == "csrf.failed"
    world["guest"].refresh_from_db()
    assert world["guest"].username == "guest-abc"
    assert client.get("/api/profile").json()["headline"] == ""
    response = client.put("/api/profile", {**PROFILE, "headline": "Mine"},
                          content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and response.json()["headline"] == "Mine"


def test_sign_up_is_throttled_per_address(settings):
    settings.HALLSERVER = {**settings.HALLSERVER, "RATE_SIGNUP_ADDRESS": "2/hour"}
    for n in range(2):
        assert post(Client(), "/api/signup", {"username": f"user{n}", "password": "x",
                                              "display_name": "U"}).status_code == 400
    response = post(Client(), "/api/signup", {"username": "user9",
                                              "password": "correct horse battery",
                                              "display_name": "U"})
    assert error_of(response, 429) == "rate.limited"
    assert response.json()["error"]["retry_after"] > 0
    assert int(response["Retry-After"]) >= 1
    assert not get_user_model().objects.filter(username="user9").exists()
    # Another address is not affected.
    response = post(Client(REMOTE_ADDR="10.1.2.3"), "/api/signup", {
        "username": "user9", "password": "correct horse battery", "display_name": "U"})
    assert response.status_code == 201


def test_guest_upgrades_share_the_sign_up_budget(settings, world):
    settings.HALLSERVER = {**settings.HALLSERVER, "RATE_SIGNUP_ADDRESS": "1/hour"}
    assert post(Client(REMOTE_ADDR="10.9.9.9"), "/api/signup", {
        "username": "nina", "password": "correct horse battery",
        "display_name": "N"}).status_code == 201
    client = Client(REMOTE_ADDR="10.9.9.9")
    client.force_login(world["guest"])
    response = post(client, "/api/upgrade", {"username": "gus", "password": "correct horse 99"})
    assert error_of(response, 429) == "rate.limited"
    world["guest"].refresh_from_db()
    assert world["guest"].username == "guest-abc"


def test_sign_ups_are_counted_in_redis_for_every_process(settings, redis_url):
    """The throttle is the shared rate-limit service: a fresh set of limits over the same
    Redis (what another process has) sees the attempts already made."""
    from booths import runtime

    settings.REDIS_URL = redis_url
    settings.HALLSERVER = {**settings.HALLSERVER, "REDIS_PREFIX": f"t-{uuid.uuid4().hex}:",
                           "RATE_SIGNUP_ADDRESS": "1/hour"}
    assert post(Client(), "/api/signup", {"username": "nina", "password": "correct horse b",
                                          "display_name": "N"}).status_code == 201
    runtime.limits.cache_clear()
    response = post(Client(), "/api/signup", {"username": "nino",
                                              "password": "correct horse b",
                                              "display_name": "N"})
    assert error_of(response, 429) == "rate.limited"


def test_without_redis_sign_up_is_refused_rather_than_let_through(settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens
    response = post(Client(), "/api/signup", {"username": "nina", "password": "correct horse b",
                                              "display_name": "N"})
    assert error_of(response, 503) == "server.unavailable"
    assert not get_user_model().objects.filter(username="nina").exists()


def test_guest_upgrade_keeps_the_user_and_its_chat_history(world):
    guest = world["guest"]
    room = Room.objects.get(booth=world["booth_a"], kind=Room.Kind.BOOTH)
    ChatMessage.objects.create(room=room, seq=1, author=guest, author_name="Gus Guest",
                               body="hello from a guest")
    client = Client()
    client.force_login(guest)
    response = post(client, "/api/upgrade", {"username": "gus", "password": "correct horse 99"})
    assert response.status_code == 200, response.content
    assert response.json()["user"]["id"] == guest.pk
    assert response.json()["user"]["kind"] == "visitor"
    guest.refresh_from_db()
    assert guest.username == "gus" and guest.check_password("correct horse 99")
    assert Profile.objects.get(user=guest).display_name == "Gus Guest"
    assert ChatMessage.objects.filter(author=guest).count() == 1
    # Only once: a full account is not a guest any more.
    again = post(client, "/api/upgrade", {"username": "gus2", "password": "correct horse 99"})
    assert error_of(again, 409) == "account.not_guest"


def test_upgrade_refusals(world):
    assert error_of(post(Client(), "/api/upgrade", {"username": "a", "password": "b"}),
                    401) == "auth.required"
    client = Client()
    client.force_login(world["vera"])
    assert error_of(post(client, "/api/upgrade", {"username": "vera2",
                                                  "password": "correct horse 99"}),
                    409) == "account.not_guest"
    client.force_login(world["guest"])
    assert error_of(post(client, "/api/upgrade", {"username": "vera",
                                                  "password": "correct horse 99"}),
                    409) == "account.taken"
    assert error_of(post(client, "/api/upgrade", {"username": "gus", "password": "gus"}),
                    400) == "account.weak_password"
    world["guest"].refresh_from_db()
    assert world["guest"].username == "guest-abc"


PROFILE = {"display_name": "Vera V", "organisation": "Uni", "country": "de",
           "languages": ["de", "en"], "headline": "Chemist", "interests": ["catalysis"],
           "visible_to_booth_staff": False, "talent_search": True}


def test_profile_edit_and_privacy(world):
    vera = Client()
    vera.force_login(world["vera"])
    response = put(vera, "/api/profile", PROFILE)
    assert response.status_code == 200, response.content
    assert response.json()["country"] == "DE" and response.json()["talent_search"] is True
    assert vera.get("/api/profile").json()["headline"] == "Chemist"
    assert vera.get(f"/api/users/{world['vera'].pk}/profile").status_code == 200

    staff = Client()
    staff.force_login(world["staff_a"])
    walt = Client()
    walt.force_login(world["walt"])
    # Not visible to booth staff: 404, like for every other visitor.
    assert error_of(staff.get(f"/api/users/{world['vera'].pk}/profile"),
                    404) == "profile.not_found"
    assert error_of(walt.get(f"/api/users/{world['vera'].pk}/profile"),
                    404) == "profile.not_found"
    # Allowed, but Vera is in none of the staff member's booth rooms: still 404 (when she is,
    # and when she applied there: tests/test_profile_visibility.py).
    put(vera, "/api/profile", {**PROFILE, "visible_to_booth_staff": True})
    assert error_of(staff.get(f"/api/users/{world['vera'].pk}/profile"),
                    404) == "profile.not_found"
    assert walt.get(f"/api/users/{world['vera'].pk}/profile").status_code == 404
    assert error_of(staff.get("/api/users/999999/profile"), 404) == "profile.not_found"


def test_profile_refuses_bad_input(world):
    vera = Client()
    vera.force_login(world["vera"])
    for bad in ({**PROFILE, "country": "Germany"}, {**PROFILE, "display_name": ""},
                {**PROFILE, "interests": ["x" * 41]}, {**PROFILE, "extra": 1}):
        assert error_of(put(vera, "/api/profile", bad), 422) == "request.invalid"
    assert error_of(Client().get("/api/profile"), 401) == "auth.required"
