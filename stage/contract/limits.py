"""The bounds of what clients send, and the thresholds the pages' views of the state share. Pure."""

MAX_ID_LENGTH = 32
MAX_CLIENT_ID_LENGTH = 64
MIN_GAIN_DB = -60.0
MAX_GAIN_DB = 12.0
MAX_TITLE_LENGTH = 200
MAX_TEXT_LENGTH = 500
MAX_NAME_LENGTH = 80
# What an alarm says it found ("heard but not on air: …").
MAX_DETAIL_LENGTH = 300
# A poll: a question and two to eight short options.
MIN_POLL_OPTIONS = 2
MAX_POLL_OPTIONS = 8
MAX_OPTION_LENGTH = 100
MAX_SEGMENT_SECONDS = 24 * 3600
MAX_CUE_SECONDS = 3600
# The mix takes at most this many lines at once; a segment has at most as many presenters.
MAX_LINES_ON_AIR = 4
MAX_SEGMENT_PRESENTERS = MAX_LINES_ON_AIR
# A producer talks back to a few presenters at once (or to all of them, with `all`).
MAX_TALKBACK_PRESENTERS = 32

# The on-air segment's clock turns amber in its last minute or its last fifth, whichever is
# shorter (a two-minute segment warns at 24 s, not halfway through), and red once it runs over.
WARN_SECONDS = 60
WARN_FRACTION = 0.2
# A deck's page numbers (the renderer's own limit, SLIDES_MAX_PAGES, is the operator's and lower).
MAX_DECK_PAGES = 10_000
