"""What kind of input a line's source is, as presenters may know it. Pure.

A presenter's green room says where their audio comes from ("your encoder") but never gets the
source itself: a URL may carry a stream key or a password. The kind is worked out here, on the
server, from the scheme alone; the kinds and their labels are declared in stage/contract/enums.py.
"""

import re

from stage.contract.enums import SOURCE_KIND

from .checks import SDP_FORMAT
from .tones import TEST_TONE_FORMAT

BROWSER, ENCODER, DIAL_IN, STREAM, TEST_TONE, FILE, OTHER = SOURCE_KIND.values
# Encoders push RTMP or SRT, or MPEG-TS over UDP; telephony and contribution codecs send RTP.
KIND_BY_SCHEME = {
    "rtmp": ENCODER,
    "rtmps": ENCODER,
    "srt": ENCODER,
    "udp": ENCODER,
    "rtp": DIAL_IN,
    "http": STREAM,
    "https": STREAM,
    "file": FILE,
}
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def source_kind(source: str | None, format: str | None = None) -> str:
    """The kind of a line's input: its presenter's browser when it has no source."""
    if source is None:
        return BROWSER
    if format == TEST_TONE_FORMAT:
        return TEST_TONE
    # An SDP file describes an RTP stream: a dial-in line, wherever the file lies.
    if format == SDP_FORMAT or source.lower().endswith(".sdp"):
        return DIAL_IN
    if source.startswith("/"):
        return FILE
    scheme = _SCHEME.match(source)
    return KIND_BY_SCHEME.get(scheme.group(1).lower(), OTHER) if scheme else OTHER
