"""Prometheus metrics of a media worker process (``hallserver media-worker --metrics-port``).

A worker is a process of its own with no HTTP server, so it serves its metrics with
prometheus-client's small HTTP server on a port of its own (loopback by default). Everything is
read from the worker's state when scraped; the frame counters include the roadshows the worker
has closed since it started, so that they only grow.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric


class WorkerCollector:
    def __init__(self, worker) -> None:
        self.worker = worker

    def collect(self) -> Iterable[Metric]:
        worker = self.worker
        # Scrapes run on the HTTP server's thread: take copies in single steps.
        broadcasts = list(worker.broadcasts.values())
        totals = worker.counted(broadcasts)
        yield GaugeMetricFamily("hallserver_media_broadcasts",
                                "Roadshows this media worker serves now.", len(broadcasts))
        peers = GaugeMetricFamily("hallserver_media_peers",
                                  "WebRTC peer connections of this media worker.",
                                  labels=["role"])
        peers.add_metric(["presenter"], sum(1 for b in broadcasts if b.presenter is not None))
        peers.add_metric(["viewer"], sum(len(b.viewers) for b in broadcasts))
        yield peers
        for name, documentation in (
            ("video_frames", "Encoded video frames received from presenters."),
            ("keyframes", "Video key frames received from presenters."),
            ("keyframe_requests", "Key frames asked of presenters (new viewers, losses)."),
            ("dropped_frames", "Frames dropped for viewers that fell behind."),
        ):
            yield CounterMetricFamily(f"hallserver_media_{name}", documentation,
                                      value=totals[name])
        yield CounterMetricFamily("hallserver_media_messages",
                                  "Signalling messages this worker handled.",
                                  value=worker.handled)


def registry_for(worker) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(WorkerCollector(worker))
    return registry


def serve(worker, port: int, host: str = "127.0.0.1"):
    """Serve the worker's metrics at ``http://host:port/metrics`` (a daemon thread); returns
    the server, whose ``server_address`` has the port (``port=0``: any free one)."""
    server, _thread = start_http_server(port, addr=host, registry=registry_for(worker))
    return server
