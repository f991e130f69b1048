"""The stage sockets' back-off (stage/contract/reconnect.py), as the pages (socket.js, through the
contract; node tests/js/socket.test.js) and the load drill's clients (load_sockets.py) take it."""

import pytest

from stage.contract.document import contract_document
from stage.contract.reconnect import reconnect_delay


def test_the_wait_is_a_random_share_of_a_bound_doubling_from_half_a_second_to_eight():
    assert [reconnect_delay(attempt, lambda: 1.0) for attempt in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert reconnect_delay(3, lambda: 0.25) == 1.0
    assert reconnect_delay(0, lambda: 0.0) == 0.0
    assert reconnect_delay(10_000, lambda: 0.5) == 4.0


def test_a_negative_attempt_is_refused():
    with pytest.raises(ValueError, match="attempt -1 is not a count of attempts"):
        reconnect_delay(-1, lambda: 0.5)


def test_the_pages_get_the_same_bounds_through_the_contract():
    assert contract_document()["reconnect"] == {"first_ms": 500, "most_ms": 8000}
