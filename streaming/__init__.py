"""Live media: WebRTC signalling, the aiortc media worker and TURN credentials.

Only the ICE configuration lives here so far; calls and roadshows are built on top of the
real-time hub in hallserver.realtime.
"""
