"""The HTTP API's refusals: one JSON error shape for everything under /api/, CSRF and Origin
checks on the session-cookie API, and the throttles on guest entry and login
(docs/api.md, docs/permissions.md)."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client

from booths.models import Profile
from booths.services import expo
from hallserver.api import api
from hallserver.errors import DomainError
from tests.conftest import free_port

pytestmark = [pytest.mark.django_db]

User = get_user_model()


def unsafe_operations() -> list[tuple[str, str]]:
    """Every operation of the OpenAPI document that is not GET, of every app (accounts and
    recruitment have no CSRF check of their own: the API's is the one), with 1 for each
    path parameter."""
    schema = api.get_openapi_schema()
    return sorted((method.upper(), re.sub(r"\{[^}]+\}", "1", path))
                  for path, operations in schema["paths"].items()
                  for method in operations if method != "get")


UNSAFE_OPERATIONS = unsafe_operations()


class CountingHasher(MD5PasswordHasher):
    """The test suite's fast hasher, counting how often a password is hashed or checked."""

    calls = 0

    def encode(self, password: str, salt: str) -> str:
        type(self).calls += 1
        return super().encode(password, salt)


@pytest.fixture
def hasher(settings) -> type[CountingHasher]:
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.calls = 0
    return CountingHasher


@pytest.fixture
def ada(hasher):
    user = User.objects.create_user("ada", password="ada-password")
    Profile.objects.create(user=user, display_name="Ada", kind=Profile.Kind.VISITOR)
    return user


def limits(settings, **rates: str) -> None:
    settings.HALLSERVER = {**settings.HALLSERVER, **rates}


def post(client: Client, path: str, data: dict | None = None, **extra):
    return client.post(path, data or {}, content_type="application/json", **extra)


def login(client: Client, username: str, password: str, address: str = "127.0.0.1"):
    return post(client, "/api/login", {"username": username, "password": password},
                REMOTE_ADDR=address)


def guest(client: Client, name: str, address: str = "127.0.0.1"):
    return post(client, "/api/guest", {"name": name}, REMOTE_ADDR=address)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


def assert_rate_limited(response) -> None:
    error = assert_error(response, 429, "rate.limited")
    assert error["retry_after"] > 0
    assert int(response["Retry-After"]) >= 1


def csrf_client() -> tuple[Client, str]:
    """A client that gets CSRF checks, with its csrftoken cookie."""
    client = Client(enforce_csrf_checks=True)
    return client, client.get("/api/session").cookies["csrftoken"].value


# --- one error shape ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/nowhere", "/api/booths/abc", "/api/halls/1/more",
                                  "/api/"])
def test_unknown_api_paths_are_a_json_404(client, path):
    assert_error(client.get(path), 404, "api.not_found")


def test_unknown_objects_are_a_json_404(client):
    assert_error(client.get("/api/halls/999999"), 404, "hall.not_found")
    assert_error(client.get("/api/booths/999999"), 404, "booth.not_found")
    assert_error(client.get("/api/expo"), 404, "expo.not_found")


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("post", "/api/session", "GET"), ("get", "/api/login", "POST"),
    ("delete", "/api/booths", "GET"), ("put", "/api/guest", "POST"),
])
def test_wrong_methods_are_a_json_405_with_allow(client, method, path, allowed):
    response = getattr(client, method)(path)
    assert_error(response, 405, "method.not_allowed")
    assert response["Allow"] == allowed


def test_a_body_of_the_wrong_shape_is_a_json_422_with_details(client):
    error = assert_error(post(client, "/api/guest", {"name": ["not", "text"]}), 422,
                         "request.invalid")
    assert error["details"][0]["loc"] == ["body", "body", "name"]
    assert User.objects.count() == 0


def test_a_body_that_is_not_json_is_a_json_400(client):
    response = client.post("/api/login", "username=ada", content_type="application/json")
    assert_error(response, 400, "request.malformed")


def test_a_server_error_is_a_json_500(monkeypatch):
    def broken(visitor):
        raise RuntimeError("the directory broke")

    monkeypatch.setattr(expo, "overview", broken)
    response = Client(raise_request_exception=False).get("/api/expo")
    assert_error(response, 500, "server.error")
    assert "broke" not in response.content.decode()


def test_a_host_that_is_not_allowed_is_a_json_400(client, settings):
    settings.ALLOWED_HOSTS = ["expo.example.org"]
    response = client.get("/api/session", HTTP_HOST="attacker.example")
    assert_error(response, 400, "request.malformed")


def test_errors_outside_the_api_stay_html(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(("error", "status"), [
    (DomainError("booth.not_found", "No booth 9."), 404),
    (DomainError("perm.denied", "Not yours.", {"room": 4}), 403),
    (DomainError("rate.limited", "Slow down.", {"retry_after": 2.2}), 429),
    (DomainError("server.unavailable", "Redis is away."), 503),
    (DomainError("some.code", "A future app's refusal.", {"until": None}), 400),
])
def test_a_domain_error_becomes_the_error_answer_unchanged(rf, error, status):
    response = api.on_exception(rf.get("/api/anything"), error)
    assert response.status_code == status
    assert json.loads(response.content) == {"error": {"code": error.code,
                                                      "message": error.message, **error.extra}}
    if status == 429:
        assert response["Retry-After"] == "3"


# --- CSRF and Origin ---------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), UNSAFE_OPERATIONS)
def test_every_unsafe_operation_needs_the_csrf_token(method, path):
    client, token = csrf_client()
    assert token  # the cookie is there; the header is not
    assert_error(client.generic(method, path, "{}", content_type="application/json"), 403,
                 "csrf.failed")
    response = client.generic(method, path, "{}", content_type="application/json",
                              HTTP_X_CSRFTOKEN="x" * 32)
    assert_error(response, 403, "csrf.failed")


@pytest.mark.parametrize(("method", "path"), UNSAFE_OPERATIONS)
def test_every_unsafe_operation_refuses_another_sites_origin(method, path):
    client, token = csrf_client()
    response = client.generic(method, path, "{}", content_type="application/json",
                              HTTP_X_CSRFTOKEN=token, HTTP_ORIGIN="https://evil.example")
    error = assert_error(response, 403, "origin.refused")
    assert "evil.example" in error["message"]


def test_a_session_cookie_does_not_stand_in_for_the_token(ada):
    client, token = csrf_client()
    assert post(client, "/api/login", {"username": "ada", "password": "ada-password"},
                HTTP_X_CSRFTOKEN=token).status_code == 200
    assert client.cookies["sessionid"].value
    # A cross-site form or fetch carries the session cookie but cannot read the token.
    assert_error(post(client, "/api/logout"), 403, "csrf.failed")
    assert client.get("/api/session").json()["user"]["name"] == "Ada"
    assert_error(post(client, "/api/guest", {"name": "Mallory"}), 403, "csrf.failed")
    assert not Profile.objects.filter(display_name="Mallory").exists()
    # The page's own script sends the (rotated) token and may.
    token = client.cookies["csrftoken"].value
    response = post(client, "/api/logout", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and response.json() == {"user": None}


def test_the_same_origin_passes(ada):
    client, token = csrf_client()
    response = post(client, "/api/login", {"username": "ada", "password": "ada-password"},
                    HTTP_X_CSRFTOKEN=token, HTTP_ORIGIN="http://testserver")
    assert response.status_code == 200


def test_csrf_refusals_outside_the_api_stay_djangos_page():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


# --- throttles: guest entry ----------------------------------------------------------------------

def test_guest_entries_are_refused_past_the_limit_and_make_no_account(client, settings):
    limits(settings, RATE_GUEST_ADDRESS="3/hour")
    for n in range(3):
        assert guest(Client(), f"Guest {n}", "203.0.113.7").status_code == 200
    users = User.objects.count()
    assert_rate_limited(guest(client, "One too many", "203.0.113.7"))
    assert User.objects.count() == users
    assert client.get("/api/session").json() == {"user": None}
    # Another address has its own budget.
    assert guest(client, "Neighbour", "203.0.113.8").status_code == 200


# --- throttles: login ----------------------------------------------------------------------------

def test_logins_are_refused_per_address(settings, ada):
    limits(settings, RATE_LOGIN_ADDRESS="3/hour")
    for _ in range(3):
        assert_error(login(Client(), "ada", "wrong", "198.51.100.1"), 400, "auth.invalid")
    # Even the right password: the address is over its limit.
    assert_rate_limited(login(Client(), "ada", "ada-password", "198.51.100.1"))
    assert login(Client(), "ada", "ada-password", "198.51.100.2").status_code == 200


def test_wrong_passwords_for_one_account_are_refused_from_every_address(settings, ada, hasher):
    limits(settings, RATE_LOGIN_ACCOUNT="5/hour")
    for n in range(5):
        assert_error(login(Client(), "ada", f"guess-{n}", f"192.0.2.{n + 1}"), 400,
                     "auth.invalid")
    checked = hasher.calls
    assert checked >= 5
    # A sixth address, and case does not make another account.
    for n, name in enumerate(["ada", "ADA", "Ada "]):
        assert_rate_limited(login(Client(), name, "ada-password", f"192.0.2.{n + 10}"))
    # Refused logins cost no password check (about a quarter of a second of CPU each with
    # Django's default hasher).
    assert hasher.calls == checked
    # Other accounts are not affected.
    User.objects.create_user("bob", password="bob-password")
    assert login(Client(), "bob", "bob-password", "192.0.2.99").status_code == 200


def test_unknown_account_names_are_counted_too(settings, hasher):
    limits(settings, RATE_LOGIN_ACCOUNT="2/hour")
    for address in ("192.0.2.1", "192.0.2.2"):
        assert_error(login(Client(), "nobody", "x", address), 400, "auth.invalid")
    checked = hasher.calls
    assert_rate_limited(login(Client(), "nobody", "x", "192.0.2.3"))
    assert hasher.calls == checked


def test_successful_logins_do_not_use_up_the_accounts_budget(settings, ada):
    limits(settings, RATE_LOGIN_ACCOUNT="2/hour")
    for n in range(5):
        assert login(Client(), "ada", "ada-password", f"192.0.2.{n + 1}").status_code == 200


# --- throttles through Redis ---------------------------------------------------------------------

@pytest.fixture
def shared_limits(settings, redis_url):
    """The throttles in the test Redis, under a prefix of their own."""
    settings.REDIS_URL = redis_url
    settings.HALLSERVER = {**settings.HALLSERVER, "REDIS_PREFIX": f"t-{uuid.uuid4().hex}:"}


def test_throttles_in_redis_hold_for_every_process(settings, shared_limits, ada):
    from booths import runtime

    limits(settings, RATE_GUEST_ADDRESS="2/hour", RATE_LOGIN_ACCOUNT="2/hour")
    assert guest(Client(), "One", "203.0.113.9").status_code == 200
    assert_error(login(Client(), "ada", "wrong", "192.0.2.1"), 400, "auth.invalid")
    # What another process would see: a fresh set of limits over the same Redis.
    runtime.limits.cache_clear()
    assert guest(Client(), "Two", "203.0.113.9").status_code == 200
    assert_error(login(Client(), "ada", "wrong", "192.0.2.2"), 400, "auth.invalid")
    runtime.limits.cache_clear()
    assert_rate_limited(guest(Client(), "Three", "203.0.113.9"))
    assert_rate_limited(login(Client(), "ada", "ada-password", "192.0.2.3"))


def test_without_redis_the_throttled_endpoints_refuse_rather_than_let_through(settings, hasher):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens
    users = User.objects.count()
    assert_error(guest(Client(), "Gina"), 503, "server.unavailable")
    assert User.objects.count() == users
    assert_error(login(Client(), "ada", "ada-password"), 503, "server.unavailable")
    assert hasher.calls == 0


# --- the admin -----------------------------------------------------------------------------------

def test_the_admin_is_for_staff_users_only(ada):
    client = Client()
    assert client.get("/admin/").status_code == 302  # anonymous: to the admin's login
    client.force_login(ada)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    ada.is_staff = True
    ada.save()
    assert client.get("/admin/").status_code == 200
