"""Channel-layer group names, formatted in one place only.

Who is in which group:
- `stage.<event>`: one feed channel per server process that has sockets of the event (consoles
  and green rooms); stage pushes arrive once per process and fan out locally (stage/fanout.py).
- `meters.<event>`: the same feed channels; the mixer's reports (`mixer.report`) for consoles.
- `uplink.<event>.<line>`: the microphone socket sending a browser line (a newer one takes over).
- `presenter.<event>.<presenter>`: that presenter's own sockets (green rooms and microphone
  uplinks), closed at once when their link is revoked.
Viewers are not on WebSockets: they poll a small cacheable status (events/status.py).
"""


def stage_group(event_id: int) -> str:
    """Every process that follows an event's stage: its consoles and green rooms."""
    return f"stage.{event_id}"


def meters_group(event_id: int) -> str:
    """Every process with consoles of the event: the mixer's meters and line health reports."""
    return f"meters.{event_id}"


def presenter_group(event_id: int, presenter_id: str) -> str:
    """The sockets a presenter's link opened: told `presenter.revoked` when the link is replaced."""
    return f"presenter.{event_id}.{presenter_id}"


def uplink_group(event_id: int, line_id: str) -> str:
    """The socket sending a line's browser microphone; told `uplink.superseded` by a newer one."""
    return f"uplink.{event_id}.{line_id}"
