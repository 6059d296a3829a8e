"""Live media: booth video calls (WebRTC between browsers, signalled over the hub), TURN
credentials, leads, and roadshows broadcast through aiortc media workers.

- :mod:`.calls`, :mod:`.actions`: knock queues, accept/decline, call signalling, leads
- :mod:`.roadshows`: going live, viewers, and the roadshow → worker assignment
- :mod:`.worker`, :mod:`.passthrough`: the media worker and its encoded-frame forwarding
- :mod:`.turn`: ICE servers and coturn ``use-auth-secret`` credentials
"""
