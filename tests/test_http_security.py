"""HTTP security headers and settings: Content-Security-Policy (with the page's nonce), HSTS,
Secure cookies, HTTPS behind a proxy, nosniff, Referrer-Policy, framing; and the settings that
come from the environment (README: Configuration)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.django_db]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_pages_carry_a_csp_whose_nonce_is_the_import_maps(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = policy(response)
    html = response.content.decode()
    (nonce,) = re.findall(r'<script type="importmap" nonce="([^"]+)">', html)
    assert csp["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    # No other inline script on the page.
    inline = [tag for tag in re.findall(r"<script[^>]*>", html) if "src=" not in tag]
    assert inline == [f'<script type="importmap" nonce="{nonce}">']
    # A fresh nonce for every answer.
    assert policy(client.get("/"))["script-src"][1] != f"'nonce-{nonce}'"


def test_the_policy_fits_the_browser_ui(client):
    csp = policy(client.get("/booth/1"))
    assert csp["default-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]  # no inline styles
    # The WebSocket, API calls and HLS fetches: this origin only ('self' covers ws/wss).
    assert csp["connect-src"] == ["'self'"]
    # HLS through Media Source Extensions plays blob: URLs; hls.js's worker is a blob:.
    assert set(csp["media-src"]) == {"'self'", "blob:"}
    assert set(csp["worker-src"]) == {"'self'", "blob:"}
    assert {"'self'", "data:", "https:"} <= set(csp["img-src"])
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]


@pytest.mark.parametrize("path", ["/", "/api/session", "/api/nowhere", "/api/docs"])
def test_security_headers_on_pages_and_api_answers(client, path):
    response = client.get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_the_docs_page_has_no_nonce_to_give(client):
    # Swagger UI needs no inline script: the policy for it has no nonce.
    assert policy(client.get("/api/docs"))["script-src"] == ["'self'"]


def test_report_only_sends_the_policy_without_enforcing_it(settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = settings.CONTENT_SECURITY_POLICY
    del settings.CONTENT_SECURITY_POLICY
    response = Client().get("/")
    assert "Content-Security-Policy" not in response
    assert "default-src 'self'" in response["Content-Security-Policy-Report-Only"]


def test_hsts_only_over_https(settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    client = Client()
    assert "Strict-Transport-Security" not in client.get("/")
    assert client.get("/", secure=True)["Strict-Transport-Security"] == "max-age=31536000"


def test_https_behind_a_proxy_counts_as_https(settings):
    settings.SECURE_HSTS_SECONDS = 600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = Client()
    response = client.get("/", HTTP_X_FORWARDED_PROTO="https")
    assert response["Strict-Transport-Security"] == "max-age=600"
    assert "Strict-Transport-Security" not in client.get("/", HTTP_X_FORWARDED_PROTO="http")


def test_secure_cookies(settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    client = Client()
    response = client.get("/api/session", secure=True)
    assert response.cookies["csrftoken"]["secure"] is True
    response = client.post("/api/guest", {"name": "Gina"}, content_type="application/json",
                           secure=True)
    assert response.status_code == 200
    assert response.cookies["sessionid"]["secure"] is True


def settings_under(env: dict[str, str]) -> dict:
    """Selected Django settings as a process started with ``env`` sees them."""
    script = (
        "import json, django\n"
        "from django.conf import settings as s\n"
        "django.setup()\n"
        "print(json.dumps({k: getattr(s, k, None) for k in ('SECURE_HSTS_SECONDS', "
        "'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', 'SESSION_COOKIE_SECURE', "
        "'CSRF_COOKIE_SECURE', 'SECURE_PROXY_SSL_HEADER', 'SECURE_REFERRER_POLICY', "
        "'SECURE_CONTENT_TYPE_NOSNIFF')} | {'rates': {k: v for k, v in s.HALLSERVER.items() "
        "if k.startswith(('RATE_GUEST', 'RATE_LOGIN')) or k == 'READY_TIMEOUT'}, "
        "'csp': 'CONTENT_SECURITY_POLICY' in dir(s), "
        "'csp_ro': 'CONTENT_SECURITY_POLICY_REPORT_ONLY' in dir(s), "
        "'img': (getattr(s, 'CONTENT_SECURITY_POLICY', None) or "
        "s.CONTENT_SECURITY_POLICY_REPORT_ONLY)['DIRECTIVES']['img-src']}))\n"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HALLSERVER_")}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, text=True,
                         capture_output=True,
                         env={**clean, "DJANGO_SETTINGS_MODULE": "hallserver.settings", **env})
    return json.loads(out.stdout)


def test_settings_from_the_environment():
    defaults = settings_under({})
    assert defaults["SECURE_HSTS_SECONDS"] == 0
    assert defaults["SESSION_COOKIE_SECURE"] is False and defaults["CSRF_COOKIE_SECURE"] is False
    assert defaults["SECURE_PROXY_SSL_HEADER"] is None
    assert defaults["SECURE_REFERRER_POLICY"] == "same-origin"
    assert defaults["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert defaults["rates"] == {"RATE_GUEST_ADDRESS": "20/minute",
                                 "RATE_LOGIN_ADDRESS": "30/minute",
                                 "RATE_LOGIN_ACCOUNT": "10/10minutes", "READY_TIMEOUT": 2.0}
    assert defaults["csp"] and not defaults["csp_ro"]

    configured = settings_under({
        "HALLSERVER_HSTS_SECONDS": "63072000", "HALLSERVER_HSTS_INCLUDE_SUBDOMAINS": "true",
        "HALLSERVER_HSTS_PRELOAD": "true", "HALLSERVER_SECURE_COOKIES": "true",
        "HALLSERVER_HTTPS_PROXY_HEADER": "X-Forwarded-Proto",
        "HALLSERVER_REFERRER_POLICY": "strict-origin-when-cross-origin",
        "HALLSERVER_RATE_GUEST_ADDRESS": "5/minute", "HALLSERVER_RATE_LOGIN_ADDRESS": "6/hour",
        "HALLSERVER_RATE_LOGIN_ACCOUNT": "7/day", "HALLSERVER_READY_TIMEOUT": "0.5",
        "HALLSERVER_CSP_REPORT_ONLY": "true",
        "HALLSERVER_CSP_IMG_SRC": "https://logos.example.org",
    })
    assert configured["SECURE_HSTS_SECONDS"] == 63072000
    assert configured["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert configured["SECURE_HSTS_PRELOAD"] is True
    assert configured["SESSION_COOKIE_SECURE"] is True and configured["CSRF_COOKIE_SECURE"]
    assert configured["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert configured["SECURE_REFERRER_POLICY"] == "strict-origin-when-cross-origin"
    assert configured["rates"] == {"RATE_GUEST_ADDRESS": "5/minute",
                                   "RATE_LOGIN_ADDRESS": "6/hour",
                                   "RATE_LOGIN_ACCOUNT": "7/day", "READY_TIMEOUT": 0.5}
    assert configured["csp_ro"] and not configured["csp"]
    assert configured["img"] == ["'self'", "data:", "blob:", "https://logos.example.org"]


def test_every_setting_is_in_the_readme_configuration_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("HALLSERVER_RATE_GUEST_ADDRESS", "HALLSERVER_RATE_LOGIN_ADDRESS",
                 "HALLSERVER_RATE_LOGIN_ACCOUNT", "HALLSERVER_READY_TIMEOUT",
                 "HALLSERVER_HSTS_SECONDS", "HALLSERVER_HSTS_INCLUDE_SUBDOMAINS",
                 "HALLSERVER_HSTS_PRELOAD", "HALLSERVER_SECURE_COOKIES",
                 "HALLSERVER_HTTPS_PROXY_HEADER", "HALLSERVER_REFERRER_POLICY",
                 "HALLSERVER_CSP_REPORT_ONLY", "HALLSERVER_CSP_IMG_SRC"):
        assert re.search(rf"^\|[^\n]*`{name}`", readme, re.M), f"{name} is not in README"
