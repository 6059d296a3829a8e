"""Real-time transport infrastructure shared by every app.

- :mod:`.connection` — one object per WebSocket with a bounded, non-blocking ``write``;
- :mod:`.hub` — the per-process fan-out: one channel-layer channel and one group (one Redis
  subscription) per room per process, delivery in sequence order, frames serialised once;
- :mod:`.server` — the daphne server subclass that lets the hub write frames straight to
  sockets.
"""
