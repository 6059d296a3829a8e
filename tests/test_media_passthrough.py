"""The roadshow media path: aiortc presenter → media worker → aiortc viewers on loopback.

The worker forwards the presenter's encoded H.264 or VP8 frames (no decoding, no encoding per
viewer), asks for a keyframe when a viewer joins, and keeps a bounded queue per viewer. The
synthetic presenter's encoders make keyframes only when asked (aiortc's VP8 encoder has a GOP
of 3000 frames, its H.264 encoder one of 100 s), so a late joiner only gets a picture if the
keyframe request works. Viewers beyond the WebRTC capacity get HLS cut from the same frames.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiortc
import av
import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.urls import include, path

from booths.models import Booth, Profile, Roadshow, Room
from booths.seed import seed_demo
from streaming import store as store_module
from streaming import worker as worker_module
from streaming.hls import hls_url
from streaming.passthrough import (
    EncodedTap,
    Forwarder,
    PacketTrack,
    is_h264_keyframe,
    is_vp8_keyframe,
)
from streaming.synthetic import peer, present, view
from tests.test_streaming_calls import OFFER
from tests.wsclient import WsClient

AIORTC_VERSION = "1.16.0"


# --- unit: the pinned internals and the bounded queue ---------------------------------------

def test_aiortc_is_the_pinned_version_with_the_internals_we_use():
    assert aiortc.__version__ == AIORTC_VERSION, "passthrough.py touches aiortc internals: " \
        "re-check them and update the pin"
    from aiortc.rtcrtpreceiver import RTCRtpReceiver
    from aiortc.rtcrtpsender import RTCRtpSender

    assert hasattr(RTCRtpReceiver, "_send_rtcp_pli")
    assert hasattr(RTCRtpSender, "_send_keyframe")
    source = __import__("inspect").getsource(RTCRtpReceiver)
    assert "self.__decoder_queue.put((codec, encoded_frame))" in source
    assert "self.__decoder_queue: queue.Queue = queue.Queue()" in source


def test_vp8_keyframe_bit():
    assert is_vp8_keyframe(b"\x10\x02\x00\x9d\x01\x2a")
    assert not is_vp8_keyframe(b"\x11\x02\x00")
    assert not is_vp8_keyframe(b"")


def test_h264_keyframe_is_an_idr_slice():
    sps, pps = b"\x00\x00\x00\x01\x67\x42", b"\x00\x00\x00\x01\x68\xce"
    assert is_h264_keyframe(sps + pps + b"\x00\x00\x01\x65\x88\x84")
    assert not is_h264_keyframe(b"\x00\x00\x00\x01\x41\x9a")  # a P slice
    assert not is_h264_keyframe(sps + pps)  # no picture at all
    assert not is_h264_keyframe(b"")


def test_encoded_tap_hands_frames_to_the_sink_and_passes_the_stop_signal():
    got = []
    tap = EncodedTap(lambda codec, frame: got.append((codec, frame)))
    tap.put(("vp8", "frame"))
    assert got == [("vp8", "frame")] and tap.empty()
    tap.put(None)
    assert tap.get() is None


async def test_slow_viewer_queue_is_bounded_and_restarts_at_a_keyframe():
    forwarder = Forwarder("video", keyframe_interval=0.0)
    requests = []
    forwarder.request_keyframe = lambda: requests.append(1)
    track = PacketTrack(forwarder, max_frames=5)
    forwarder.tracks.add(track)
    source = object()
    forwarder.push(source, b"\x01delta", 0)  # before any keyframe: dropped
    assert len(track.queue) == 0 and track.dropped == 1
    forwarder.push(source, b"\x00key", 3000)
    for n in range(20):  # nobody reads: the queue never exceeds 5 frames
        forwarder.push(source, b"\x01delta", 6000 + 3000 * n)
        assert len(track.queue) <= 5
    assert requests, "an overflowing viewer asks for a keyframe"
    assert not track.queue  # dropped, waiting for a keyframe
    forwarder.push(source, b"\x00key", 90000)
    packet = await track.recv()
    assert bytes(packet) == b"\x00key"
    assert packet.time_base.denominator == 90000
    track.stop()
    assert track not in forwarder.tracks


async def test_a_new_source_continues_the_timestamps():
    forwarder = Forwarder("video")
    track = PacketTrack(forwarder, max_frames=10)
    forwarder.tracks.add(track)
    first, second = object(), object()
    forwarder.push(first, b"\x00a", 5000)
    forwarder.push(first, b"\x01b", 8000)
    forwarder.push(second, b"\x00c", 100)  # presenter reconnected: its clock starts over
    stamps = [(await track.recv()).pts for _ in range(3)]
    assert stamps[0] == 0 and stamps[1] == 3000 and stamps[2] > stamps[1]


# --- the worker between aiortc peers, through the protocol ----------------------------------

@database_sync_to_async
def recording_path(recording_id: int) -> Path:
    from django.conf import settings

    from streaming.models import Recording

    return Path(settings.LIVE_VIDEO["MEDIA_DIR"]) / Recording.objects.get(pk=recording_id).path


CODECS = {"VP8": (("vp8", "libvpx"), "Vp8Encoder", ".webm"),
          "H264": (("h264",), "H264Encoder", ".mp4")}


def assert_playable(path: Path, codec: str, min_frames: int) -> None:
    with av.open(str(path)) as container:
        (video,) = container.streams.video
        assert video.codec_context.name in CODECS[codec][0]
        assert (video.codec_context.width, video.codec_context.height) == (320, 240)
        frames = list(container.decode(video))
    assert len(frames) >= min_frames
    assert frames[0].width == 320


@database_sync_to_async
def roadshow_world():
    seed_demo()
    User = get_user_model()
    exhibitor = User.objects.get(username="exhibitor")
    booth = Booth.objects.get(boothstaff__user=exhibitor)
    roadshow = Roadshow.objects.filter(booth=booth).first()
    Roadshow.objects.filter(pk=roadshow.pk).update(state=Roadshow.State.SCHEDULED)
    ended = Roadshow.objects.exclude(booth=booth).filter(state=Roadshow.State.ENDED).first()
    viewer = User.objects.create_user(username="vic", password=None)
    Profile.objects.create(user=viewer, display_name="Vic", kind=Profile.Kind.VISITOR)
    return {"roadshow": roadshow.pk, "room": Room.objects.get(roadshow=roadshow).pk,
            "ended": ended.pk, "exhibitor": exhibitor, "viewer": viewer}


@pytest.fixture
def _inline_worker(settings, tmp_path):
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "WORKER_MODE": "inline",
                           "KEYFRAME_INTERVAL": 0.5, "MEDIA_DIR": str(tmp_path)}
    store_module.store.cache_clear()
    yield
    store_module.store.cache_clear()


async def _stop_workers() -> None:
    for worker in list(worker_module._inline.values()):
        await worker.stop()
    worker_module._inline.clear()


def signalling(client: WsClient):
    async def call(action: str, data: dict) -> dict:
        return await client.ok(action, data)

    async def wait_answer() -> dict:
        return await client.event("roadshow.answer", within=10)

    return call, wait_answer


@pytest.mark.system
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_inline_worker")
@pytest.mark.parametrize("codec", ["H264", "VP8"])
async def test_presenter_to_viewers_through_the_worker_without_reencoding(codec, settings):
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "VIDEO_CODECS": [f"video/{codec}"]}
    _, encoder_class, suffix = CODECS[codec]
    world = await roadshow_world()
    rs = world["roadshow"]
    presenter = await WsClient(world["exhibitor"]).connect()
    viewers = [await WsClient(world["viewer"]).connect() for _ in range(3)]
    pcs = []
    try:
        # Not live yet: nobody may view or present.
        assert await viewers[0].error("roadshow.view", {"roadshow": rs, "sdp": OFFER}) == \
            "roadshow.not_live"
        await viewers[0].ok("room.join", {"room": world["room"]})
        assert (await presenter.ok("roadshow.start", {"roadshow": rs}))["state"] == "live"
        assert await viewers[0].event("roadshow.state") == {"roadshow": rs, "room": world["room"],
                                                             "state": "live"}
        pc, _ = await present(*signalling(presenter), rs)
        pcs.append(pc)
        counters = []
        for client in viewers[:2]:
            vpc, counter = await view(*signalling(client), rs)
            pcs.append(vpc)
            counters.append(await asyncio.wait_for(counter, 10))
        for counter in counters:
            assert await counter.wait_frames(30, within=20), counter.frames
            assert counter.width == 320

        worker = next(iter(worker_module._inline.values()))
        broadcast = worker.broadcasts[rs]
        requests_before = broadcast.video.keyframe_requests
        # A late joiner gets a picture: the worker asks the presenter for a keyframe.
        vpc, late = await view(*signalling(viewers[2]), rs)
        pcs.append(vpc)
        late = await asyncio.wait_for(late, 10)
        assert await late.wait_frames(5, within=10), "the late joiner got no picture"
        assert broadcast.video.keyframe_requests > requests_before
        assert broadcast.video.keyframes >= 2

        # Nothing was re-encoded for viewers: their senders only packetised packets.
        for viewer_pc in broadcast.viewers.values():
            (sender,) = [s for s in viewer_pc.getSenders() if s.track is not None]
            encoder = sender._RTCRtpSender__encoder
            assert type(encoder).__name__ == encoder_class and encoder.codec is None
        (receiver,) = [t.receiver for t in broadcast.presenter[1].getTransceivers()]
        assert isinstance(receiver._RTCRtpReceiver__decoder_queue, EncodedTap)
        assert len(broadcast.viewers) == 3

        # A second presenter is refused; a viewer leaving frees its connection.
        other = await WsClient(world["exhibitor"]).connect()
        assert await other.error("roadshow.publish", {"roadshow": rs, "sdp": OFFER}) == \
            "roadshow.presenter_busy"
        await other.close()
        await viewers[2].ok("roadshow.leave", {"roadshow": rs})
        assert await viewers[2].error("roadshow.leave", {"roadshow": rs}) == \
            "roadshow.not_found"
        for _ in range(50):
            if len(broadcast.viewers) == 2:
                break
            await asyncio.sleep(0.05)
        assert len(broadcast.viewers) == 2

        # Reactions go to the roadshow's room.
        await viewers[1].ok("roadshow.react", {"roadshow": rs, "emoji": "👏"})
        reaction = await viewers[0].event("roadshow.reaction")
        assert reaction["emoji"] == "👏" and reaction["user"]["name"] == "Vic"

        # The presenter ends it: everyone in the room hears, the worker lets go.
        await presenter.ok("roadshow.end", {"roadshow": rs})
        assert (await viewers[0].event("roadshow.state"))["state"] == "ended"
        for _ in range(50):
            if rs not in worker.broadcasts:
                break
            await asyncio.sleep(0.05)
        assert rs not in worker.broadcasts
        assert await viewers[1].error("roadshow.view", {"roadshow": rs, "sdp": OFFER}) == \
            "roadshow.ended"

        # It was recorded as received: WebM of VP8 or MP4 of H.264 frames that decode.
        (recording,) = (await viewers[1].ok("roadshow.recordings", {"roadshow": rs}))[
            "recordings"]
        assert recording["url"] == f"/recordings/{recording['id']}{suffix}"
        assert recording["size"] > 0 and recording["ended"] >= recording["started"]
        path = await recording_path(recording["id"])
        assert_playable(path, codec, min_frames=30)
    finally:
        for pc in pcs:
            await pc.close()
        for client in [presenter, *viewers]:
            await client.close()
        await _stop_workers()


async def _get(url: str):
    """GET through the root URLconf (the web process's view of the media directory)."""
    from django.test import Client

    def fetch():
        response = Client().get(url)
        body = (b"".join(response.streaming_content) if response.streaming
                else response.content)
        return response, body

    return await database_sync_to_async(fetch)()


async def _playlist(url: str, min_segments: int, within: float = 20.0) -> tuple[str, list[str]]:
    """The playlist text once it lists ``min_segments`` segments, and the segment names."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        response, body = await _get(url)
        assert response.status_code == 200
        text = body.decode()
        segments = [line for line in text.splitlines() if line and not line.startswith("#")]
        if len(segments) >= min_segments or loop.time() > deadline:
            return text, segments
        await asyncio.sleep(0.2)


@pytest.mark.system
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_inline_worker")
@pytest.mark.parametrize("codec", ["H264", "VP8"])
async def test_viewers_beyond_webrtc_capacity_watch_hls(codec, settings, tmp_path):
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "VIDEO_CODECS": [f"video/{codec}"],
                           "MAX_WEBRTC_VIEWERS": 1, "HLS_SEGMENT_SECONDS": 1.0}
    world = await roadshow_world()
    rs = world["roadshow"]
    presenter = await WsClient(world["exhibitor"]).connect()
    first, second = [await WsClient(world["viewer"]).connect() for _ in range(2)]
    pcs = []
    try:
        await presenter.ok("roadshow.start", {"roadshow": rs})
        pc, _ = await present(*signalling(presenter), rs)
        pcs.append(pc)
        vpc, counter = await view(*signalling(first), rs)
        pcs.append(vpc)
        assert await (await asyncio.wait_for(counter, 10)).wait_frames(10, within=20)
        broadcast = next(iter(worker_module._inline.values())).broadcasts[rs]

        if codec == "VP8":  # no HLS without H.264: the viewer is told there is no room
            await second.ok("roadshow.view", {"roadshow": rs, "sdp": OFFER})
            failure = await second.event("roadshow.error", within=10)
            assert failure["code"] == "media.unavailable"
            assert not broadcast.hls.ready
            return

        for _ in range(100):
            if broadcast.hls.ready:
                break
            await asyncio.sleep(0.2)
        assert broadcast.hls.ready, "no HLS segment was written"
        # The WebRTC place is taken: the second viewer is sent to HLS instead.
        await second.ok("roadshow.view", {"roadshow": rs, "sdp": OFFER})
        assert await second.event("roadshow.hls", within=10) == {"roadshow": rs,
                                                                 "url": hls_url(rs)}
        # Segments are cut on keyframes the packager asks the presenter for (its encoder
        # makes none unasked), and they hold the presenter's H.264 as it came.
        text, segments = await _playlist(hls_url(rs), min_segments=3)
        assert len(segments) >= 3, text
        assert '#EXT-X-MAP:URI="init.mp4"' in text and "#EXT-X-ENDLIST" not in text
        assert broadcast.hls.video_stream.codec_context is None  # muxed, never encoded
        response, init = await _get(f"/hls/{rs}/init.mp4")
        assert response["Content-Type"] == "video/mp4"
        media = tmp_path / "joined.mp4"
        with media.open("wb") as out:
            out.write(init)
            for name in segments:
                response, body = await _get(f"/hls/{rs}/{name}")
                assert response.status_code == 200, name
                assert response["Content-Type"] == "video/iso.segment"
                out.write(body)
        assert_playable(media, "H264", min_frames=20)

        playlist, _ = await _get(hls_url(rs))
        assert playlist["Cache-Control"] == "no-cache"
        assert (await _get(f"/hls/{rs}/../../secret.m3u8"))[0].status_code == 404
        assert (await _get(f"/hls/{rs + 1000}/index.m3u8"))[0].status_code == 404

        # The end of the roadshow ends the stream: players see the end mark and stop.
        await presenter.ok("roadshow.end", {"roadshow": rs})
        for _ in range(50):
            text = (await _get(hls_url(rs)))[1].decode()
            if "#EXT-X-ENDLIST" in text:
                break
            await asyncio.sleep(0.1)
        assert "#EXT-X-ENDLIST" in text
    finally:
        for pc in pcs:
            await pc.close()
        for client in (presenter, first, second):
            await client.close()
        await _stop_workers()


async def test_the_broadcast_codec_is_chosen_once_and_held(settings):
    """The first peer picks the codec (settings order); later peers must match it."""
    from aiortc import RTCRtpSender, RTCSessionDescription

    from streaming.worker import Broadcast

    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "VIDEO_CODECS": ["video/H264", "video/VP8"]}

    async def offered(*mimes: str, send: bool = False):
        client, server = peer(), peer()
        transceiver = client.addTransceiver("video", "sendonly" if send else "recvonly")
        transceiver.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs
                                         if c.mimeType in mimes])
        await client.setLocalDescription(await client.createOffer())
        await server.setRemoteDescription(RTCSessionDescription(
            sdp=client.localDescription.sdp, type="offer"))
        await client.close()
        return server

    broadcast = Broadcast(1)
    vp8_only = await offered("video/VP8", send=True)
    assert broadcast.choose_video_codec(vp8_only, presenter=True) == "video/VP8"
    broadcast.viewers["x"] = vp8_only  # someone watches: the codec is held
    h264_viewer = await offered("video/H264")
    with pytest.raises(ValueError, match="VP8, which this browser does not receive"):
        broadcast.choose_video_codec(h264_viewer, presenter=False)
    both = await offered("video/H264", "video/VP8")
    assert broadcast.choose_video_codec(both, presenter=False) == "video/VP8"
    for pc in (vp8_only, h264_viewer, both):
        await pc.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_inline_worker")
async def test_roadshow_errors():
    world = await roadshow_world()
    rs = world["roadshow"]
    staff = await WsClient(world["exhibitor"]).connect()
    viewer = await WsClient(world["viewer"]).connect()
    anon = await WsClient().connect()
    try:
        assert await viewer.error("roadshow.start", {"roadshow": rs}) == "roadshow.forbidden"
        assert await anon.error("roadshow.start", {"roadshow": rs}) == "auth.required"
        assert await staff.error("roadshow.start", {"roadshow": 999999}) == "roadshow.not_found"
        assert await staff.error("roadshow.publish", {"roadshow": rs, "sdp": OFFER}) == \
            "roadshow.not_live"
        assert await staff.error("roadshow.end", {"roadshow": rs}) == "roadshow.not_live"
        assert await viewer.error("roadshow.view", {"roadshow": world["ended"], "sdp": OFFER}) \
            == "roadshow.ended"
        assert await staff.error("roadshow.start", {"roadshow": world["ended"]}) in (
            "roadshow.forbidden", "roadshow.ended")
        await staff.ok("roadshow.start", {"roadshow": rs})
        assert await viewer.error("roadshow.publish", {"roadshow": rs, "sdp": OFFER}) == \
            "roadshow.forbidden"
        assert await viewer.error("roadshow.view", {"roadshow": rs, "sdp": "v=1"}) == \
            "sdp.invalid"
        assert await anon.error("roadshow.react", {"roadshow": rs, "emoji": "👏"}) == \
            "auth.required"
        assert await viewer.error("roadshow.react", {"roadshow": rs, "emoji": "x"}) == \
            "frame.invalid"
        # Plausible text that aiortc cannot use: the worker answers with roadshow.error.
        await viewer.ok("roadshow.view", {"roadshow": rs, "sdp": OFFER})
        failure = await viewer.event("roadshow.error", within=10)
        assert failure["roadshow"] == rs and failure["code"] == "sdp.invalid"
    finally:
        for client in (staff, viewer, anon):
            await client.close()
        await _stop_workers()


# --- replaying recordings over HTTP ---------------------------------------------------------

# The URLconf of the test below: the recordings' URLs as hallserver/urls.py should include them.
urlpatterns = [path("recordings/", include("streaming.urls"))]


@pytest.mark.urls("tests.test_media_passthrough")
@pytest.mark.django_db
def test_recordings_are_served_with_byte_ranges(client, settings, tmp_path):
    from streaming.models import Recording

    seed_demo()
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "MEDIA_DIR": str(tmp_path)}
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "r.webm").write_bytes(bytes(range(256)) * 4)
    roadshow = Roadshow.objects.first()
    recording = Recording.objects.create(roadshow=roadshow, path="recordings/r.webm", size=1024)
    whole = client.get(f"/recordings/{recording.pk}.webm")
    assert whole.status_code == 200 and whole["Content-Type"] == "video/webm"
    assert b"".join(whole.streaming_content) == bytes(range(256)) * 4
    part = client.get(f"/recordings/{recording.pk}.webm", HTTP_RANGE="bytes=10-19")
    assert part.status_code == 206 and part.content == bytes(range(10, 20))
    assert part["Content-Range"] == "bytes 10-19/1024"
    tail = client.get(f"/recordings/{recording.pk}.webm", HTTP_RANGE="bytes=-4")
    assert tail.content == bytes(range(252, 256))
    assert client.get(f"/recordings/{recording.pk}.webm",
                      HTTP_RANGE="bytes=5000-").status_code == 416
    assert client.get("/recordings/999999.webm").status_code == 404
    assert client.get(f"/recordings/{recording.pk}.mp4").status_code == 404  # not its type
    Recording.objects.filter(pk=recording.pk).update(path="../../etc/passwd")
    assert client.get(f"/recordings/{recording.pk}.webm").status_code == 404
