"""The program card: what the audience is told about the stage, derived from the state alone."""

from stage import machine
from stage.program_card import program_card
from stage.state import new_line, new_presenter
from tests.stage.show import Show, initial


def live_show() -> Show:
    show = Show()
    show.do("go_live")
    return show


def test_before_anyone_is_on_air_the_card_names_nobody():
    assert program_card(initial()) == {
        "phase": "preshow",
        "hold": False,
        "speaking": [],
        "segment": "",
        "question": "",
        "question_name": "",
    }


def test_a_take_names_the_segment_and_its_presenters_in_roster_order():
    show = live_show()
    show.do("standby", segment="s2")
    show.do("take")
    card = program_card(show.state)
    assert card["phase"] == "live"
    assert card["segment"] == "Panel"
    assert card["speaking"] == ["Bea", "Cem"]


def test_a_muted_line_is_not_speaking_and_an_on_air_line_in_preshow_is_not_heard():
    show = Show()
    show.do("set_on_air", line="p1", on_air=True)
    assert program_card(show.state)["speaking"] == []  # nothing is mixed before the show
    show.do("go_live")
    show.do("set_on_air", line="p1", on_air=True)
    show.do("set_on_air", line="p2", on_air=True)
    show.do("set_mute", line="p1", muted=True)
    assert program_card(show.state)["speaking"] == ["Bea"]


def test_on_hold_nobody_is_heard_and_the_card_says_hold():
    show = live_show()
    show.do("set_on_air", line="p1", on_air=True)
    show.do("set_hold", hold=True)
    card = program_card(show.state)
    assert card["hold"] is True and card["speaking"] == []
    show.do("set_hold", hold=False)
    assert program_card(show.state)["speaking"] == ["Ada"]


def test_a_line_without_a_presenter_is_named_by_its_label_after_the_presenters():
    lines = {"p1": new_line("Ada's line", "p1"), "room": new_line('Room "B" mic')}
    state = machine.initial_state(lines, {"p1": new_presenter("Ada", "p1")})
    show = Show(state)
    show.do("go_live")
    show.do("set_on_air", line="room", on_air=True)
    show.do("set_on_air", line="p1", on_air=True)
    assert program_card(show.state)["speaking"] == ["Ada", 'Room "B" mic']


def test_the_question_on_screen_and_its_askers_name():
    show = live_show()
    show.do("ask_question", text="Why 100%?", name="Zoë")
    show.do("ask_question", text="And the other?", name="")
    assert program_card(show.state)["question"] == ""  # pending is not on screen
    show.do("set_question_status", question="q1", status="on_screen")
    card = program_card(show.state)
    assert (card["question"], card["question_name"]) == ("Why 100%?", "Zoë")
    show.do("set_question_status", question="q2", status="on_screen")  # the first is answered
    card = program_card(show.state)
    assert (card["question"], card["question_name"]) == ("And the other?", "")


def test_the_segment_is_the_one_on_air_and_none_once_it_is_done():
    show = live_show()
    show.do("standby", segment="s1")
    show.do("take")
    show.do("standby", segment="s3")
    assert program_card(show.state)["segment"] == "Welcome"  # standby is not on air
    show.do("take")
    assert program_card(show.state)["segment"] == "Demo"
    show.do("end_show")
    card = program_card(show.state)
    assert (card["phase"], card["segment"], card["speaking"]) == ("ended", "", [])


def test_a_name_with_a_line_break_stays_one_name():
    lines = {"p1": new_line("Ada", "p1"), "room": new_line("Room\r\nmic")}
    state = machine.initial_state(lines, {"p1": new_presenter("Ada\nLovelace", "p1")})
    show = Show(state)
    show.do("go_live")
    show.do("set_on_air", line="p1", on_air=True)
    show.do("set_on_air", line="room", on_air=True)
    assert program_card(show.state)["speaking"] == ["Ada Lovelace", "Room mic"]
