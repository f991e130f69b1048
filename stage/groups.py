"""Channel-layer group names, formatted in one place only."""


def stage_group(event_id: int) -> str:
    """Everyone who follows an event's stage state: consoles and green rooms."""
    return f"stage.{event_id}"


def meters_group(event_id: int) -> str:
    """Consoles that show the mixer's meters and line health."""
    return f"meters.{event_id}"
