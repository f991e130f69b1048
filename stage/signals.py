"""Sent after a stage command has been committed, so the audio bridge can follow the stage.

The stage does not know the mixer (imports flow from streaming to stage, never back); the
streaming app listens to this signal.
"""

from django.dispatch import Signal

# sender: None; kwargs: event_id (int), state (dict)
stage_changed = Signal()
