"""Organisers' test tones: one lavfi audio source filter with plain options, and nothing that reads a
file. The accepted ones really play in FFmpeg's lavfi."""

import av
import pytest

from stage.sources.checks import admit_source
from stage.sources.policy import SourceError, SourcePolicy
from stage.sources.tones import check_test_tone

TONES = [
    "sine=frequency=440:sample_rate=48000",
    "sine=440",
    "sine",
    "aevalsrc=0.1*sin(2*PI*1000*t):s=48000",
    "aevalsrc=0.1*sin(2*PI*440*t)|0.1*cos(2*PI*440*t):c=stereo:s=48000",
    "anullsrc=r=48000:cl=stereo",
    "anullsrc=channel_layout=FL+FR",
    "anoisesrc=color=pink:amplitude=0.05:sample_rate=48000",
    "aevalsrc=1e-3*sin(2*PI*t^2):s=48000",
    "aevalsrc=0.02*sin(2*PI*220*t)+0.015*sin(2*PI*277.18*t)+0.015*sin(2*PI*329.63*t):s=48000",
]


@pytest.mark.parametrize("graph", TONES)
def test_a_tone_is_accepted_and_plays(graph):
    check_test_tone(graph)
    admission = admit_source(graph, "lavfi", SourcePolicy(), resolve=lambda host: pytest.fail("no name here"))
    with av.open(admission.target, format=admission.format, options=admission.options) as container:
        frame = next(container.decode(audio=0))
    assert frame.samples > 0


@pytest.mark.parametrize(
    "graph",
    [
        "amovie=/etc/passwd",
        "movie=/srv/media/video.mp4",
        "amovie=/etc/passwd:loop=0",
        "sine=440,amovie=/etc/passwd",
        "sine=440;amovie=/etc/passwd",
        "sine=440[a];amovie=/etc/passwd[b];[a][b]amix",
        "[in]sine=440",
        "sine=frequency=440,volume=2",
        "aevalsrc='0.1*sin(t)',amovie=/etc/passwd",
        "aevalsrc=0.1*sin(t)\\,amovie=/etc/passwd",
        'aevalsrc="x"',
        "sine=frequency=440:sample_rate=48000 ",
        "sine@label=440",
        "asine=440",
        "afirsrc=taps=10",
        "sine=frequency=440:sample_rate=%{pts}",
        "sine=f=440:=48000",
        "sine=frequency=440::",
        "aevalsrc=0.1*sin(2*PI*440*t):s=48000:c=stereo:d=@/etc/passwd",
        "",
    ],
)
def test_anything_else_is_refused(graph):
    with pytest.raises(SourceError, match="test tone"):
        check_test_tone(graph)
    with pytest.raises(SourceError, match="test tone"):
        admit_source(graph, "lavfi", SourcePolicy(), resolve=lambda host: pytest.fail("no name here"))
