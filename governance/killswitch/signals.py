"""Signals the kill switch sends, so packages above it react without the kill switch knowing them."""

from django.dispatch import Signal

# Sent inside the transaction that returns the switch to `active` (operator resume or end of a drill),
# with `actor`, `reason` and `source` (operator or drill) of the return.
kill_switch_returned_to_active = Signal()
