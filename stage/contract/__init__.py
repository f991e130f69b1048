"""The stage contract: every message in both directions and every enumeration the pages use,
declared once. Pure (no Django).

- `enums.py`: the enumerations (phases, health states, statuses, cue kinds, …) with their labels,
  the groups of values rules use, and the close codes;
- `limits.py`: the bounds of what clients send and the clock's warning thresholds;
- `fields.py`: how a field is declared and checked;
- `commands.py`: what clients may send, and who may send it;
- `records.py`: the stage state's records and the happenings of a change, as each audience gets them;
- `messages.py`: what the server sends each audience (console, green room, microphone uplink);
- `document.py`: what the pages need of it as one JSON document, which they import as a module.
"""
