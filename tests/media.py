"""A media pass got the way a page gets one: POST to the event's pass endpoint (streaming/passes.py)."""

import json

PASS_COOKIE = "hlspass"


def pass_path(event_id: int) -> str:
    return f"/hls/{event_id}/pass/"


def ask_pass(client, event_id: int, **claim):
    """The answer to `client` asking for a pass: by its session (a viewer's, a producer's), or as a
    presenter with `presenter=` and `key=` in the body. The page's own request is the same."""
    body = json.dumps(claim) if claim else ""
    return client.post(pass_path(event_id), body, content_type="application/json")


def get_pass(client, event_id: int, **claim) -> str:
    """The pass cookie's value; the client keeps the cookie, as a browser would."""
    response = ask_pass(client, event_id, **claim)
    assert response.status_code == 204, response.content
    return response.cookies[PASS_COOKIE].value
