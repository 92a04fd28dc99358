"""What research asks of governance, as an interface governance plugs into at startup.

Research sits below governance and never imports it. The rollback-drill gate needs the time of the last
passing drill: governance registers it in its `AppConfig.ready`. Unplugged, there is no drill evidence
and the gate fails closed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

LastPassingDrill = Callable[[], datetime | None]

_last_passing_drill: LastPassingDrill | None = None


def last_passing_drill_register(provider: LastPassingDrill) -> None:
    global _last_passing_drill
    _last_passing_drill = provider


def last_passing_drill_at() -> datetime | None:
    """When the last rollback drill passed, or None (no drill, or no governance installed)."""
    return _last_passing_drill() if _last_passing_drill is not None else None
