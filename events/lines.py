"""The rules for a presenter's line source, which the stage owns (stage/sources/).

Events imports nothing of the stage: the stage registers its rules here when it loads, and the
admin checks organisers' sources with them (the operator's policy binds organisers too).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class LineSourceRules:
    # The demuxer names an organiser may pick for a source (blank: FFmpeg probes).
    formats: tuple[str, ...]
    # Raises ValueError, saying why, for a source (and format) a line may not have.
    check: Callable[[str, str | None], None]


_registered: list[LineSourceRules] = []


def register(rules: LineSourceRules) -> None:
    _registered[:] = [rules]


def line_source_rules() -> LineSourceRules:
    if not _registered:
        raise ImproperlyConfigured("Line sources are checked by the stage app, which is not installed.")
    return _registered[0]
