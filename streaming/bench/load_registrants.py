"""The registrations of `bench_load`, run as their own process: `python -m streaming.bench.load_registrants PLAN`.

People register at a steady rate (the plan's `per_minute`) through nginx, as a browser does: the
event page, then the form posted back with its CSRF token. Each comes from an address of its own
on loopback (127.1.x.y: the whole 127/8 is this machine), as distinct people do, so the
per-address rate limit sees what it would in production. Prints one JSON object: every
registration's address, answer and latencies. Imports nothing of Django.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

CSRF = "c" * 32  # any 32 letters: Django compares the form's token with the cookie's
TIMEOUT_SECONDS = 10
IN_FLIGHT = 16


def source_address(number: int) -> str:
    """Person `number`'s address: 127.1.0.1, 127.1.0.2, … (.0 and .255 left out), 64,770 of them."""
    if number >= 255 * 254:
        raise ValueError("more people than addresses: register fewer, or for less time")
    return f"127.1.{number // 254}.{number % 254 + 1}"


def register(plan: dict, number: int) -> dict:
    """One person: the event page, then the form. Their email names the run and the person."""
    email = f"load-{number}@{plan['tag']}.example"
    record = {"email": email, "page": None, "page_ms": None, "status": None, "ms": None, "error": None}
    connection = http.client.HTTPConnection(
        "127.0.0.1", plan["port"], timeout=TIMEOUT_SECONDS, source_address=(source_address(number), 0)
    )
    path = f"/e/{plan['slug']}/"
    try:
        began = time.monotonic()
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        record["page"], record["page_ms"] = response.status, 1000 * (time.monotonic() - began)
        body = urlencode({"csrfmiddlewaretoken": CSRF, "name": f"Load Person {number}", "email": email,
                          "organisation": "Example Ltd"})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={CSRF}"}
        began = time.monotonic()
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        record["status"], record["ms"] = response.status, 1000 * (time.monotonic() - began)
    except (OSError, http.client.HTTPException) as error:
        record["error"] = f"{type(error).__name__}: {error}"
    finally:
        connection.close()
    return record


def run(plan: dict) -> dict:
    gap = 60.0 / plan["per_minute"]
    started = time.monotonic()
    count = int(plan["seconds"] / gap)
    futures = []
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        for number in range(1, count + 1):
            # Pacing the arrivals, not waiting for anything: person n comes at start + n × gap.
            time.sleep(max(0.0, started + number * gap - time.monotonic()))
            futures.append(pool.submit(register, plan, number))
    return {"registrations": [future.result() for future in futures], "seconds": time.monotonic() - started}


def main() -> None:
    with open(sys.argv[1]) as plan_file:
        json.dump(run(json.load(plan_file)), sys.stdout)


if __name__ == "__main__":
    main()
