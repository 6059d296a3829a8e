"""Live media: WebRTC signalling, the aiortc media worker and TURN credentials.

Not built yet: booth video calls and roadshow broadcasting arrive with the live-video work
(issue #4), on top of the real-time hub in :mod:`hallserver.realtime`.
"""
