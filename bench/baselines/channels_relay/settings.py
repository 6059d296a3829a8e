"""Settings of the tutorial-style relay: stock ``RedisChannelLayer``, nothing tuned."""

import os

SECRET_KEY = "bench-channels-relay-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "channels",
]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.baselines.channels_relay.urls"
ASGI_APPLICATION = "bench.baselines.channels_relay.asgi.application"

# AuthMiddlewareStack needs sessions; the load generator sends no cookie, so the database is
# never queried (the anonymous user is resolved without a session key).
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True

_layer_config: dict = {"hosts": [os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")]}
if os.environ.get("BENCH_CHANNELS_PREFIX"):
    # Only when the benchmark shares a Redis with something else (the CI smoke test).
    _layer_config["prefix"] = os.environ["BENCH_CHANNELS_PREFIX"]

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": _layer_config,
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
