"""Signals the kill switch sends, so packages above it react without the kill switch knowing them."""

from django.dispatch import Signal

# Sent inside the transaction that returns the switch to `active` (operator resume or end of a drill).
kill_switch_returned_to_active = Signal()
