"""Probe viewers for bench_audience: a few hundred asyncio viewers that read what they get.

Run as `python -m streaming.bench.audience_probe PLAN.json` beside the wrk processes. Each probe
gets its media pass as the page does (POST /hls/<event>/pass/ with its join session and the CSRF
token), then plays as its player would: low latency where its player can (the plan's `ll`) and
the pass's answer says so (Media-Low-Latency, as the page reads it: a low-latency seat), as hls.js
in lowLatencyMode (a blocking reload asking for the part the last answer hinted at,
`?_HLS_msn=&_HLS_part=`, sent as soon as the last was answered, and the newest part once listed);
else as a player of whole segments (the playlist every segment duration and the newest segment).
For every reload it notes when the answer arrived (wall clock), the newest segment's media
sequence number and who the playlist's last stage card names as speaking (its EXT-X-DATERANGE of
class net.webcast.stage; None while the playlists carry no cards), so the benchmark can tell when
each probe first saw a stage change. Prints one JSON object, with the probes that played low
latency.

`seated` is how the benchmark asks the same for the viewers wrk plays (wrk cannot read an answer's
header): a real POST of the pass endpoint for each, with its join session, as its page would.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import sys
import time
from datetime import datetime

CARD_CLASS = 'CLASS="net.webcast.stage"'
SPEAKING = re.compile(r'X-SPEAKING="([^"]*)"')
MEDIA_SEQUENCE = re.compile(r"#EXT-X-MEDIA-SEQUENCE:(\d+)")
PRELOAD_HINT = re.compile(r'^#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_(\d+)_(\d+)\.ts"', re.MULTILINE)
PART_URI = re.compile(r'^#EXT-X-PART:.*URI="([^"]+)"', re.MULTILINE)


def stage_cards(lines: list[str]) -> list[str]:
    """The playlist's stage cards (its EXT-X-DATERANGE tags of the stage's class), in order."""
    return [line for line in lines if line.startswith("#EXT-X-DATERANGE:") and CARD_CLASS in line]


def read_playlist(text: str) -> tuple[int, str | None, str | None]:
    """The newest segment's sequence number and URI, and who the last stage card names (None without cards)."""
    sequence = MEDIA_SEQUENCE.search(text)
    lines = text.splitlines()
    uris = [line for line in lines if line and not line.startswith("#")]
    newest = int(sequence.group(1)) + len(uris) - 1 if sequence else -1
    cards = stage_cards(lines)
    speaking = None
    if cards and (found := SPEAKING.search(cards[-1])):
        speaking = found.group(1)
    return newest, (uris[-1] if uris else None), speaking


START_DATE = re.compile(r'START-DATE="([^"]+)"')


def card_starts(text: str) -> list[tuple[float, list[str]]]:
    """Each stage card's START-DATE (epoch seconds: the program date-time of the first sample
    mixed with it) and who it names as speaking."""
    starts = []
    for line in stage_cards(text.splitlines()):
        start, speaking = START_DATE.search(line), SPEAKING.search(line)
        if start and speaking:
            starts.append((datetime.fromisoformat(start.group(1)).timestamp(), speaking.group(1).split("%0A")))
    return starts


def next_reload(text: str) -> str:
    """The query of hls.js's next low-latency reload after this answer: the part the playlist
    hints at (`?_HLS_msn=&_HLS_part=`), or a plain reload where it hints at none (no parts, ended)."""
    hint = PRELOAD_HINT.search(text)
    return f"?_HLS_msn={int(hint.group(1))}&_HLS_part={int(hint.group(2))}" if hint else ""


def newest_part(text: str) -> str | None:
    """The newest part the playlist lists."""
    parts = PART_URI.findall(text)
    return parts[-1] if parts else None


class Connection:
    """One keep-alive HTTP/1.1 connection that reopens when the server closes it."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict, bytes]:
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
            head += [f"{name}: {value}" for name, value in headers.items()]
            if method == "POST":
                head.append("Content-Length: 0")
            try:
                self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
                await self.writer.drain()
                return await self._response()
            except (asyncio.IncompleteReadError, ConnectionError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _response(self) -> tuple[int, dict, bytes]:
        lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                name, value = name.strip().lower(), value.strip()
                # Several cookies: the media pass's is the one kept.
                if name not in headers or (name == "set-cookie" and value.startswith("hlspass=")):
                    headers[name] = value
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                body += (await self.reader.readexactly(size + 2))[:-2]
            await self.reader.readuntil(b"\r\n")
        else:
            body = await self.reader.read()
            self.close()
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def asking(session: str, csrf: str) -> dict[str, str]:
    """The headers of a page's POST to the pass endpoint: its join session and the CSRF token."""
    return {"Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf, "Content-Type": "application/json"}


def seated_by(headers: dict[str, str]) -> bool:
    """Whether a pass's answer lets its player play low latency, as the page reads it
    (media-pass.js lowLatencyOf: no header is yes)."""
    return headers.get("media-low-latency") != "0"


async def seated(port: int, event: int, csrf: str, sessions: list[str]) -> list[bool]:
    """Each join session's pass asked for in turn, as its page would when opened: whether the
    answer seats it. Any other answer than a pass is the setup failing."""
    connection = Connection("127.0.0.1", port)
    answers = []
    for session in sessions:
        status, headers, body = await connection.request("POST", f"/hls/{event}/pass/", asking(session, csrf))
        if status != 204:
            raise RuntimeError(f"the pass endpoint answered {status}: {body[:200]!r}")
        answers.append(seated_by(headers))
    connection.close()
    return answers


async def probe(number: int, session: dict, plan: dict, records: list, counts: dict, seats: set) -> None:
    connection = Connection("127.0.0.1", plan["port"])
    event = plan["event"]
    deadline = time.monotonic() + plan["seconds"]
    answer = None
    while answer is None:  # as the page, which asks again a second later (media-pass.js)
        path = f"/hls/{event}/pass/"
        status, headers, _ = await counted(connection, "POST", path, asking(session["key"], plan["csrf"]), counts)
        if status == 204:
            answer = headers
        else:
            counts["errors"] += 1
            if time.monotonic() + 1 >= deadline:
                return
            await asyncio.sleep(1)
    media_cookie = {"Cookie": answer["set-cookie"].split(";")[0]}
    if session["ll"] and seated_by(answer):
        seats.add(number)
        await play_low_latency(connection, number, plan, media_cookie, deadline, records, counts)
    else:
        await play_segments(connection, number, plan, media_cookie, deadline, records, counts)
    connection.close()


async def counted(connection: Connection, method: str, path: str, headers: dict, counts: dict):
    """One request, counted; a connection that failed is closed and answers status 0."""
    counts["requests"] += 1
    try:
        return await connection.request(method, path, headers)
    except (OSError, asyncio.IncompleteReadError, ValueError):
        connection.close()
        return 0, {}, b""


async def reload(connection: Connection, number: int, path: str, cookie: dict, records: list, counts: dict):
    """One playlist request; its text (noted in `records`), or None for a refusal or a failure."""
    status, _, body = await counted(connection, "GET", path, cookie, counts)
    if status != 200:
        counts["errors"] += 1
        return None
    text = body.decode()
    newest, _, speaking = read_playlist(text)
    records.append((number, time.time(), newest, speaking))
    return text


async def fetch(connection: Connection, path: str, cookie: dict, counts: dict) -> None:
    status, _, _ = await counted(connection, "GET", path, cookie, counts)
    counts["errors"] += status != 200


async def play_low_latency(connection, number, plan, cookie, deadline, records, counts) -> None:
    """hls.js in lowLatencyMode: the next blocking reload as soon as one is answered, for the part
    it hinted at, and meanwhile, on a connection of its own, the newest part listed (measured in
    Chromium: hls.js sends the reload first and fetches the part beside it)."""
    folder = f"/hls/{plan['event']}/"
    listed = {"part": None}
    new_part = asyncio.Event()
    parts = asyncio.create_task(load_parts(Connection("127.0.0.1", plan["port"]), folder, cookie, listed,
                                           new_part, counts))
    # Viewers arrive at different moments.
    await asyncio.sleep(random.uniform(0, plan["part_s"]))
    query = ""
    while time.monotonic() < deadline:
        text = await reload(connection, number, folder + "live.m3u8" + query, cookie, records, counts)
        if text is None:
            # hls.js retries a failed reload a while later, and plainly.
            query = ""
            await asyncio.sleep(plan["part_s"])
            continue
        query, listed["part"] = next_reload(text), newest_part(text)
        new_part.set()
    listed["part"] = STOP
    new_part.set()
    await parts


STOP = object()


async def load_parts(connection: Connection, folder: str, cookie: dict, listed: dict, new_part: asyncio.Event,
                     counts: dict) -> None:
    """Fetch the newest listed part each time it changes (one that came and went while the last
    fetch was on its way is skipped), until it is STOP."""
    fetched = None
    while True:
        await new_part.wait()
        new_part.clear()
        part = listed["part"]
        if part is STOP:
            connection.close()
            return
        if part is not None and part != fetched:
            fetched = part
            await fetch(connection, folder + part, cookie, counts)


async def play_segments(connection, number, plan, cookie, deadline, records, counts) -> None:
    """A player of whole segments: the playlist every segment duration and its newest segment."""
    folder = f"/hls/{plan['event']}/"
    period = plan["segment_s"]
    # Viewers arrive at different moments: each reloads on its own phase of the segment clock.
    start = time.monotonic() + random.uniform(0, period)
    tick = 0
    while (due := start + tick * period) < deadline:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        # A reload that came late is not made up for: the next is due a period on, as hls.js does.
        tick = max(tick + 1, math.ceil((time.monotonic() - start) / period))
        text = await reload(connection, number, folder + "live.m3u8", cookie, records, counts)
        uri = read_playlist(text)[1] if text is not None else None
        if uri is not None:
            await fetch(connection, folder + uri, cookie, counts)


async def run(plan: dict) -> dict:
    records: list = []
    counts = {"requests": 0, "errors": 0}
    seats: set[int] = set()
    started = time.monotonic()
    sessions = enumerate(plan["sessions"])
    await asyncio.gather(*(probe(i, session, plan, records, counts, seats) for i, session in sessions))
    return {"records": records, **counts, "seconds": time.monotonic() - started, "low_latency": sorted(seats)}


def main(path: str) -> None:
    with open(path) as file:
        plan = json.load(file)
    print(json.dumps(asyncio.run(run(plan))))


if __name__ == "__main__":
    main(sys.argv[1])
