"""The slides on screen: which deck's page the audience sees, who may turn the pages. Pure.

Decks enter the state when they finish rendering (`set_deck`, sent by the system) and leave it
when deleted. Producers show any page of any deck; the presenter on air turns the pages of the
deck on screen when producers allow it. A take brings up the deck of a presenter it puts on air
(else the taken segment's) at its first page.
"""

from stage.contract.commands import PRESENTER, presenter_actor
from stage.state import CommandRefused, Context, Happening, State, on_air_presenters, require_not_ended


def _slide_happening(state: State) -> Happening:
    slide = state["slide"]
    return {"type": "slide", "deck": slide["deck"] if slide else None, "page": slide["page"] if slide else None}


def show_slide(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_not_ended(state)
    deck_id = command["deck"]
    if ctx.role == PRESENTER:
        _require_driver(state, ctx.actor, deck_id)
    if deck_id is None:
        state["slide"] = None
        return [_slide_happening(state)]
    deck = state["decks"].get(deck_id)
    if deck is None:
        raise CommandRefused("unknown_deck", f"No deck {deck_id!r} on this stage.", "deck")
    if command["page"] > deck["pages"]:
        raise CommandRefused("no_such_page", f"The deck has {deck['pages']} pages.", "page")
    state["slide"] = {"deck": deck_id, "page": command["page"]}
    return [_slide_happening(state)]


def _require_driver(state: State, actor: str, deck_id: str | None) -> None:
    """A presenter turns pages only while producers allow it, while on air, in the deck on screen."""
    if not state["presenter_slides"]:
        raise CommandRefused("slides_not_yours", "The producers turn the slides now.", "type")
    if actor not in {presenter_actor(pid) for pid in on_air_presenters(state)}:
        raise CommandRefused("not_on_air", "Only the presenter on air turns the slides.", "type")
    if state["slide"] is None or deck_id != state["slide"]["deck"]:
        raise CommandRefused("other_deck", "A presenter turns the pages of the deck on screen.", "deck")


def set_presenter_slides(state: State, command: dict, ctx: Context) -> list[Happening]:
    state["presenter_slides"] = command["allowed"]
    return [{"type": "presenter_slides", "allowed": command["allowed"]}]


def set_deck(state: State, command: dict, ctx: Context) -> list[Happening]:
    fields = ("title", "pages", "files", "presenter", "segment")
    state["decks"][command["deck"]] = {field: command[field] for field in fields}
    slide = state["slide"]
    if slide is not None and slide["deck"] == command["deck"] and slide["page"] > command["pages"]:
        slide["page"] = command["pages"]
    return [{"type": "deck", "deck": command["deck"]}]


def remove_deck(state: State, command: dict, ctx: Context) -> list[Happening]:
    if state["decks"].pop(command["deck"], None) is None:
        return []
    happenings: list[Happening] = [{"type": "deck", "deck": command["deck"], "removed": True}]
    if state["slide"] is not None and state["slide"]["deck"] == command["deck"]:
        state["slide"] = None
        happenings.append(_slide_happening(state))
    return happenings


def follow_take(state: State, presenters: list[str], segment_id: str | None) -> list[Happening]:
    """After a take: the first deck of the presenters it put on air (in their order), else of the
    segment it took, at its first page; the slide on screen stays when that deck already is."""
    decks = state["decks"]
    chosen = next((d for pid in presenters for d in decks if decks[d]["presenter"] == pid), None)
    if chosen is None and segment_id is not None:
        chosen = next((d for d in decks if decks[d]["segment"] == segment_id), None)
    if chosen is None or (state["slide"] is not None and state["slide"]["deck"] == chosen):
        return []
    state["slide"] = {"deck": chosen, "page": 1}
    return [_slide_happening(state)]


def slide_files(state: State) -> str:
    """The slide on screen as its deck's files and page ("d7-3f9a…/2"), or "" for none."""
    slide = state.get("slide")
    if slide is None or slide["deck"] not in state.get("decks", {}):
        return ""
    return f"{state['decks'][slide['deck']]['files']}/{slide['page']}"


HANDLERS = {
    "show_slide": show_slide,
    "set_presenter_slides": set_presenter_slides,
    "set_deck": set_deck,
    "remove_deck": remove_deck,
}
