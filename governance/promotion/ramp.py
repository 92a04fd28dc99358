"""Capital ramp by trading day: what one day's evidence was, and the verdict on it (sessions from torghut.core.calendar).

A day is `clean` (step up), a `breach` (step down) or `unknown` (hold): an input that cannot be read
never counts as clean, and a kill-switch trip is a breach whatever else is unknown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from governance.killswitch.models import KillSwitchTransition
from torghut.core.calendar import Session
from trading.orders.selectors import execution_fallback_ratio
from trading.pnl.selectors import pnl_session

CLEAN = "clean"
BREACH = "breach"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class RampDayInputs:
    """One trading day's evidence. None means unreadable (the reason is in `errors`)."""

    kill_switch_trips: int | None
    pnl_total: float | None
    allocated_capital: float | None
    fallback_ratio: float | None
    errors: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ramp_day_verdict(*, policy, inputs: RampDayInputs) -> tuple[str, list[str]]:
    """(`clean` | `breach` | `unknown`, reasons with figures)."""
    breaches: list[str] = []
    unknown: list[str] = []
    if inputs.kill_switch_trips is None:
        unknown.append(f"kill_switch: unreadable ({inputs.errors.get('kill_switch_trips', 'no value')})")
    elif inputs.kill_switch_trips:
        breaches.append(f"kill_switch: {inputs.kill_switch_trips} trip(s)")
    if inputs.pnl_total is None or inputs.allocated_capital is None:
        unknown.append(f"drawdown: unreadable ({inputs.errors.get('pnl', 'no value')})")
    else:
        limit = policy.ramp_max_drawdown_fraction * inputs.allocated_capital
        if inputs.pnl_total < -limit:
            breaches.append(f"drawdown: {-inputs.pnl_total:g} > {limit:g}")
    if inputs.fallback_ratio is None:
        unknown.append(f"fallback_ratio: unreadable ({inputs.errors.get('fallback_ratio', 'no value')})")
    elif inputs.fallback_ratio > policy.ramp_max_fallback_ratio:
        breaches.append(f"fallback_ratio: {inputs.fallback_ratio:g} > {policy.ramp_max_fallback_ratio:g}")
    if breaches:
        return BREACH, breaches + unknown
    if unknown:
        return UNKNOWN, unknown
    return CLEAN, []


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def ramp_day_inputs_gather(*, session: Session, now: datetime) -> RampDayInputs:
    """Read one session's evidence. PnL and fallback ratio are only known for today's session: a
    session evaluated on a later date is `unknown` for them (held, never stepped up blindly)."""

    errors: dict[str, str] = {}
    trips: int | None
    try:
        trips = KillSwitchTransition.objects.filter(
            at__gt=session.previous_close, at__lte=session.close, to_state__in=["halted", "reducing"]
        ).count()
    except Exception as exc:
        trips, errors["kill_switch_trips"] = None, _error(exc)

    pnl_total = allocated = fallback = None
    same_day = now.astimezone(ZoneInfo("America/New_York")).date() == session.day
    if not same_day:
        errors["pnl"] = errors["fallback_ratio"] = f"session {session.day} evaluated on a later day"
    else:
        try:
            pnl = pnl_session(now=now)
            if pnl.session_start != session.open:
                raise LookupError(f"session PnL is of the session opened {pnl.session_start.isoformat()}, not {session.day}")
            pnl_total, allocated = float(pnl.total), float(pnl.allocated_capital)
        except Exception as exc:
            errors["pnl"] = _error(exc)
        try:
            window = max(1, int((now - session.open).total_seconds()))
            fallback, _orders = execution_fallback_ratio(window_seconds=window)
            fallback = float(fallback)
        except Exception as exc:
            errors["fallback_ratio"] = _error(exc)
    return RampDayInputs(kill_switch_trips=trips, pnl_total=pnl_total, allocated_capital=allocated, fallback_ratio=fallback, errors=errors)
