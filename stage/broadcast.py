"""The one path every stage command takes: validate, authorise, apply through the store,
broadcast. Consoles, green rooms, the mixer's reports and the system all come through here.

Each push is serialised once, by the sender, for each audience; server processes forward the
text as it is (stage/fanout.py).

Under daphne the commands are applied on a thread of their own (`COMMANDS`), not on the one
thread that asgiref gives every other thread-sensitive call of the process: there a producer's
take waited behind whatever ran before it (with a saturated server, a vote recount holding that
thread for most of a second while it waited for the event loop; bench_audience, README).
"""

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from stage import store
from stage.contract.commands import ProtocolError, authorise, validate_command
from stage.delta import diff
from stage.groups import stage_group
from stage.metrics import COMMAND_SECONDS
from stage.projections import CONSOLE, GREENROOM, console_view, greenroom_happenings, greenroom_view
from stage.store import Outcome

log = logging.getLogger(__name__)

# One thread: commands take the stage row's lock one at a time anyway (SQLite has one writer), and
# one thread keeps them in the order they came. Nothing else runs on it.
COMMANDS = ThreadPoolExecutor(1, thread_name_prefix="stage-commands")


async def apply_and_broadcast(event_id: int, command: dict, *, actor: str, role: str) -> Outcome:
    """Validate `command` for `role`, apply it as `actor` and, when it changed the stage, push the
    change to everyone following the event. Refusals are logged and change nothing."""
    began = time.perf_counter()
    checked = _checked(event_id, command, actor=actor, role=role)
    if isinstance(checked, Outcome):
        return _timed(began, "invalid", checked)
    submit = database_sync_to_async(store.submit, thread_sensitive=False, executor=COMMANDS)
    outcome = await submit(event_id, checked, actor=actor, role=role)
    if outcome.applied:
        try:
            await get_channel_layer().group_send(stage_group(event_id), push_message(outcome))
        except Exception:
            # Applied and persisted; followers catch up from the next push's version gap.
            log.exception("stage %s: broadcasting version %s failed", event_id, outcome.state["version"])
    return _timed(began, checked["type"], outcome)


def submit_and_broadcast(event_id: int, command: dict, *, actor: str, role: str) -> Outcome:
    """The same path for synchronous code (a task, an admin action): the store in this thread."""
    began = time.perf_counter()
    checked = _checked(event_id, command, actor=actor, role=role)
    if isinstance(checked, Outcome):
        return _timed(began, "invalid", checked)
    outcome = store.submit(event_id, checked, actor=actor, role=role)
    if outcome.applied:
        try:
            async_to_sync(get_channel_layer().group_send)(stage_group(event_id), push_message(outcome))
        except Exception:
            log.exception("stage %s: broadcasting version %s failed", event_id, outcome.state["version"])
    return _timed(began, checked["type"], outcome)


def _timed(began: float, command: str, outcome: Outcome) -> Outcome:
    """Count the command's time; only declared commands name a label ("invalid" otherwise)."""
    result = "applied" if outcome.applied else "refused" if outcome.error else "unchanged"
    COMMAND_SECONDS.labels(command, result).observe(time.perf_counter() - began)
    return outcome


def _checked(event_id: int, command: dict, *, actor: str, role: str) -> dict | Outcome:
    """The command as validated and authorised for `role`, or the refusal's Outcome (logged)."""
    try:
        command = validate_command(command, role, settings.LINE_SOURCE_POLICY)
        problem = authorise(role, actor, command)
        if problem is not None:
            raise problem
    except ProtocolError as error:
        log.warning("stage %s refused a command from %s (%s): %s", event_id, actor, role, error.message)
        return Outcome(state=None, error=error.as_dict())
    return command


def push_message(outcome: Outcome) -> dict:
    """The layer message for an applied command: the delta, serialised once per audience, and
    each new chat line for its presenter alone. Each audience's delta is the change between two of
    its own views, so it holds exactly what its snapshots hold."""
    state, previous = outcome.state, outcome.previous
    head = {"type": "delta", "version": state["version"], "base": previous["version"], "server_time": time.time()}
    console = (
        head
        | diff(console_view(previous), console_view(state))
        | {"happenings": outcome.happenings, "audit": outcome.entry}
    )
    greenroom = (
        head
        | diff(greenroom_view(previous), greenroom_view(state))
        | {"happenings": greenroom_happenings(outcome.happenings)}
    )
    private = {}
    for happening in outcome.happenings:
        if happening["type"] == "message":
            line = {"id": happening["message"]} | state["messages"][happening["message"]]
            private[happening["presenter"]] = json.dumps({"type": "message", "message": line})
    return {
        "type": "stage.push",
        "version": state["version"],
        CONSOLE: json.dumps(console),
        GREENROOM: json.dumps(greenroom),
        "private": private,
    }
