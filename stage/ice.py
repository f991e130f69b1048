"""The ICE servers a page's WebRTC connection is given, with short-lived TURN credentials. Pure.

A TURN server relays audio for presenters whose networks block UDP to the mixer. Its password
must not be a fixed secret that every presenter's page (and anyone they forward a link to)
could keep: with `RTC_TURN_SECRET` set, each page gets credentials made by the scheme coturn
calls `use-auth-secret` (the "TURN REST API" draft): the username is the expiry time and who it
is for, the password an HMAC-SHA1 of the username under the secret the TURN server shares. They
stop working at the expiry, and nothing on the server has to store them.
"""

import base64
import hashlib
import hmac

# Long enough for a long show and its rehearsal; a reconnecting page gets fresh ones.
TURN_CREDENTIAL_SECONDS = 12 * 3600


def turn_credentials(secret: str, user: str, now: float, ttl: int = TURN_CREDENTIAL_SECONDS) -> dict[str, str]:
    """coturn's use-auth-secret credentials for `user`, valid for `ttl` seconds from `now`."""
    username = f"{int(now) + ttl}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return {"username": username, "credential": base64.b64encode(digest).decode()}


def is_turn(server: dict) -> bool:
    urls = server.get("urls")
    return any(url.startswith(("turn:", "turns:")) for url in ([urls] if isinstance(urls, str) else urls or []))


def ice_servers_for(servers: list[dict], user: str, *, turn_secret: str, now: float) -> list[dict]:
    """The configured servers as a page gets them: TURN servers that carry no credentials of
    their own get short-lived ones for `user` when a shared secret is configured."""
    given = []
    for server in servers:
        if turn_secret and is_turn(server) and "credential" not in server:
            server = server | turn_credentials(turn_secret, user, now)
        given.append(server)
    return given
