"""ICE servers for browsers, with TURN credentials in coturn's shared-secret scheme.

coturn's ``use-auth-secret`` (the "TURN REST API"): the username is ``"<expiry>:<user>"`` with
``expiry`` a unix time, the password is ``base64(HMAC-SHA1(secret, username))``. coturn recomputes
the password from its ``static-auth-secret`` and refuses expired usernames, so the server never
stores credentials and they expire by themselves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from django.conf import settings


def turn_credentials(secret: str, user: str | int, ttl: int, now: float | None = None
                     ) -> tuple[str, str]:
    """(username, password) valid for ``ttl`` seconds from ``now``."""
    expiry = int((time.time() if now is None else now) + ttl)
    username = f"{expiry}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(user_id: int | None) -> list[dict]:
    """The ``RTCIceServer`` list for one user (an empty list keeps ICE on the local network)."""
    conf = settings.LIVE_VIDEO
    servers = [dict(s) for s in conf["ICE_SERVERS"]]
    if conf["TURN_URLS"] and conf["TURN_SECRET"]:
        username, credential = turn_credentials(
            conf["TURN_SECRET"], user_id if user_id is not None else "anon", conf["TURN_TTL"]
        )
        servers.append({"urls": list(conf["TURN_URLS"]), "username": username,
                        "credential": credential})
    return servers
