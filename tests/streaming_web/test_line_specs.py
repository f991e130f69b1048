"""What the mixer opens for each line of the stage: the encoder or dial-in URL the producer gave
(an SDP file only over RTP and UDP), or the presenter's browser uplink; a change of source on
the stage reopens just that line."""

from streaming.core.engine import MixEngine
from streaming.uplink import Uplinks
from streaming.worker import UPLINK_OPTIONS, line_specs


def lines(**sources) -> dict:
    return {line_id: {"source": source, "format": None} for line_id, source in sources.items()}


def test_each_line_opens_its_source_or_its_browser_uplink():
    uplinks = Uplinks(1)
    specs = {
        spec.line_id: spec for spec in line_specs(lines(p1=None, p2="srt://enc.example:9000", p3="/srv/a.sdp"), uplinks)
    }
    assert specs["p1"].opener == uplinks.buffer("p1").open and specs["p1"].live
    assert (specs["p1"].format, specs["p1"].options) == ("matroska", UPLINK_OPTIONS)
    assert (specs["p2"].url, specs["p2"].opener, specs["p2"].live, specs["p2"].options) == (
        "srt://enc.example:9000",
        None,
        False,
        {},
    )
    assert specs["p3"].options == {"protocol_whitelist": "file,udp,rtp"}


def test_the_same_stage_lines_make_equal_specs_so_running_lines_are_left_alone(tmp_path):
    uplinks = Uplinks(1)
    engine = MixEngine(tmp_path)
    engine.set_lines(line_specs(lines(p1=None, p2="srt://enc.example:9000"), uplinks))
    first = dict(engine._readers)
    engine.set_lines(line_specs(lines(p1=None, p2="srt://enc.example:9000"), uplinks))
    assert engine._readers == first
    engine.set_lines(line_specs(lines(p1="rtmp://enc.example/live/a", p2="srt://enc.example:9000"), uplinks))
    assert engine._readers["p2"] is first["p2"] and engine._readers["p1"] is not first["p1"]
    engine.set_lines([])
