"""Viewers' votes reach the consoles through the stage: a recount from the database, sent by the
system as absolute counts (`set_votes`), coalesced so that ten thousand votes make a few versions.

A vote is a committed row first (stage.models); then `votes_changed` arms one recount for the
event unless one is armed already (a key in the shared cache: Redis scaled out, so one process
of many recounts). The armed recount waits STAGE_VOTE_TALLY_SECONDS, clears the key, then counts.
A vote whose row committed before the key was cleared is in that count; one after it arms the
next. At most one version per event per period, and nothing counted twice or lost: the counts
are absolute. A process that dies while armed leaves the key to expire (PENDING_TTL), and the
next vote after that recounts.
"""

import asyncio
import contextvars
import hashlib
import logging
import os
import threading
from datetime import UTC, datetime

from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection
from django.db.models import Count, Q

from events.caches import store
from stage.broadcast import apply_and_broadcast, submit_and_broadcast
from stage.contract.commands import SYSTEM
from stage.models import PollVote, QuestionVote, StageState
from stage.polls import CLOSED

log = logging.getLogger(__name__)

ACTOR = "system:votes"
PENDING_TTL = 30
KEY_PREFIX = "stage-tally"
# Armed recounts, held so the loop does not drop them before they ran.
_armed: set[asyncio.Task] = set()
# How an armed recount waits its period (a test holds it until its votes are in).
wait = asyncio.sleep


def counts(event_id: int) -> dict:
    """The `set_votes` command for an event: the upvotes of every question and the answers of
    every poll whose count in the state differs from its rows (so the audit log keeps changes only)."""
    document = StageState.objects.filter(event_id=event_id).values_list("document", flat=True).first() or {}
    upvotes = dict(
        QuestionVote.objects.filter(event_id=event_id).values_list("question").annotate(n=Count("id")).order_by()
    )
    questions = {
        qid: upvotes.get(qid, 0)
        for qid, question in document.get("questions", {}).items()
        if question.get("votes", 0) != upvotes.get(qid, 0)
    }
    polls = {poll_id: [0] * len(poll["options"]) for poll_id, poll in document.get("polls", {}).items()}
    answers = PollVote.objects.filter(event_id=event_id).filter(_before_closing(document.get("polls", {})))
    answers = answers.values_list("poll", "option").annotate(n=Count("id"))
    for poll_id, option, n in answers.order_by():
        if poll_id in polls and option < len(polls[poll_id]):
            polls[poll_id][option] = n
    polls = {poll_id: tally for poll_id, tally in polls.items() if document["polls"][poll_id]["counts"] != tally}
    return {"type": "set_votes", "questions": questions, "polls": polls}


def _before_closing(polls: dict) -> Q:
    """Answers that count: to a closed poll, only those in before it closed. One that raced the
    close (the view saw the poll open, the row committed after) stays a row but is not counted."""
    closed = {pid: poll["closed_at"] for pid, poll in polls.items() if poll["status"] == CLOSED and poll["closed_at"]}
    counted = ~Q(poll__in=list(closed))
    for poll_id, closed_at in closed.items():
        counted |= Q(poll=poll_id, voted_at__lte=datetime.fromtimestamp(closed_at, UTC))
    return counted


def recount(event_id: int) -> None:
    _applied(event_id, submit_and_broadcast(event_id, counts(event_id), actor=ACTOR, role=SYSTEM))


def _applied(event_id: int, outcome) -> None:
    if outcome.error is not None:
        log.warning("stage %s: votes not recounted: %s", event_id, outcome.error)


def votes_changed(event_id: int) -> None:
    """After a vote's row committed (in the view's thread): recount now (period 0) or arm the
    event's next recount.

    The armed recount waits on the server's event loop when the view runs in a thread started from
    it (daphne; Django's AsyncClient), as a task that outlives the request. Without a running loop
    to hand it to (Django's test Client, a command), a task made in `async_to_sync`'s temporary
    loop would be cancelled with that loop and the recount lost while its key holds off the next,
    so a thread of its own waits instead: not a daemon, so the process ends only after it counted.
    """
    period = settings.STAGE_VOTE_TALLY_SECONDS
    if period <= 0:
        recount(event_id)
        return
    if not store().add(_key(event_id), PENDING_TTL):
        return  # armed already, here or in another process: that recount will see this vote
    loop = _server_loop()
    if loop is not None:
        loop.call_soon_threadsafe(_arm, event_id, period)
    else:
        threading.Thread(target=_recount_later, args=(event_id, period), name=f"tally-{event_id}").start()


def _server_loop() -> asyncio.AbstractEventLoop | None:
    """The running loop this thread was started from by asgiref's `sync_to_async`, if any (a loop
    recorded in a forked parent, or one that ended, would never run the recount)."""
    local = SyncToAsync.threadlocal
    loop = getattr(local, "main_event_loop", None)
    if loop is None or getattr(local, "main_event_loop_pid", None) != os.getpid() or not loop.is_running():
        return None
    return loop


def _arm(event_id: int, period: float) -> None:
    # A context of its own: the request's (its thread-sensitive executor) ends with the response.
    task = asyncio.create_task(_recount_after(event_id, period), context=contextvars.Context())
    _armed.add(task)
    task.add_done_callback(_armed.discard)


async def _recount_after(event_id: int, period: float) -> None:
    """Count in a thread, then apply the count as the consoles' commands are applied. Counted and
    broadcast in one thread (`_settle`), the recount held its thread until the broadcast had waited
    its turns in this loop: on a saturated server most of a second, twice a second, and that thread
    was asgiref's one for every thread-sensitive call of the process (a producer's take waited
    behind it; bench_audience, README)."""
    await wait(period)
    try:
        command = await database_sync_to_async(_disarm_and_count, thread_sensitive=False)(event_id)
        _applied(event_id, await apply_and_broadcast(event_id, command, actor=ACTOR, role=SYSTEM))
    except Exception:
        log.exception("stage %s: recounting votes failed", event_id)


def _recount_later(event_id: int, period: float) -> None:
    asyncio.run(wait(period))
    try:
        _settle(event_id)
    finally:
        connection.close()  # this thread's own, which nothing else would close


def _settle(event_id: int) -> None:
    """Disarm, count and apply the count, in this thread (one without a loop)."""
    try:
        _applied(event_id, submit_and_broadcast(event_id, _disarm_and_count(event_id), actor=ACTOR, role=SYSTEM))
    except Exception:
        log.exception("stage %s: recounting votes failed", event_id)


def _disarm_and_count(event_id: int) -> dict:
    """Disarm, then count: a vote committed after the key is gone arms the next recount."""
    store().delete(_key(event_id))
    return counts(event_id)


def _key(event_id: int) -> str:
    # Two databases sharing one Redis (a test run beside a server) must not share a key.
    name = hashlib.sha256(str(connection.settings_dict["NAME"]).encode()).hexdigest()[:12]
    return f"{KEY_PREFIX}:{name}:{event_id}"
