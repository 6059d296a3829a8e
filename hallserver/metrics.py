"""Prometheus metrics of one process, served at ``/metrics`` (docs/operations.md).

Every ``hallserver serve`` process is a server of its own on its own port, so each keeps its
own registry and answers for itself; Prometheus scrapes each process as a target and sums
across them (``sum by (...)``). prometheus-client's multiprocess mode is for pre-fork servers
whose workers share one port, where any worker may answer a scrape; nothing here shares one.

What the delivery path pays for them:

- state that already exists (open connections, rooms, frames delivered, calls, roadshow
  viewers) is read when Prometheus scrapes, by collect-time callbacks: nothing on the hot
  path. Deliveries are the hub's own integer, added once per fan-out (``Hub.delivered``);
- counters and histograms of rarer events (an inbound frame, an error reply, a handshake, a
  Redis round trip, a presence flush, a slow client closed) are prometheus-client metrics.

Who may read ``/metrics``: clients from ``HALLSERVER_METRICS_ALLOW`` (networks; loopback and
private ones by default), and, when ``HALLSERVER_METRICS_TOKEN`` is set, only those that also
send ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
from collections.abc import Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

registry = CollectorRegistry()
ProcessCollector(registry=registry)
PlatformCollector(registry=registry)
GCCollector(registry=registry)

#: Latency buckets (seconds) for handshakes and actions: a fast path of a millisecond or two,
#: database and Redis round trips of tens of milliseconds, and a long tail under load.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                   2.5, 5.0, 10.0)

FRAMES_RECEIVED = Counter(
    "hallserver_frames_received", "Inbound WebSocket frames by action (registered actions; "
    "frames that name no registered action or fail validation count as 'unknown').",
    ["action"], registry=registry)
ERROR_REPLIES = Counter(
    "hallserver_error_replies", "Error replies sent on WebSockets, by error code.",
    ["code"], registry=registry)
SLOW_CLIENT_CLOSES = Counter(
    "hallserver_slow_client_closes", "Connections closed because they could not keep up "
    "(close code 4008).", registry=registry)
HANDSHAKE_SECONDS = Histogram(
    "hallserver_handshake_seconds", "From the WebSocket's arrival in the application to its "
    "session.ready event (middleware, authentication, ban and connection-cap checks).",
    buckets=LATENCY_BUCKETS, registry=registry)
ACTION_SECONDS = Histogram(
    "hallserver_action_seconds", "Time to handle an inbound frame of a registered action, "
    "from its arrival to its reply, by action.", ["action"], buckets=LATENCY_BUCKETS,
    registry=registry)
REDIS_ROUND_TRIPS = Counter(
    "hallserver_redis_round_trips", "Redis round trips (a command, or a pipeline of "
    "commands) by this process's clients.", ["kind"], registry=registry)
REDIS_FAILURES = Counter(
    "hallserver_redis_failures", "Redis round trips that failed, by kind of error "
    "(connection, timeout, response, other).", ["error"], registry=registry)
PRESENCE_FLUSHES = Counter(
    "hallserver_presence_flushes", "Coalesced presence broadcasts sent: a room's "
    "presence.update ('room') or a hall lobby's hall.counts ('hall').", ["kind"],
    registry=registry)

PRESENCE_ROOM_FLUSHES = PRESENCE_FLUSHES.labels("room")
PRESENCE_HALL_FLUSHES = PRESENCE_FLUSHES.labels("hall")

UNKNOWN = "unknown"


# --- per-action children, made once --------------------------------------------------------------

@functools.cache
def _protocol():
    """booths.protocol, whose ``ACTIONS`` and ``ALL_ERROR_CODES`` are the live sets of
    registered actions and error codes (the bounded label values)."""
    from booths import protocol

    return protocol


@functools.cache
def _frame_child(action: str):
    return FRAMES_RECEIVED.labels(action)


@functools.cache
def _action_child(action: str):
    return ACTION_SECONDS.labels(action)


@functools.cache
def _error_child(code: str):
    return ERROR_REPLIES.labels(code)


def label_of(action: str | None) -> str:
    """``action`` if it is a registered action, else ``unknown`` (a bounded label set)."""
    return action if action is not None and action in _protocol().ACTIONS else UNKNOWN


def frame_received(action: str | None, seconds: float | None) -> None:
    """Count one inbound frame; ``seconds``: how long its action took (None: not handled)."""
    label = label_of(action)
    _frame_child(label).inc()
    if seconds is not None and label != UNKNOWN:
        _action_child(label).observe(seconds)


def error_reply(code: str) -> None:
    """Count one error reply (codes nobody registered count as ``other``)."""
    _error_child(code if code in _protocol().ALL_ERROR_CODES else "other").inc()


# --- state read at collect time ------------------------------------------------------------------

#: name -> ``(kind, help, read)``; ``read()`` gives the value, or ``[(labels, value), ...]``.
_callbacks: dict[str, tuple[str, str, Callable[[], float | list]]] = {}
_label_names: dict[str, tuple[str, ...]] = {}


def register_callback(name: str, documentation: str, read: Callable[[], float | list],
                      kind: str = "gauge", labels: Iterable[str] = ()) -> None:
    """Expose ``read()`` as metric ``name`` (a ``gauge`` or a ``counter``), called when
    Prometheus scrapes: state the process keeps anyway costs nothing between scrapes. Apps
    register theirs in ``AppConfig.ready``; registering a name again replaces it."""
    _callbacks[name] = (kind, documentation, read)
    _label_names[name] = tuple(labels)


class _CallbackCollector:
    def collect(self) -> Iterable[Metric]:
        for name, (kind, documentation, read) in list(_callbacks.items()):
            labels = _label_names[name]
            family_class = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            family = family_class(name, documentation, labels=labels or None)
            value = read()
            if labels:
                for label_values, v in value:
                    family.add_metric(list(label_values), v)
            else:
                family.add_metric([], value)
            yield family


registry.register(_CallbackCollector())


def _hub():
    from .realtime.hub import hub  # imported when read: the hub's modules import this one

    return hub


register_callback("hallserver_connections", "Open WebSocket connections of this process.",
                  lambda: len(_hub().connections))
register_callback("hallserver_rooms", "Rooms with at least one member connected to this process.",
                  lambda: sum(1 for s in _hub().rooms.values() if s.members))
register_callback("hallserver_deliveries",
                  "Frames handed to sockets by the hub: room fan-outs (counted once per fan-out, "
                  "by its number of recipients), frames to users and to single connections, "
                  "expo-wide broadcasts. Replies are not included.",
                  lambda: _hub().delivered, kind="counter")


# --- Redis round trips ----------------------------------------------------------------------------

def _error_kind(exc: BaseException) -> str:
    from redis import exceptions

    if isinstance(exc, exceptions.TimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, exceptions.ConnectionError | ConnectionError | OSError):
        return "connection"
    if isinstance(exc, exceptions.ResponseError):
        return "response"
    return "other"


def _counted(method, kind: str):
    child = REDIS_ROUND_TRIPS.labels(kind)

    @functools.wraps(method)
    async def counted(self, *args, **kwargs):
        child.inc()
        try:
            return await method(self, *args, **kwargs)
        except Exception as exc:
            REDIS_FAILURES.labels(_error_kind(exc)).inc()
            raise

    counted.__hallserver_counted__ = True
    return counted


def instrument_redis() -> None:
    """Count the round trips of every asyncio Redis client in the process (presence, calls,
    rate limits, the channel layer): ``Redis.execute_command`` sends one command and reads its
    answer, ``Pipeline.execute`` does the same for a batch. Both are public methods of
    redis-py's asyncio client; wrapping them once here keeps every call site as it is.
    Pub/sub messages a subscription receives are not round trips and are not counted."""
    from redis.asyncio.client import Pipeline, Redis

    for cls, name, kind in ((Redis, "execute_command", "command"),
                            (Pipeline, "execute", "pipeline")):
        method = cls.__dict__[name]
        if not getattr(method, "__hallserver_counted__", False):
            setattr(cls, name, _counted(method, kind))


instrument_redis()


# --- the view ------------------------------------------------------------------------------------

@functools.cache
def _allowed_networks(spec: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(n.strip(), strict=False) for n in spec if n.strip())


def may_read(address: str | None, authorization: str | None) -> bool:
    """Whether a client at ``address`` sending ``authorization`` may read the metrics."""
    from django.conf import settings

    conf = settings.HALLSERVER
    try:
        ip = ipaddress.ip_address((address or "").strip("[]"))
    except ValueError:
        return False
    if not any(ip in net for net in _allowed_networks(tuple(conf["METRICS_ALLOW"]))):
        return False
    token = conf["METRICS_TOKEN"]
    if not token:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode())


async def view(request):
    """``GET /metrics``: this process's metrics in Prometheus' text format.

    An async view, so that it runs on the event loop that owns the state it reads."""
    from django.http import HttpResponse

    from .api import error_response

    if not may_read(request.META.get("REMOTE_ADDR"), request.headers.get("Authorization")):
        return error_response(403, "metrics.forbidden",
                              "Metrics are served to the addresses in HALLSERVER_METRICS_ALLOW "
                              "(with the bearer token, when HALLSERVER_METRICS_TOKEN is set).")
    if request.method not in ("GET", "HEAD"):
        return error_response(405, "request.method", "Use GET.")
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
