"""What the event domain announces to the apps built on it (which events never import).

The stage listens: a reissued presenter link must close the sockets the old one opened.
"""

from django.dispatch import Signal

# Sent once the new key is committed. sender: Presenter; kwargs: presenter (the instance).
presenter_link_reissued = Signal()
