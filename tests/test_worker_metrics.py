"""A media worker's Prometheus metrics, served on its own port."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from streaming.worker import Broadcast, MediaWorker
from streaming.worker_metrics import serve


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


@pytest.mark.asyncio
async def test_worker_metrics_follow_its_broadcasts_and_only_grow(settings):
    worker = MediaWorker("metrics-test")
    show = worker.broadcast(7)
    show.presenter = ("proc|1", object())
    show.viewers = {"proc|2": object(), "proc|3": object()}
    show.video.frames, show.video.keyframes, show.video.keyframe_requests = 120, 4, 2
    other = worker.broadcast(8)
    other.video.frames = 30
    worker.handled = 5
    server = serve(worker, 0)
    try:
        port = server.server_address[1]
        seen = scrape(port)
        assert seen[("hallserver_media_broadcasts", ())] == 2
        assert seen[("hallserver_media_peers", (("role", "presenter"),))] == 1
        assert seen[("hallserver_media_peers", (("role", "viewer"),))] == 2
        assert seen[("hallserver_media_video_frames_total", ())] == 150
        assert seen[("hallserver_media_keyframe_requests_total", ())] == 2
        assert seen[("hallserver_media_messages_total", ())] == 5
        # A roadshow that ends leaves the gauges but not the counters.
        show.presenter, show.viewers = None, {}
        await worker.stop_roadshow(7)
        seen = scrape(port)
        assert seen[("hallserver_media_broadcasts", ())] == 1
        assert seen[("hallserver_media_peers", (("role", "viewer"),))] == 0
        assert seen[("hallserver_media_video_frames_total", ())] == 150
        assert seen[("hallserver_media_keyframes_total", ())] == 4
    finally:
        server.shutdown()
        server.server_close()
    assert isinstance(worker.broadcasts[8], Broadcast)
