"""What this process counts of the live stage, for the Prometheus endpoint (config/metrics.py):
its WebSocket clients by role and how long stage commands take."""

from prometheus_client import Gauge, Histogram

SOCKETS = Gauge("webcast_websocket_clients", "Admitted WebSocket clients of this process, by role.", ["role"])
COMMAND_SECONDS = Histogram(
    "webcast_command_seconds",
    "Stage commands from their arrival to their broadcast (applied) or refusal, by command and outcome.",
    ["command", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
