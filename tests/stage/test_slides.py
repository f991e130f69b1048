"""Slides on the stage: decks arrive rendered, producers show any page, the presenter on air turns
the pages when allowed, a take brings up the new presenter's deck, and the card carries the slide."""

import pytest

from stage import machine
from stage.contract.commands import validate_command
from stage.contract.errors import ProtocolError
from stage.program_card import program_card
from tests.stage.show import Show

ADA = "presenter:p1"


def deck(show: Show, deck_id: str, pages: int, presenter=None, segment=None, title="Deck") -> list:
    files = f"{deck_id}-f00d"
    return show.do(
        "set_deck", role="system", actor="system:slides", deck=deck_id, title=title, pages=pages,
        files=files, presenter=presenter, segment=segment,
    )


def refused_code(show: Show, type_: str, **fields) -> str:
    before = show.state
    with pytest.raises(machine.CommandRefused) as refusal:
        show.do(type_, **fields)
    assert show.state is before
    return refusal.value.code


def live_with_ada_on_air() -> Show:
    show = Show()
    deck(show, "d1", 3, presenter="p1")
    deck(show, "d2", 2, segment="s2")
    show.do("go_live")
    show.do("set_preview", presenters=["p1"])
    show.do("take")
    return show


def test_a_rendered_deck_enters_the_state_and_its_removal_takes_its_slide_off_screen():
    show = Show()
    assert deck(show, "d1", 3, presenter="p1", title="Ada's talk") == [{"type": "deck", "deck": "d1"}]
    assert show.state["decks"]["d1"] == {
        "title": "Ada's talk", "pages": 3, "files": "d1-f00d", "presenter": "p1", "segment": None,
    }
    show.do("show_slide", deck="d1", page=2)
    happenings = show.do("remove_deck", role="system", deck="d1")
    assert happenings == [
        {"type": "deck", "deck": "d1", "removed": True},
        {"type": "slide", "deck": None, "page": None},
    ]
    assert show.state["decks"] == {} and show.state["slide"] is None


def test_producers_show_any_page_of_any_deck_and_nothing_beyond_it():
    show = Show()
    deck(show, "d1", 3)
    assert show.do("show_slide", deck="d1", page=3) == [{"type": "slide", "deck": "d1", "page": 3}]
    assert show.state["slide"] == {"deck": "d1", "page": 3}
    assert program_card(show.state)["slide"] == "d1-f00d/3"
    assert refused_code(show, "show_slide", deck="d1", page=4) == "no_such_page"
    assert refused_code(show, "show_slide", deck="d9", page=1) == "unknown_deck"
    show.do("show_slide", deck=None, page=1)
    assert show.state["slide"] is None and program_card(show.state)["slide"] == ""


def test_a_take_brings_up_the_presenters_deck_at_its_first_page_else_the_segments():
    show = live_with_ada_on_air()
    assert show.state["slide"] == {"deck": "d1", "page": 1}
    show.do("show_slide", deck="d1", page=3)
    show.do("standby", segment="s2")  # Bea and Cem, who have no deck of their own
    happenings = show.do("take")
    assert happenings[-1] == {"type": "slide", "deck": "d2", "page": 1}
    show.do("set_preview", presenters=["p1"])
    show.do("take")
    assert show.state["slide"] == {"deck": "d1", "page": 1}
    show.do("show_slide", deck="d1", page=2)
    show.do("set_preview", presenters=["p1"])
    assert [h["type"] for h in show.do("take")] == ["take"]  # already on screen: the page stays
    assert show.state["slide"] == {"deck": "d1", "page": 2}


def test_the_presenter_on_air_turns_the_pages_only_while_producers_allow_it():
    show = live_with_ada_on_air()
    assert refused_code(show, "show_slide", role="presenter", actor=ADA, deck="d1", page=2) == "slides_not_yours"
    show.do("set_presenter_slides", allowed=True)
    show.do("show_slide", role="presenter", actor=ADA, deck="d1", page=2)
    assert show.state["slide"] == {"deck": "d1", "page": 2}
    assert refused_code(show, "show_slide", role="presenter", actor=ADA, deck="d2", page=1) == "other_deck"
    assert refused_code(show, "show_slide", role="presenter", actor=ADA, deck=None, page=1) == "other_deck"
    bea = "presenter:p2"
    assert refused_code(show, "show_slide", role="presenter", actor=bea, deck="d1", page=3) == "not_on_air"
    show.do("set_presenter_slides", allowed=False)
    assert refused_code(show, "show_slide", role="presenter", actor=ADA, deck="d1", page=3) == "slides_not_yours"


def test_a_shorter_rerender_keeps_the_slide_within_the_deck():
    show = Show()
    deck(show, "d1", 5)
    show.do("show_slide", deck="d1", page=5)
    deck(show, "d1", 2)
    assert show.state["slide"] == {"deck": "d1", "page": 2}


@pytest.mark.parametrize(
    ("message", "role", "field"),
    [
        ({"type": "show_slide", "version": 1, "client_id": "c", "deck": "d1", "page": 0}, "producer", "page"),
        ({"type": "show_slide", "version": 1, "client_id": "c", "deck": "d1", "page": "2"}, "producer", "page"),
        ({"type": "show_slide", "version": 1, "client_id": "c", "deck": "d1"}, "producer", "page"),
        ({"type": "set_deck", "deck": "d1", "title": "T", "pages": 1, "files": "f", "presenter": None,
          "segment": None, "extra": 1}, "system", "extra"),
        ({"type": "set_presenter_slides", "version": 1, "client_id": "c", "allowed": "yes"}, "producer", "allowed"),
    ],
)
def test_malformed_slide_commands_are_refused_naming_the_field(message, role, field):
    with pytest.raises(ProtocolError) as error:
        validate_command(message, role)
    assert error.value.field == field


def test_only_the_system_announces_decks_and_only_producers_allow_presenters():
    from stage.contract.commands import may_send

    assert not may_send("producer", "set_deck") and not may_send("presenter", "remove_deck")
    assert may_send("presenter", "show_slide") and not may_send("presenter", "set_presenter_slides")
    assert not may_send("viewer", "show_slide")


def test_a_state_persisted_before_slides_gets_them_on_its_next_change():
    show = Show()
    for key in ("decks", "slide", "presenter_slides"):
        del show.state[key]
    show.do("set_presenter_slides", allowed=True)
    assert show.state["decks"] == {} and show.state["slide"] is None and show.state["presenter_slides"] is True
