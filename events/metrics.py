"""What this process counts of the event domain, for the Prometheus endpoint (config/metrics.py).

Counted where it happens, per process; Prometheus adds the processes up. What the database knows
(the outbox's depth) is read at scrape time instead, by the endpoint.
"""

from prometheus_client import Counter

REGISTRATIONS = Counter(
    "webcast_registrations", "Registrations taken by this process: new ones, and known people registering again.",
    ["outcome"],
)
OUTBOX_RELAYED = Counter("webcast_outbox_relayed", "Emails this process handed from the outbox to the workers.")
EMAIL_FAILURES = Counter(
    "webcast_email_failures", "Emails this process failed to send (each failed attempt; retried later)."
)
