"""What the mixer opens for each line of the stage: the encoder or dial-in URL the producer gave
(checked against the operator's policy at every open), an organiser's test tone, or the
presenter's browser uplink; a change of source on the stage reopens just that line."""

from stage.sources.policy import SourcePolicy
from streaming.core.engine import MixEngine
from streaming.policed import PolicedSource
from streaming.uplink import Uplinks
from streaming.worker import UPLINK_OPTIONS, line_specs

POLICY = SourcePolicy.from_config(networks=["public", "10.0.0.0/8"])


# The engine below starts its readers, which admit their sources: documentation addresses, which
# the policy refuses by its decision alone (no name to look up, no packet sent).
ENCODER = "srt://192.0.2.1:9000"
OTHER_ENCODER = "rtmp://192.0.2.7/live/a"


def lines(**sources) -> dict:
    return {line_id: {"source": source, "format": None} for line_id, source in sources.items()}


def test_each_line_opens_its_source_under_the_policy_or_its_browser_uplink():
    uplinks = Uplinks(1)
    stage_lines = lines(p1=None, p2="srt://enc.example:9000", p3="/srv/a.sdp")
    stage_lines["p4"] = {"source": "sine=frequency=440", "format": "lavfi"}
    specs = {spec.line_id: spec for spec in line_specs(stage_lines, uplinks, POLICY)}
    assert specs["p1"].opener == uplinks.buffer("p1").open and specs["p1"].live
    assert (specs["p1"].format, specs["p1"].options, specs["p1"].admit) == ("matroska", UPLINK_OPTIONS, None)
    assert (specs["p2"].url, specs["p2"].opener, specs["p2"].live, specs["p2"].admit) == (
        "srt://enc.example:9000",
        None,
        False,
        PolicedSource("srt://enc.example:9000", None, POLICY),
    )
    # The options (whitelists, the checked address) are decided at each open, not here.
    assert specs["p3"].options == {} and specs["p3"].admit == PolicedSource("/srv/a.sdp", None, POLICY)
    assert (specs["p4"].format, specs["p4"].admit) == ("lavfi", PolicedSource("sine=frequency=440", "lavfi", POLICY))


def test_the_same_stage_lines_make_equal_specs_so_running_lines_are_left_alone(tmp_path):
    uplinks = Uplinks(1)
    engine = MixEngine(tmp_path)
    engine.set_lines(line_specs(lines(p1=None, p2=ENCODER), uplinks, POLICY))
    first = dict(engine._readers)
    engine.set_lines(
        line_specs(
            lines(p1=None, p2=ENCODER),
            uplinks,
            SourcePolicy.from_config(networks=["public", "10.0.0.0/8"]),
        )
    )
    assert engine._readers == first
    engine.set_lines(line_specs(lines(p1=OTHER_ENCODER, p2=ENCODER), uplinks, POLICY))
    assert engine._readers["p2"] is first["p2"] and engine._readers["p1"] is not first["p1"]
    engine.set_lines([])
