"""What the event domain announces to the apps built on it (which events never import).

The stage listens: a reissued presenter link must close the sockets the old one opened. The
streaming app listens too: a registration that may no longer watch must stop renewing its media pass.
"""

from django.dispatch import Signal

# Sent once the new key is committed. sender: Presenter; kwargs: presenter (the instance).
presenter_link_reissued = Signal()

# Sent when a registration may no longer watch (its link revoked, its status no longer confirmed),
# as the change is made (inside its transaction, if any). sender: Registration; kwargs: registration.
watching_withdrawn = Signal()
