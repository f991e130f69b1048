"""The off-air monitor's alarms on the stage: raised and cleared as facts. Pure.

The monitor (streaming/off_air.py) reports what is wrong with what the audience receives; the
watchdog reports the monitor itself gone quiet. An alarm is raised only while the show is live
(what else would be on air?) and cleared in any phase; the end of the show clears them all.
"""

from stage.state import LIVE, CommandRefused, Context, Happening, State


def set_off_air_alarm(state: State, command: dict, ctx: Context) -> list[Happening]:
    alarms = state["off_air_alarms"]
    alarm, detail = command["alarm"], command.get("detail", "")
    if not command["active"]:
        if alarms.pop(alarm, None) is None:
            return []
        return [{"type": "off_air_alarm", "alarm": alarm, "active": False}]
    if state["phase"] != LIVE:
        raise CommandRefused("wrong_phase", "Off-air alarms are raised while the show is live.", "active")
    raised = alarms.get(alarm)
    if raised is not None:
        raised["detail"] = detail  # the same alarm, found anew: still raised since it was
        return []
    alarms[alarm] = {"since": ctx.now, "detail": detail}
    return [{"type": "off_air_alarm", "alarm": alarm, "active": True}]


def clear_all(state: State) -> list[Happening]:
    """The show is over: nothing it sends is wrong any more."""
    cleared = sorted(state["off_air_alarms"])
    state["off_air_alarms"] = {}
    return [{"type": "off_air_alarm", "alarm": alarm, "active": False} for alarm in cleared]


HANDLERS = {"set_off_air_alarm": set_off_air_alarm}
