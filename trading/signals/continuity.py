"""Continuity: is the signal stream healthy, and does its trouble deserve an alert right now?

Reasons that only mean "the market is quiet" are actionable while the NYSE session is open (holidays
and early closes from exchange_calendars); a cursor ahead of the stream or an unavailable universe is
actionable at any hour.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from torghut.core.calendar import market_session_open
from trading.alerts.models import Alert, Severity
from trading.alerts.services import alert_close, alert_closing_rule_register, alert_open
from trading.signals.models import IngestCursor, IngestReason, IngestWindow

ALWAYS_ACTIONABLE = frozenset({IngestReason.CURSOR_AHEAD_OF_STREAM, IngestReason.UNIVERSE_SOURCE_UNAVAILABLE})
CRITICAL = frozenset({IngestReason.CURSOR_AHEAD_OF_STREAM, IngestReason.UNIVERSE_SOURCE_UNAVAILABLE, IngestReason.CLICKHOUSE_UNAVAILABLE})
ALERT_PREFIX = "signal_continuity"
alert_closing_rule_register(
    prefix=f"{ALERT_PREFIX}:", rule="closes after TRADING_SIGNAL_ALERT_CLEAR_POLLS consecutive signal-bearing polls of its cursor"
)


def reason_actionable(*, reason: str, market_open: bool) -> bool:
    if reason == IngestReason.SIGNALS_PRESENT:
        return False
    return reason in ALWAYS_ACTIONABLE or market_open


def alert_key(cursor: IngestCursor) -> str:
    return f"{ALERT_PREFIX}:{cursor.source}:{cursor.account}:{cursor.shard}"


def continuity_state(*, reason: str, streak: int, lag: float | None, market_open: bool, alert_open_now: bool) -> str:
    """healthy | degraded (trouble below thresholds) | suppressed (thresholds met, market closed) | alerting."""
    if alert_open_now:
        return "alerting"
    if reason in ("", IngestReason.SIGNALS_PRESENT) and (lag is None or lag < settings.TRADING_SIGNAL_LAG_ALERT_SECONDS):
        return "healthy"
    breached = streak >= settings.TRADING_SIGNAL_STREAK_ALERT_THRESHOLD or (
        lag is not None and lag >= settings.TRADING_SIGNAL_LAG_ALERT_SECONDS
    )
    if breached and not reason_actionable(reason=reason, market_open=market_open):
        return "suppressed"
    return "degraded"


def continuity_evaluate(*, now: datetime | None = None) -> list[dict]:
    """Open, refresh or close the continuity alert of every ingest cursor; returns one verdict per cursor."""
    now = now or timezone.now()
    market_open = market_session_open(at=now)
    verdicts = []
    for cursor in IngestCursor.objects.order_by("source", "account", "shard"):
        reason = cursor.last_reason
        streak = int((cursor.streaks or {}).get(reason, 0))
        window = IngestWindow.objects.filter(source=cursor.source, account=cursor.account, shard=cursor.shard).order_by("-id").first()
        lag = window.lag_seconds if window else None
        key = alert_key(cursor)
        action = "none"
        if reason == IngestReason.SIGNALS_PRESENT:
            recovered = f"signals present for {streak} consecutive poll(s)"
            if streak >= settings.TRADING_SIGNAL_ALERT_CLEAR_POLLS and alert_close(key=key, now=now, reason=recovered) is not None:
                action = "closed"
        elif reason:
            breached = streak >= settings.TRADING_SIGNAL_STREAK_ALERT_THRESHOLD or (
                lag is not None and lag >= settings.TRADING_SIGNAL_LAG_ALERT_SECONDS
            )
            if breached and reason_actionable(reason=reason, market_open=market_open):
                alert_open(
                    key=key,
                    reason=reason,
                    severity=Severity.CRITICAL if reason in CRITICAL else Severity.WARNING,
                    now=now,
                    payload={
                        "source": cursor.source,
                        "account": cursor.account,
                        "shard": cursor.shard,
                        "current_reason": reason,
                        "streak": streak,
                        "lag_seconds": lag,
                        "market_open": market_open,
                        "cursor": cursor.as_dict(),
                        "description": f"signal continuity: {reason} for {streak} poll(s), lag {lag if lag is None else round(lag, 1)} s",
                    },
                )
                action = "open"
        open_now = Alert.objects.filter(key=key, closed_at__isnull=True).exists()
        verdicts.append(
            {
                "key": key,
                "reason": reason,
                "streak": streak,
                "lag_seconds": lag,
                "market_open": market_open,
                "action": action,
                "state": continuity_state(reason=reason, streak=streak, lag=lag, market_open=market_open, alert_open_now=open_now),
            }
        )
    return verdicts
