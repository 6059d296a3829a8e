"""Property-based fuzzing of inbound frames: whatever arrives, the server answers with an
error code (or a reply) and the connection stays usable."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booths.protocol import ACTIONS, ALL_ERROR_CODES
from booths.seed import seed_demo
from tests.wsclient import WsClient

pytestmark = [pytest.mark.django_db(transaction=True)]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=12,
)
frames = st.one_of(
    # Well-formed envelopes with random data, for every real action.
    st.fixed_dictionaries({
        "action": st.sampled_from(sorted(ACTIONS)),
        "id": st.integers(min_value=0, max_value=10**6),
        "data": st.dictionaries(
            st.sampled_from(["room", "seq", "body", "since", "user", "minutes", "text",
                             "scope", "target", "limit", "before", "question", "status",
                             "reason", "up", "held", "report", "read_only", "seconds"]),
            json_values, max_size=5),
    }).map(json.dumps),
    # Anything JSON at all.
    json_values.map(json.dumps),
    # Not JSON.
    st.text(max_size=200),
)


@pytest.fixture
async def seeded():
    from channels.db import database_sync_to_async

    await database_sync_to_async(seed_demo)()


async def test_random_frames_are_answered_and_the_connection_stays_usable(seeded):
    from channels.db import database_sync_to_async
    from django.contrib.auth import get_user_model

    user = await database_sync_to_async(get_user_model().objects.get)(username="moderator")
    client = await WsClient(user).connect()
    seen_codes: set[str] = set()
    loop = asyncio.get_running_loop()

    @settings(max_examples=150, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(text=frames)
    def check(text: str) -> None:
        async def one() -> None:
            await client.send_raw(text)
            # Exactly one reply comes back for each frame (events may come in between).
            while True:
                frame = await client.next_frame(5)
                if "reply" in frame:
                    break
            if frame["ok"] is False:
                assert frame["error"]["code"] in ALL_ERROR_CODES, frame
                seen_codes.add(frame["error"]["code"])
            pong = await client.ok("ping", {"t": 1})
            assert pong["t"] == 1

        asyncio.run_coroutine_threadsafe(one(), loop).result(30)

    await asyncio.to_thread(check)
    assert {"frame.malformed", "frame.invalid"} <= seen_codes
    await client.close()
