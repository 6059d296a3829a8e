"""Django settings for Hallserver.

Layered like this: embedded defaults (SQLite, in-memory channel layer, no Redis) that let
``hallserver demo`` run on a fresh machine, overridden by environment variables (and an
optional ``.env`` file named by ``HALLSERVER_ENV_FILE``). See the configuration table in
README.md for every variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF

from hallserver import logs

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
_env_file = os.environ.get("HALLSERVER_ENV_FILE")
if _env_file:
    environ.Env.read_env(_env_file)

DEBUG = env.bool("HALLSERVER_DEBUG", default=False)
# The default key is only good for local demos; production must set HALLSERVER_SECRET_KEY.
SECRET_KEY = env.str("HALLSERVER_SECRET_KEY", default="hallserver-insecure-demo-key-change-me")
ALLOWED_HOSTS = env.list("HALLSERVER_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("HALLSERVER_CSRF_TRUSTED_ORIGINS", default=[])
DATA_DIR = Path(env.str("HALLSERVER_DATA_DIR", default=str(BASE_DIR / "var")))

# The ASGI server of `hallserver serve` (the CLI sets this from --server before Django starts).
SERVER = env.str("HALLSERVER_SERVER", default="daphne")

INSTALLED_APPS = [
    # daphne first, so that `manage.py runserver` serves the ASGI application too. Its app
    # imports daphne's server, which installs Twisted's reactor: not under uvicorn.
    *(["daphne"] if SERVER == "daphne" else []),
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    # The HTTP API: ninja's own static files for its Swagger UI at /api/docs (not a CDN).
    "ninja",
    "csp",
    "booths",
    "streaming",
    "accounts",
    "recruitment",
    "search",
    "analytics",
    "console",
    "docking",
]

MIDDLEWARE = [
    # Outermost: logs every 4xx answer, including those of the middleware below (CSRF).
    "hallserver.logs.RefusalLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "hallserver.api.ApiErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hallserver.urls"
ASGI_APPLICATION = "hallserver.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "frontend"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite by default; DATABASE_URL (postgres://...) switches to PostgreSQL.
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("HALLSERVER_CONN_MAX_AGE", default=600))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("HALLSERVER_SQLITE_PATH", default=str(DATA_DIR / "hallserver.sqlite3")),
            # Keep the connection: Channels' database_sync_to_async closes connections older
            # than CONN_MAX_AGE around every call, and reconnecting SQLite each time (with its
            # PRAGMAs) dominated the handshake profile.
            "CONN_MAX_AGE": None,
            "OPTIONS": {
                # IMMEDIATE transactions serialise writers instead of failing with "locked";
                # WAL lets readers carry on while a chat message is written.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer ---------------------------------------------------------------------------
# No REDIS_URL: one process, in-memory layer. With REDIS_URL: the pub/sub layer of
# channels-redis with an explicitly sized pool. The hub subscribes one channel per process to
# one group per room; messages pub/sub drops (e.g. during a reconnect) are recovered by the
# hub's sequence sweep (hallserver/realtime/hub.py).
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_POOL_SIZE = env.int("HALLSERVER_REDIS_POOL_SIZE", default=64)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "max_connections": REDIS_POOL_SIZE}],
                "prefix": env.str("HALLSERVER_REDIS_PREFIX", default="hall:"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            # The hub is the only reader: one channel per process, so give it room.
            "CONFIG": {"capacity": 100_000, "expiry": 60},
        }
    }

# --- Real-time limits --------------------------------------------------------------------------
HALLSERVER = {
    # Prefix of Hallserver's own Redis keys (presence, process heartbeats).
    "REDIS_PREFIX": env.str("HALLSERVER_REDIS_PREFIX", default="hall:"),
    # Largest inbound WebSocket frame we parse (bytes); larger ones get `frame.too_large`.
    "MAX_FRAME_BYTES": env.int("HALLSERVER_MAX_FRAME_BYTES", default=16 * 1024),
    # Longest chat message body (characters).
    "MAX_CHAT_CHARS": env.int("HALLSERVER_MAX_CHAT_CHARS", default=2000),
    # Rooms one connection may be in at once.
    "MAX_ROOMS_PER_CONNECTION": env.int("HALLSERVER_MAX_ROOMS_PER_CONNECTION", default=20),
    # Unsent bytes a connection may hold before it is closed as a slow consumer (it resumes).
    "SEND_BUFFER_BYTES": env.int("HALLSERVER_SEND_BUFFER_BYTES", default=1024 * 1024),
    # Frames queued per connection on servers without the direct daphne path.
    "SEND_QUEUE_FRAMES": env.int("HALLSERVER_SEND_QUEUE_FRAMES", default=1000),
    # Connections the kernel queues for `hallserver serve` before it accepts them (Twisted's
    # default is 50; capped by net.core.somaxconn).
    "LISTEN_BACKLOG": env.int("HALLSERVER_LISTEN_BACKLOG", default=1024),
    # `hallserver serve` collects the youngest GC generation after this many net allocations
    # (Python's default: 700; 0 keeps the default). Startup objects are frozen out of the GC.
    "GC_GEN0_THRESHOLD": env.int("HALLSERVER_GC_GEN0_THRESHOLD", default=10_000),
    # Rooms whose facts a web process caches before it serves (0: none; all load lazily).
    "PRELOAD_ROOMS": env.int("HALLSERVER_PRELOAD_ROOMS", default=20_000),
    # Presence broadcasts per room are coalesced over this window (seconds).
    "PRESENCE_INTERVAL": env.float("HALLSERVER_PRESENCE_INTERVAL", default=0.25),
    # Hall lobby visitor counts are coalesced over this window (seconds).
    "COUNTS_INTERVAL": env.float("HALLSERVER_COUNTS_INTERVAL", default=1.0),
    # With several processes, each booth room in a hall.counts is sent once more this many
    # seconds later, so that frames of different processes arriving out of order settle.
    "COUNTS_SETTLE": env.float("HALLSERVER_COUNTS_SETTLE", default=3.0),
    # Rooms with more members than this get counts only, not who joined/left.
    "PRESENCE_DETAIL_LIMIT": env.int("HALLSERVER_PRESENCE_DETAIL_LIMIT", default=100),
    # Those larger rooms get a count update at most every count/1000 seconds (at least 1 s, at
    # most this many), sent by one process for the whole room: up to 10,000 members a room
    # costs at most 1,000 count frames per second in all, however many processes serve it.
    "PRESENCE_LARGE_INTERVAL": env.float("HALLSERVER_PRESENCE_LARGE_INTERVAL", default=10.0),
    # Messages replayed on resume; a longer gap answers `reset` and the client reloads.
    "RESUME_LIMIT": env.int("HALLSERVER_RESUME_LIMIT", default=1000),
    # Chat history page size (default and maximum).
    "HISTORY_PAGE": env.int("HALLSERVER_HISTORY_PAGE", default=50),
    "HISTORY_PAGE_MAX": 200,
    # Rate limits (the `limits` library's notation): chat messages, reports and questions per
    # user and per address, and any action per connection.
    "RATE_CHAT_USER": env.str("HALLSERVER_RATE_CHAT_USER", default="10/10seconds"),
    "RATE_CHAT_ADDRESS": env.str("HALLSERVER_RATE_CHAT_ADDRESS", default="60/10seconds"),
    "RATE_ACTIONS_CONNECTION": env.str("HALLSERVER_RATE_ACTIONS_CONNECTION",
                                       default="50/second"),
    # Simultaneous connections of one user (across processes).
    "MAX_CONNECTIONS_PER_USER": env.int("HALLSERVER_MAX_CONNECTIONS_PER_USER", default=5),
    # Simultaneous connections without a login from one client address (across processes).
    "MAX_ANON_CONNECTIONS_PER_ADDRESS": env.int("HALLSERVER_MAX_ANON_CONNECTIONS_PER_ADDRESS",
                                                default=20),
    # Seconds a client closed as slow (4008) has to read what was queued for it and answer the
    # close frame before its connection is dropped (daphne's close handshake timeout).
    "SLOW_CLOSE_GRACE": env.float("HALLSERVER_SLOW_CLOSE_GRACE", default=10.0),
    # Seconds the word filter list is cached per process.
    "WORD_FILTER_CACHE": env.float("HALLSERVER_WORD_FILTER_CACHE", default=5.0),
    # Who may read /metrics: client networks (loopback and private ones by default) and, if
    # set, a bearer token they must also send.
    "METRICS_ALLOW": env.list("HALLSERVER_METRICS_ALLOW", default=[
        "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]),
    "METRICS_TOKEN": env.str("HALLSERVER_METRICS_TOKEN", default=""),
    # Redis clients (hallserver/redisconf.py): retries of a command that met a connection
    # error (exponential backoff, 50 ms to 1 s), seconds of idleness after which a pooled
    # connection is PINGed before use, and the connect and read time limit in seconds.
    "REDIS_RETRIES": env.int("HALLSERVER_REDIS_RETRIES", default=3),
    "REDIS_HEALTH_CHECK": env.float("HALLSERVER_REDIS_HEALTH_CHECK", default=15.0),
    "REDIS_TIMEOUT": env.float("HALLSERVER_REDIS_TIMEOUT", default=5.0),
    # Seconds between a web process's checks that Redis still holds its presence (a marker
    # key, lost when Redis restarts empty); a missing marker or an earlier failure makes it
    # write its visitors' presence again from its own sockets.
    "PRESENCE_RECOVERY_CHECK": env.float("HALLSERVER_PRESENCE_RECOVERY_CHECK", default=1.0),
}
if REDIS_URL:
    # Retries and health checks for the pub/sub layer's pool too (hallserver/redisconf.py).
    from hallserver import redisconf

    CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0].update(redisconf.options(HALLSERVER))

# --- Auth, i18n, static --------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # the browser UI reads it to send X-CSRFToken

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
TIME_ZONE = env.str("HALLSERVER_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [("app", BASE_DIR / "frontend")]
STATIC_ROOT = env.str("HALLSERVER_STATIC_ROOT", default=str(DATA_DIR / "static"))
# Behind a proxy (nginx), take the client address from X-Forwarded-For, but only from a peer
# inside TRUSTED_PROXIES (hallserver/forwarded.py): anyone else reaching the port directly keeps
# their own address whatever they send.
PROXY_HEADERS = env.bool("HALLSERVER_PROXY_HEADERS", default=False)
TRUSTED_PROXIES = env.list("HALLSERVER_TRUSTED_PROXIES", default=[
    "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"])
# Serve /static/ from the ASGI app itself (demo and tests). Behind nginx, set this false.
SERVE_STATIC = env.bool("HALLSERVER_SERVE_STATIC", default=True)

# --- Logs and metrics (docs/operations.md) ------------------------------------------------------
# Structured lines through structlog: "console" (readable, the default) or "json" (one object
# per line); stdlib logging calls are rendered the same way.
LOG_FORMAT = env.str("HALLSERVER_LOG_FORMAT", default="console")
LOGGING = logs.logging_config(LOG_FORMAT, env.str("HALLSERVER_LOG_LEVEL", default="INFO"))
logs.configure_structlog()

# --- Live video (streaming/; issue #4) ------------------------------------------------------------
# Browser ICE servers: HALLSERVER_ICE_SERVERS is a JSON list of RTCIceServer objects without
# credentials (e.g. '[{"urls": ["stun:stun.example.org:3478"]}]'); an empty list keeps ICE on the
# local network (tests use that). With HALLSERVER_TURN_URLS and HALLSERVER_TURN_SECRET each user
# also gets short-lived TURN credentials in coturn's `use-auth-secret` scheme.
LIVE_VIDEO = {
    "ICE_SERVERS": env.json("HALLSERVER_ICE_SERVERS", default=[]),
    "TURN_URLS": env.list("HALLSERVER_TURN_URLS", default=[]),
    "TURN_SECRET": env.str("HALLSERVER_TURN_SECRET", default=""),
    "TURN_TTL": env.int("HALLSERVER_TURN_TTL", default=24 * 3600),
    # Seconds a knock waits for a staff member before it times out.
    "KNOCK_TIMEOUT": env.float("HALLSERVER_KNOCK_TIMEOUT", default=60.0),
    # Seconds a call survives one side's lost connection (it may come back with call.resume).
    "RECONNECT_GRACE": env.float("HALLSERVER_CALL_RECONNECT_GRACE", default=20.0),
    # Most people in one booth call (a mesh: each browser sends its video to every other).
    "MAX_CALL_PARTICIPANTS": env.int("HALLSERVER_MAX_CALL_PARTICIPANTS", default=4),
    # Crashed processes: each process holding calls or knocks refreshes a liveness key every
    # PROCESS_BEAT seconds that lives PROCESS_TTL seconds; every SWEEP_INTERVAL seconds each
    # such process times out overdue knocks and cleans up after processes whose key expired.
    "PROCESS_TTL": env.float("HALLSERVER_CALL_PROCESS_TTL", default=10.0),
    "PROCESS_BEAT": env.float("HALLSERVER_CALL_PROCESS_BEAT", default=3.0),
    "SWEEP_INTERVAL": env.float("HALLSERVER_CALL_SWEEP_INTERVAL", default=3.0),
    # Largest SDP accepted in signalling (bytes).
    "MAX_SDP_BYTES": env.int("HALLSERVER_MAX_SDP_BYTES", default=14 * 1024),
    # Roadshow media: the ICE servers the aiortc worker uses (it takes the first STUN and the
    # first TURN URL only), WebRTC viewers per roadshow before viewers are sent to HLS,
    # frames queued per viewer, and where recordings and HLS segments are written.
    "WORKER_ICE_SERVERS": env.json("HALLSERVER_WORKER_ICE_SERVERS", default=[]),
    "MAX_WEBRTC_VIEWERS": env.int("HALLSERVER_MAX_WEBRTC_VIEWERS", default=150),
    "VIEWER_QUEUE_FRAMES": env.int("HALLSERVER_VIEWER_QUEUE_FRAMES", default=60),
    "KEYFRAME_INTERVAL": env.float("HALLSERVER_KEYFRAME_REQUEST_INTERVAL", default=1.0),
    "MEDIA_DIR": env.str("HALLSERVER_MEDIA_DIR", default=str(DATA_DIR / "media")),
    # Record live roadshows (as received: no re-encoding) for replay on their page.
    "RECORD": env.bool("HALLSERVER_RECORD_ROADSHOWS", default=True),
    # Roadshow video codecs, most wanted first; the presenter's browser must send one of them
    # and viewers receive the same (frames are forwarded, not re-encoded). HLS needs H264.
    "VIDEO_CODECS": [f"video/{name}" for name in
                     env.list("HALLSERVER_VIDEO_CODECS", default=["H264", "VP8"])],
    # Viewers beyond MAX_WEBRTC_VIEWERS watch an HLS stream cut from the same encoded media.
    "HLS": env.bool("HALLSERVER_HLS", default=True),
    "HLS_SEGMENT_SECONDS": env.float("HALLSERVER_HLS_SEGMENT_SECONDS", default=2.0),
    "HLS_LIST_SIZE": env.int("HALLSERVER_HLS_LIST_SIZE", default=6),
    # "inline": this process serves roadshow media itself (the default without Redis);
    # "external": separate `hallserver media-worker` processes do (the default with Redis).
    "WORKER_MODE": env.str("HALLSERVER_MEDIA_WORKER_MODE",
                           default="external" if REDIS_URL else "inline"),
}

# --- HTTP API, security headers, throttles and health (issue 10) -------------------------------
# Throttles of the HTTP API (the `limits` notation, moving windows shared through Redis):
# guest entries per client address, login attempts per address, and wrong passwords per
# account name from any address (a refused login does not check the password at all), and
# sign-ups and guest upgrades per client address (one budget for both).
HALLSERVER.update(
    RATE_GUEST_ADDRESS=env.str("HALLSERVER_RATE_GUEST_ADDRESS", default="20/minute"),
    RATE_LOGIN_ADDRESS=env.str("HALLSERVER_RATE_LOGIN_ADDRESS", default="30/minute"),
    RATE_LOGIN_ACCOUNT=env.str("HALLSERVER_RATE_LOGIN_ACCOUNT", default="10/10minutes"),
    RATE_SIGNUP_ADDRESS=env.str("HALLSERVER_RATE_SIGNUP_ADDRESS", default="10/hour"),
    # Seconds each check of /readyz (database, Redis, channel layer) may take.
    READY_TIMEOUT=env.float("HALLSERVER_READY_TIMEOUT", default=2.0),
)
# CSRF and Origin refusals: the API's JSON error under /api/, Django's page elsewhere.
CSRF_FAILURE_VIEW = "hallserver.api.csrf_failure"

# HTTPS. Behind a proxy that terminates TLS, HALLSERVER_HTTPS_PROXY_HEADER names the header
# it sets to "https" on HTTPS requests (e.g. X-Forwarded-Proto; the proxy must always set or
# overwrite it). HSTS is only sent on HTTPS requests.
_https_header = env.str("HALLSERVER_HTTPS_PROXY_HEADER", default="")
if _https_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _https_header.upper().replace("-", "_"), "https")
SECURE_HSTS_SECONDS = env.int("HALLSERVER_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("HALLSERVER_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("HALLSERVER_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("HALLSERVER_SECURE_COOKIES",
                                                      default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = env.str("HALLSERVER_REFERRER_POLICY", default="same-origin")
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp). The browser UI is ES modules from /static/ with one
# inline import map, which carries the per-response nonce; its WebSocket and HLS requests go
# to this origin ('self' covers ws: and wss: here), HLS plays from blob: URLs through Media
# Source Extensions, with hls.js's worker from a blob:. Booth logos may come from any HTTPS
# site. HALLSERVER_CSP_REPORT_ONLY sends the policy as Content-Security-Policy-Report-Only.
_csp = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *env.list("HALLSERVER_CSP_IMG_SRC",
                                                       default=["https:"])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "media-src": [SELF, "blob:"],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if env.bool("HALLSERVER_CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp
else:
    CONTENT_SECURITY_POLICY = _csp

# --- Recruitment (recruitment/, docs/recruitment.md) ---------------------------------------------
RECRUITMENT = {
    # Largest résumé PDF accepted (bytes).
    "RESUME_MAX_BYTES": env.int("HALLSERVER_RESUME_MAX_BYTES", default=5 * 1024 * 1024),
    # Honour the clock offset set with `manage recruit_clock` (tests only; never in production).
    "TEST_CLOCK": env.bool("HALLSERVER_RECRUIT_TEST_CLOCK", default=False),
}

# --- Analytics and the exhibitor console (analytics/, console/, docs/console.md) -----------------
ANALYTICS = {
    # Events are written in batches by a background task: at least this often (seconds) ...
    "FLUSH_SECONDS": env.float("HALLSERVER_ANALYTICS_FLUSH_SECONDS", default=1.0),
    # ... or as soon as this many are waiting.
    "BATCH": env.int("HALLSERVER_ANALYTICS_BATCH", default=500),
    # Events waiting beyond this many are dropped (and counted): memory stays bounded.
    "BUFFER": env.int("HALLSERVER_ANALYTICS_BUFFER", default=100_000),
}
CONSOLE = {
    # Largest logo upload (bytes); larger files are refused before they are decoded.
    "LOGO_MAX_BYTES": env.int("HALLSERVER_LOGO_MAX_BYTES", default=5 * 1024 * 1024),
    # Logos are stored no larger than this many pixels on their longer side.
    "LOGO_MAX_PIXELS": env.int("HALLSERVER_LOGO_MAX_PIXELS", default=512),
    # Seconds between each process's sweeps for bookmarked roadshows starting soon (0: none;
    # then only `hallserver manage roadshow_reminders` sends the reminders).
    "REMINDER_INTERVAL": env.float("HALLSERVER_REMINDER_INTERVAL", default=30.0),
}

# --- Project docking (docking/, docs/docking.md) -------------------------------------------------
DOCKING = {
    # Seconds between sweeps that send meeting reminders and mark missed meetings.
    "SWEEP_INTERVAL": env.float("HALLSERVER_DOCKING_SWEEP", default=30.0),
    # Seconds a process keeps its matchmaking index before rebuilding it from the database.
    "MATCH_INDEX_TTL": env.float("HALLSERVER_MATCH_INDEX_TTL", default=60.0),
}
