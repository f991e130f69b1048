"""Organisers' test tones: a lavfi source filter with plain numeric options, nothing more. Pure.

A lavfi "source" is a whole filter graph, and a graph can read files (`movie=`, `amovie=`) or
chain filters that do. A tone is one audio source filter that reads nothing, with options that are
numbers, names or arithmetic; no ",", ";" or brackets (chains and links), no quotes or "\\"
(escapes that would hide them).
"""

import re

from .policy import SourceError

TEST_TONE_FORMAT = "lavfi"
TONE_FILTERS = frozenset({"sine", "aevalsrc", "anullsrc", "anoisesrc"})
_KEY = re.compile(r"[a-z_]{1,32}")
# Expressions as aevalsrc takes them: sin(2*PI*440*t)|0.1, 48000, stereo, FL+FR, 1e-3.
_VALUE = re.compile(r"[A-Za-z0-9_.+\-*/()|^]{1,300}")


def check_test_tone(graph: str) -> None:
    """Raise SourceError unless `graph` is one tone filter such as sine=frequency=440:sample_rate=48000."""
    name, _, options = graph.partition("=")
    if name not in TONE_FILTERS:
        raise SourceError(
            f"A test tone is one of {', '.join(sorted(TONE_FILTERS))} with its options, "
            "like sine=frequency=440:sample_rate=48000."
        )
    if not options:
        return
    for option in options.split(":"):
        key, equals, value = option.partition("=")
        if not equals:
            key, value = "", option
        if (equals and not _KEY.fullmatch(key)) or not _VALUE.fullmatch(value):
            raise SourceError(
                "A test tone's options are name=value pairs separated by ':', each value a number, "
                "a name or arithmetic (letters, digits, . + - * / ( ) | ^)."
            )
