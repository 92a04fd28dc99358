"""Emergency-stop counters bumped where a halt is confirmed."""

from __future__ import annotations

from torghut.core.metrics import Counter

EMERGENCY_STOPS = Counter("torghut_emergency_stop_total", "Emergency stops confirmed, by trigger.", ["trigger"])
