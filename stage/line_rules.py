"""The stage's rules for line sources, registered with events for the organisers' admin.

Producers' sources are checked with their command (`set_line_source` in stage/contract/commands.py),
organisers' by the admin through these rules. Both hold the operator's policy
(settings.LINE_SOURCE_POLICY), and organisers may also give a test tone. The mixer checks again at every open.
"""

from django.conf import settings

from events.lines import LineSourceRules, register
from stage.sources.checks import FORMATS, check_source
from stage.sources.tones import TEST_TONE_FORMAT, check_test_tone

# The lavfi "format" makes a source a test tone (one source filter): organisers', never a producer's.
ORGANISER_FORMATS = (*sorted(FORMATS), TEST_TONE_FORMAT)


def check_organiser_source(url: str, format: str | None) -> None:
    """Raise SourceError (a ValueError) unless an organiser may give this source."""
    if format == TEST_TONE_FORMAT:
        check_test_tone(url)
    else:
        check_source(url, format, settings.LINE_SOURCE_POLICY)


def connect() -> None:
    register(LineSourceRules(formats=ORGANISER_FORMATS, check=check_organiser_source))
