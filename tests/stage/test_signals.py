"""WebRTC signals (stage/contract/signals.py): strict, role-checked, every error naming its field."""

import pytest

from stage.contract.commands import MIXER, PRESENTER, PRODUCER, VIEWER, ProtocolError
from stage.contract.signals import is_session, is_signal, monitor_choice, validate_signal

OFFER = {"type": "rtc_offer", "session": "s-1", "sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}


def refusal(message, role=PRODUCER) -> tuple[str, str | None]:
    with pytest.raises(ProtocolError) as raised:
        validate_signal(message, role)
    return raised.value.code, raised.value.field


def test_offers_from_presenters_and_producers_monitors_from_producers():
    assert validate_signal(OFFER, PRESENTER) is OFFER
    assert validate_signal(OFFER, PRODUCER) is OFFER
    assert monitor_choice(validate_signal({"type": "monitor", "listen": "backstage"}, PRODUCER)) == "backstage"
    assert monitor_choice(validate_signal({"type": "monitor", "listen": "line", "line": "p3"}, PRODUCER)) == "line:p3"


@pytest.mark.parametrize(
    ("message", "role", "expected"),
    [
        ({"type": "monitor", "listen": "program"}, PRESENTER, ("forbidden", "type")),
        (OFFER, VIEWER, ("forbidden", "type")),
        (OFFER, MIXER, ("forbidden", "type")),
        (OFFER | {"extra": 1}, PRODUCER, ("unknown_field", "extra")),
        ({"type": "rtc_offer", "sdp": "v=0"}, PRODUCER, ("missing_field", "session")),
        (OFFER | {"session": ""}, PRODUCER, ("out_of_range", "session")),
        (OFFER | {"session": "x" * 65}, PRODUCER, ("out_of_range", "session")),
        (OFFER | {"sdp": "x" * 12001}, PRODUCER, ("out_of_range", "sdp")),
        (OFFER | {"sdp": 5}, PRODUCER, ("wrong_type", "sdp")),
        ({"type": "monitor", "listen": "everything"}, PRODUCER, ("out_of_range", "listen")),
        ({"type": "monitor", "listen": "line"}, PRODUCER, ("missing_field", "line")),
        ({"type": "monitor", "listen": "program", "line": "p1"}, PRODUCER, ("unknown_field", "line")),
        ({"type": "rtc_hangup"}, PRODUCER, ("unknown_signal", "type")),
        ({"sdp": "v=0"}, PRODUCER, ("missing_field", "type")),
        ([], PRODUCER, ("malformed", None)),
    ],
)
def test_bad_signals_are_refused_naming_the_field(message, role, expected):
    assert refusal(message, role) == expected


def test_what_counts_as_a_signal_and_a_session():
    assert is_signal(OFFER) and is_signal({"type": "monitor"})
    assert not is_signal({"type": "set_on_air"}) and not is_signal({"type": ["rtc_offer"]})
    assert is_session("abc") and not is_session("") and not is_session(None) and not is_session("x" * 65)
