"""Capital ramp by trading day: the NYSE calendar, what one day's evidence was, and the verdict on it.

A day is `clean` (step up), a `breach` (step down) or `unknown` (hold): an input that cannot be read
never counts as clean, and a kill-switch trip is a breach whatever else is unknown.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any


CLEAN = "clean"
BREACH = "breach"
UNKNOWN = "unknown"
@lru_cache(maxsize=1)
def _calendar():
    import warnings

    import exchange_calendars

    with warnings.catch_warnings():
        # The library's own pandas deprecation notices say nothing about our use of it.
        warnings.simplefilter("ignore")
        return exchange_calendars.get_calendar("XNYS", start="2020-01-02")
@dataclass(frozen=True)
class Session:
    day: date
    open: datetime
    close: datetime
    previous_close: datetime
def last_closed_session(now: datetime) -> Session:
    """The latest NYSE session whose close is at or before `now` (holidays and early closes included)."""
    import pandas as pd

    calendar = _calendar()
    sessions = calendar.sessions_in_range(pd.Timestamp(now.date() - timedelta(days=14)), pd.Timestamp(now.date()))
    for label in reversed(sessions):
        close = calendar.session_close(label).to_pydatetime()
        if close <= now:
            previous = calendar.previous_session(label)
            return Session(
                day=label.date(),
                open=calendar.session_open(label).to_pydatetime(),
                close=close,
                previous_close=calendar.session_close(previous).to_pydatetime(),
            )
    raise LookupError(f"no NYSE session closed in the 14 days before {now.isoformat()}")
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
    from zoneinfo import ZoneInfo

    from governance.killswitch.models import KillSwitchTransition

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
            from trading.pnl.selectors import pnl_today

            pnl = pnl_today()
            pnl_total, allocated = float(pnl["total"]), float(pnl["allocated_capital"])
        except Exception as exc:
            errors["pnl"] = _error(exc)
        try:
            from trading.orders.selectors import execution_fallback_ratio

            window = max(1, int((now - session.open).total_seconds()))
            fallback, _orders = execution_fallback_ratio(window_seconds=window)
            fallback = float(fallback)
        except Exception as exc:
            errors["fallback_ratio"] = _error(exc)
    return RampDayInputs(kill_switch_trips=trips, pnl_total=pnl_total, allocated_capital=allocated, fallback_ratio=fallback, errors=errors)
