"""Short-lived TURN credentials: what coturn's use-auth-secret checks, computed independently."""

import base64
import hashlib
import hmac

from stage.ice import TURN_CREDENTIAL_SECONDS, ice_servers_for, turn_credentials


def test_credentials_are_an_hmac_of_the_expiry_and_the_user_under_the_shared_secret():
    made = turn_credentials("s3cret", "p7", now=1_000_000.9)
    assert made["username"] == f"{1_000_000 + TURN_CREDENTIAL_SECONDS}:p7"
    expected = base64.b64encode(hmac.new(b"s3cret", made["username"].encode(), hashlib.sha1).digest()).decode()
    assert made["credential"] == expected
    assert turn_credentials("other", "p7", now=1_000_000)["credential"] != made["credential"]


def test_only_turn_servers_without_credentials_get_them_and_only_with_a_secret():
    servers = [
        {"urls": "stun:stun.example.org:3478"},
        {"urls": ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"]},
        {"urls": "turn:fixed.example.org", "username": "u", "credential": "kept"},
    ]
    given = ice_servers_for(servers, "p7", turn_secret="s3cret", now=0)
    assert given[0] == servers[0]
    assert given[1]["username"].endswith(":p7") and given[1]["credential"]
    assert given[2] == servers[2]
    assert ice_servers_for(servers, "p7", turn_secret="", now=0) == servers
    assert "credential" not in servers[1]  # the configuration itself is never changed
