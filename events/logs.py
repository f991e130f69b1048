"""Structured logs: with LOG_FORMAT=json every record is one JSON object a line (structlog's
formatter over the standard library's logging), carrying the event, the line and the mixer
generation wherever they are known.

Three ways a record learns them: `bind` (this task's or thread's context: a socket's handlers),
`bind_process` (the whole process: a mixer process runs one event's mixer, in many threads) and
`extra={"line": …}` on the call itself (code that imports nothing of the project, as
streaming.core). The message is under "message"; "event" is the event's id.
"""

from __future__ import annotations

import structlog

BOUND = ("event", "line", "generation")
_process_fields: dict[str, object] = {}


def bind(**fields: object) -> None:
    """Name `fields` in every record of the current context (an asyncio task, or a thread)."""
    structlog.contextvars.bind_contextvars(**fields)


def bind_process(**fields: object) -> None:
    """Name `fields` in every record of this process (one mixer process runs one mixer)."""
    _process_fields.update(fields)


def _bound(logger, method: str, event_dict: dict) -> dict:
    for key, value in _process_fields.items():
        event_dict.setdefault(key, value)
    record = event_dict.get("_record")
    for key in BOUND:
        value = getattr(record, key, None)
        if value is not None:
            event_dict[key] = value
    return event_dict


class JsonFormatter(structlog.stdlib.ProcessorFormatter):
    """One JSON object a line: timestamp, level, logger, message, the bound fields, any exception."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(
            *args,
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.EventRenamer("message"),  # "event" is the event's id here
                structlog.contextvars.merge_contextvars,
                _bound,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(default=str),
            ],
            **kwargs,
        )



