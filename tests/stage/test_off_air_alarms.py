"""The off-air monitor's alarms on the stage: raised while live, cleared by themselves, all cleared
by the end of the show; consoles see them, green rooms do not."""

import pytest

from stage.contract.commands import authorise, validate_command
from stage.contract.errors import ProtocolError
from stage.projections import console_view, greenroom_happenings, greenroom_view
from tests.stage.show import START, Show

MONITOR = {"role": "monitor", "actor": "monitor"}


def test_an_alarm_is_raised_once_while_live_keeps_its_start_and_clears_by_itself():
    show = Show()
    assert show.refused("set_off_air_alarm", alarm="dead_air", active=True, **MONITOR).code == "wrong_phase"
    show.do("go_live")
    happenings = show.do("set_off_air_alarm", alarm="dead_air", active=True, detail="silent", **MONITOR)
    assert happenings == [{"type": "off_air_alarm", "alarm": "dead_air", "active": True}]
    assert show.state["off_air_alarms"] == {"dead_air": {"since": START + 3, "detail": "silent"}}
    version = show.state["version"]
    # Found again, in other words: the same alarm, raised since it was, with what was found now.
    assert show.do("set_off_air_alarm", alarm="dead_air", active=True, detail="still silent", **MONITOR) == []
    assert show.state["off_air_alarms"]["dead_air"] == {"since": START + 3, "detail": "still silent"}
    assert show.state["version"] == version + 1
    happenings = show.do("set_off_air_alarm", alarm="dead_air", active=False, **MONITOR)
    assert happenings == [{"type": "off_air_alarm", "alarm": "dead_air", "active": False}]
    assert show.state["off_air_alarms"] == {}
    before = show.state
    assert show.do("set_off_air_alarm", alarm="dead_air", active=False, **MONITOR) == []
    assert show.state is before  # clearing what is not raised changes nothing


def test_the_end_of_the_show_clears_every_alarm_and_green_rooms_never_see_them():
    show = Show()
    show.do("go_live")
    show.do("set_off_air_alarm", alarm="stalled", active=True, detail="no new segment for 7 s", **MONITOR)
    show.do("set_off_air_alarm", alarm="monitor_down", active=True, role="system", actor="system:watchdog")
    assert set(console_view(show.state)["off_air_alarms"]) == {"stalled", "monitor_down"}
    assert "off_air_alarms" not in greenroom_view(show.state)
    happenings = show.do("end_show")
    assert happenings[1:] == [
        {"type": "off_air_alarm", "alarm": "monitor_down", "active": False},
        {"type": "off_air_alarm", "alarm": "stalled", "active": False},
    ]
    assert greenroom_happenings(happenings) == [happenings[0]]
    assert show.state["off_air_alarms"] == {}


@pytest.mark.parametrize(
    ("fields", "role", "problem"),
    [
        ({"alarm": "gremlins", "active": True}, "monitor", ("out_of_range", "alarm")),
        ({"alarm": "loud", "active": "yes"}, "monitor", ("wrong_type", "active")),
        ({"alarm": "loud", "active": True, "detail": "x" * 301}, "monitor", ("out_of_range", "detail")),
        ({"alarm": "loud", "active": True, "volume": 11}, "monitor", ("unknown_field", "volume")),
    ],
)
def test_a_malformed_alarm_is_refused_with_its_field(fields, role, problem):
    with pytest.raises(ProtocolError) as refused:
        validate_command({"type": "set_off_air_alarm"} | fields, role)
    assert (refused.value.code, refused.value.field) == problem


def test_only_the_monitor_and_the_system_raise_alarms():
    command = {"type": "set_off_air_alarm", "alarm": "loud", "active": False}
    assert authorise("producer", "user:pat", command).code == "forbidden"
    assert authorise("monitor", "monitor", command) is None
    assert authorise("system", "system:watchdog", command) is None
