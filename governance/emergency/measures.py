"""Emergency-stop inputs and how each trigger measures them against its policy.

Inputs come from the lower layers' selectors; each is read on its own, so a raising selector is recorded
as unreadable (which the policy may count as a breach) instead of breaking, or silently passing, the check.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from governance.emergency.models import EmergencyStopPolicy, Trigger
from research.selectors import research_failure_streak
from trading.orders.selectors import execution_fallback_ratio
from trading.pnl.selectors import drawdown_ratio, pnl_session
from trading.signals.selectors import signal_continuity_snapshot

CONTINUITY = "signal_continuity"
RESEARCH = "research_failure_streak"
FALLBACK = "execution_fallback_ratio"
PNL = "pnl_today"  # the session PnL input; the name predates it and policies, evidence and tests key on it
# Which input source each trigger reads.
TRIGGER_SOURCE: dict[str, str] = {
    Trigger.SIGNAL_LAG: CONTINUITY,
    Trigger.STALENESS_STREAK: CONTINUITY,
    Trigger.UNIVERSE_UNAVAILABLE: CONTINUITY,
    Trigger.RESEARCH_FAILURES: RESEARCH,
    Trigger.FALLBACK_RATIO: FALLBACK,
    Trigger.PNL_DRAWDOWN: PNL,
}
# Only these clear by themselves (into `reducing`); every other trigger waits for an operator resume.
RECOVERABLE = frozenset({Trigger.SIGNAL_LAG.value, Trigger.STALENESS_STREAK.value})
# Ingest reasons that mean the stream is stale (DESIGN §2); signals_present resets them.
DEFAULT_STALE_REASONS = (
    "no_signals_in_window",
    "cursor_tail_stable",
    "cursor_ahead_of_stream",
    "empty_batch_advanced",
    "clickhouse_unavailable",
    "clickhouse_query_timeout",
)
DEFAULT_POLICIES: dict[str, dict[str, Any]] = {
    Trigger.SIGNAL_LAG: {"threshold": 600.0},
    Trigger.STALENESS_STREAK: {"threshold": 3.0, "params": {"reasons": list(DEFAULT_STALE_REASONS)}},
    Trigger.UNIVERSE_UNAVAILABLE: {"threshold": 1.0},
    Trigger.RESEARCH_FAILURES: {"threshold": 3.0},
    Trigger.FALLBACK_RATIO: {"threshold": 0.25, "params": {"window_seconds": 1800, "min_orders": 20}},
    Trigger.PNL_DRAWDOWN: {"threshold": 0.02},
}
# Triggers whose limit is "over" (strictly greater); the counted ones breach at the limit.
STRICT = frozenset({Trigger.SIGNAL_LAG.value, Trigger.FALLBACK_RATIO.value, Trigger.PNL_DRAWDOWN.value})
OK, WARNING, BREACH, UNREADABLE, NOT_APPLICABLE = "ok", "warning", "breach", "unreadable", "not_applicable"


@dataclass
class EmergencyInputs:
    """What one evaluation sees. `unreadable` maps a source name to why it could not be read."""

    signal_lag_seconds: float | None = None
    market_open: bool | None = None
    streaks: dict[str, int] = field(default_factory=dict)
    universe_status: str | None = None
    research_failure_streak: int | None = None
    fallback_ratio: float | None = None
    fallback_orders: int | None = None
    pnl_total: float | None = None
    allocated_capital: float | None = None
    unreadable: dict[str, str] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Measurement:
    trigger: str
    status: str
    value: float | None
    threshold: float
    detail: str = ""


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def emergency_inputs_collect(*, fallback_window_seconds: int | None = None, drill_since: datetime | None = None) -> EmergencyInputs:
    """Read every input from its owning app; whatever is missing or raises is named in `unreadable`.

    `drill_since` is for the rollback drill's own evaluations: only they see drill strategies' failed
    runs, fallbacks and losses, and only those since the drill began, so a finished drill never halts
    trading (or the next drill) again.
    """
    inputs = EmergencyInputs()
    try:
        snapshot = signal_continuity_snapshot()
        universe = snapshot.get("universe") or {}
        inputs.signal_lag_seconds = None if snapshot.get("lag_seconds") is None else float(snapshot["lag_seconds"])
        inputs.market_open = bool(snapshot.get("market_open"))
        inputs.streaks = {str(k): int(v) for k, v in (snapshot.get("streaks") or {}).items()}
        inputs.universe_status = universe.get("status")
        inputs.sources[CONTINUITY] = snapshot
    except Exception as exc:  # a missing or failing source is recorded, never treated as healthy
        inputs.unreadable[CONTINUITY] = _error(exc)
    try:
        inputs.research_failure_streak = int(research_failure_streak(drill_since=drill_since))
    except Exception as exc:
        inputs.unreadable[RESEARCH] = _error(exc)
    try:
        if fallback_window_seconds is None:
            policy = EmergencyStopPolicy.objects.filter(trigger=Trigger.FALLBACK_RATIO).first()
            params = policy.params if policy else DEFAULT_POLICIES[Trigger.FALLBACK_RATIO]["params"]
            fallback_window_seconds = int(params.get("window_seconds", 1800))
        ratio, orders = execution_fallback_ratio(window_seconds=fallback_window_seconds, drill_since=drill_since)
        inputs.fallback_ratio, inputs.fallback_orders = float(ratio), int(orders)
    except Exception as exc:
        inputs.unreadable[FALLBACK] = _error(exc)
    try:
        pnl = pnl_session(drill_since=drill_since)
        inputs.pnl_total = float(pnl.total)
        inputs.allocated_capital = float(pnl.allocated_capital)
        inputs.sources[PNL] = pnl.as_dict()
    except Exception as exc:
        inputs.unreadable[PNL] = _error(exc)
    return inputs


def _number(name: str, value: float | None, *, finite: bool = False) -> float | None:
    # NaN and -inf pass every "over the limit" comparison as "ok": such an input is unreadable, not healthy.
    if value is not None and (math.isnan(value) or value == -math.inf or (finite and math.isinf(value))):
        raise ValueError(f"{name} is not a {'finite ' if finite else ''}number: {value}")
    return value


def _value(policy: EmergencyStopPolicy, inputs: EmergencyInputs) -> tuple[float | None, bool, str]:
    """(value, applicable, detail). Raises ValueError when the source answered without the value."""
    trigger = policy.trigger
    if trigger == Trigger.SIGNAL_LAG and inputs.market_open:
        _number("signal lag", inputs.signal_lag_seconds)
    if trigger == Trigger.FALLBACK_RATIO:
        _number("fallback ratio", inputs.fallback_ratio)
    if trigger == Trigger.PNL_DRAWDOWN:
        _number("pnl", inputs.pnl_total, finite=True)
        _number("allocated capital", inputs.allocated_capital, finite=True)
    if trigger == Trigger.SIGNAL_LAG:
        if not inputs.market_open:
            return inputs.signal_lag_seconds, False, "market closed"
        if inputs.signal_lag_seconds is None:
            raise ValueError("signal lag unknown while the market is open")
        return inputs.signal_lag_seconds, True, ""
    if trigger == Trigger.STALENESS_STREAK:
        reasons = policy.params.get("reasons") or DEFAULT_STALE_REASONS
        value = float(max([inputs.streaks.get(reason, 0) for reason in reasons] or [0]))
        return value, bool(inputs.market_open), "" if inputs.market_open else "market closed"
    if trigger == Trigger.UNIVERSE_UNAVAILABLE:
        if inputs.universe_status is None:
            raise ValueError("universe status unknown")
        return (1.0 if inputs.universe_status == "unavailable" else 0.0), True, inputs.universe_status
    if trigger == Trigger.RESEARCH_FAILURES:
        if inputs.research_failure_streak is None:
            raise ValueError("research failure streak unknown")
        return float(inputs.research_failure_streak), True, ""
    if trigger == Trigger.FALLBACK_RATIO:
        if inputs.fallback_ratio is None or inputs.fallback_orders is None:
            raise ValueError("fallback ratio unknown")
        min_orders = int(policy.params.get("min_orders", 20))
        applicable = inputs.fallback_orders >= min_orders
        return inputs.fallback_ratio, applicable, f"{inputs.fallback_orders} orders (min {min_orders})"
    if trigger == Trigger.PNL_DRAWDOWN:
        if inputs.pnl_total is None or inputs.allocated_capital is None:
            raise ValueError("pnl unknown")
        ratio = drawdown_ratio(total=inputs.pnl_total, allocated_capital=inputs.allocated_capital)
        if inputs.allocated_capital <= 0:
            return ratio, True, "no allocated capital"
        return ratio, True, f"loss {max(0.0, -inputs.pnl_total):.2f} of {inputs.allocated_capital:.2f}"
    raise ValueError(f"unknown trigger {trigger}")


def measure(policy: EmergencyStopPolicy, inputs: EmergencyInputs) -> Measurement:
    """Classify one trigger for one evaluation: ok, warning, breach, unreadable or not_applicable."""
    source = TRIGGER_SOURCE[policy.trigger]
    if source in inputs.unreadable:
        return Measurement(policy.trigger, UNREADABLE, None, policy.threshold, f"{source}: {inputs.unreadable[source]}")
    try:
        value, applicable, detail = _value(policy, inputs)
    except (ValueError, TypeError, KeyError) as exc:
        return Measurement(policy.trigger, UNREADABLE, None, policy.threshold, _error(exc))
    if not applicable:
        return Measurement(policy.trigger, NOT_APPLICABLE, value, policy.threshold, detail)
    breach = value > policy.threshold if policy.trigger in STRICT else value >= policy.threshold
    if breach:
        return Measurement(policy.trigger, BREACH, value, policy.threshold, detail)
    # The relative slack keeps 80% of a limit a warning despite float rounding (0.8 * 0.02 > 0.016).
    if value > 0 and value >= policy.warn_fraction * policy.threshold * (1 - 1e-9):
        return Measurement(policy.trigger, WARNING, value, policy.threshold, detail)
    return Measurement(policy.trigger, OK, value, policy.threshold, detail)
