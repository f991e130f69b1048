"""Every message a test's socket client receives is held to the stage contract: a message the
contract does not declare, for that socket's audience, fails the test that received it."""

import json

from stage.contract.messages import UPLINK, validate_server_message
from stage.contract.records import CONSOLE, GREENROOM


def audience_of(path: str) -> str:
    """Which audience a socket path serves: a console, a green room or a microphone uplink."""
    if "/uplink/" in path:
        return UPLINK
    return GREENROOM if "/greenroom/" in path else CONSOLE


def received(text: str | bytes, audience: str) -> dict:
    """A message as the server sent it, decoded and checked against the contract."""
    return validate_server_message(json.loads(text), audience)
