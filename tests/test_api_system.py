"""The HTTP API's throttles and health checks on two real daphne processes sharing a Redis,
behind (what they take for) a proxy: HALLSERVER_PROXY_HEADERS=true, so the client address is
the X-Forwarded-For one, as the WebSocket side sees it."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar

import pytest

from tests.conftest import ServerProcess, prepare_database, server_env

pytestmark = [pytest.mark.system]

TIMEOUT = 30  # a safety net for a loaded machine, not a measure


@pytest.fixture(scope="module")
def throttled_pair(tmp_path_factory, redis_url) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    data_dir = tmp_path_factory.mktemp("throttled")
    env = server_env(
        data_dir, REDIS_URL=redis_url,
        HALLSERVER_REDIS_PREFIX=f"t{os.getpid()}-{time.monotonic_ns()}:",
        HALLSERVER_PROXY_HEADERS="true",
        # Windows of an hour: nothing here waits on the clock.
        HALLSERVER_RATE_GUEST_ADDRESS="2/hour",
        HALLSERVER_RATE_LOGIN_ADDRESS="1000/hour",
        HALLSERVER_RATE_LOGIN_ACCOUNT="3/hour",
        HALLSERVER_RATE_SIGNUP_ADDRESS="2/hour",
    )
    prepare_database(env)
    first = ServerProcess(env, "throttled1")
    try:
        second = ServerProcess(env, "throttled2")
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


def call(base: str, method: str, path: str, body: dict | None = None,
         forwarded_for: str | None = None) -> tuple[int, dict, dict]:
    """One request in a fresh browser-like session: get the CSRF cookie, then send the token."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    opener.open(urllib.request.Request(base + "/api/session", headers=headers), timeout=TIMEOUT)
    token = next(c.value for c in jar if c.name == "csrftoken")
    request = urllib.request.Request(
        base + path, method=method, data=json.dumps(body or {}).encode(),
        headers={**headers, "Content-Type": "application/json", "X-CSRFToken": token})
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_guest_throttle_is_shared_and_keyed_by_the_forwarded_address(throttled_pair):
    first, second = throttled_pair
    assert call(first.url, "POST", "/api/guest", {"name": "A1"}, "203.0.113.1")[0] == 200
    assert call(second.url, "POST", "/api/guest", {"name": "A2"}, "203.0.113.1")[0] == 200
    status, headers, body = call(first.url, "POST", "/api/guest", {"name": "A3"}, "203.0.113.1")
    assert status == 429 and body["error"]["code"] == "rate.limited"
    assert int(headers["Retry-After"]) >= 1
    # Every request came from 127.0.0.1: the budget follows the forwarded address.
    assert call(second.url, "POST", "/api/guest", {"name": "B1"}, "203.0.113.2")[0] == 200


def test_wrong_passwords_for_one_account_are_counted_over_both_processes(throttled_pair):
    first, second = throttled_pair
    for n, server in enumerate((first, second, first)):
        status, _, body = call(server.url, "POST", "/api/login",
                               {"username": "visitor", "password": f"guess-{n}"},
                               f"198.51.100.{n + 1}")
        assert status == 400 and body["error"]["code"] == "auth.invalid"
    status, _, body = call(second.url, "POST", "/api/login",
                           {"username": "visitor", "password": "visitor-demo"}, "198.51.100.9")
    assert status == 429 and body["error"]["code"] == "rate.limited"
    # Another account is not held up.
    status, _, body = call(first.url, "POST", "/api/login",
                           {"username": "exhibitor", "password": "exhibitor-demo"},
                           "198.51.100.9")
    assert status == 200 and body["user"]["name"] == "Erik Exhibitor"


def test_sign_ups_are_counted_over_both_processes_like_logins(throttled_pair):
    first, second = throttled_pair

    def sign_up(server, name: str, address: str) -> tuple[int, dict]:
        status, _, body = call(server.url, "POST", "/api/signup",
                               {"username": name, "password": "a sturdy passphrase",
                                "display_name": name}, address)
        return status, body

    assert sign_up(first, "sally", "203.0.113.50")[0] == 201
    assert sign_up(second, "sammy", "203.0.113.50")[0] == 201
    status, body = sign_up(first, "sonja", "203.0.113.50")
    assert status == 429 and body["error"]["code"] == "rate.limited"
    # The budget follows the forwarded address, as guest entry's and login's do.
    assert sign_up(second, "sonja", "203.0.113.51")[0] == 201


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_checks_answer_on_a_real_server(throttled_pair, path):
    for server in throttled_pair:
        with urllib.request.urlopen(server.url + path, timeout=TIMEOUT) as response:
            body = json.loads(response.read())
        assert response.status == 200 and body["status"] == "ok"
        if path == "/readyz":
            assert all(check["ok"] and "skipped" not in check
                       for check in body["checks"].values())


def test_a_peer_that_is_not_a_trusted_proxy_cannot_choose_its_address(tmp_path, redis_url):
    """The server port reached directly (here from 127.0.0.1, told it is not a proxy): the
    X-Forwarded-For it sends is ignored, so changing it does not buy a fresh budget."""
    env = server_env(
        tmp_path, REDIS_URL=redis_url,
        HALLSERVER_REDIS_PREFIX=f"u{os.getpid()}-{time.monotonic_ns()}:",
        HALLSERVER_PROXY_HEADERS="true", HALLSERVER_TRUSTED_PROXIES="10.0.0.0/8",
        HALLSERVER_RATE_GUEST_ADDRESS="2/hour",
    )
    prepare_database(env)
    server = ServerProcess(env, "untrusted")
    try:
        for n in (1, 2):
            assert call(server.url, "POST", "/api/guest", {"name": f"G{n}"},
                        f"203.0.113.{n}")[0] == 200
        status, _, body = call(server.url, "POST", "/api/guest", {"name": "G3"}, "203.0.113.3")
        assert status == 429 and body["error"]["code"] == "rate.limited"
    finally:
        server.stop()
