"""Read side of signal continuity, re-exported by trading/selectors.py."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from torghut.core import clickhouse
from torghut.core.calendar import market_session_open
from trading import ports
from trading.alerts.selectors import alerts_open
from trading.signals.continuity import alert_key, continuity_state
from trading.signals.models import IngestCursor, IngestWindow
from trading.signals.universe import universe_status_snapshot


def _window_dict(window: IngestWindow) -> dict:
    return {
        "id": window.pk,
        "source": window.source,
        "account": window.account,
        "shard": window.shard,
        "started_at": window.started_at.isoformat(),
        "window_start": window.window_start.isoformat() if window.window_start else None,
        "window_end": window.window_end.isoformat() if window.window_end else None,
        "rows_fetched": window.rows_fetched,
        "rows_accepted": window.rows_accepted,
        "rows_rejected": window.rows_rejected,
        "rejected_by_reason": window.rejected_by_reason,
        "decisions": window.decisions,
        "reason": window.reason,
        "lag_seconds": window.lag_seconds,
        "latency_ms": window.latency_ms,
        "cursor_before": window.cursor_before,
        "cursor_after": window.cursor_after,
        "universe_status": window.universe_status,
        "detail": window.detail,
    }


def ingest_windows_recent(*, limit: int) -> list[dict]:
    """The newest IngestWindow rows (every cursor), newest first."""
    return [_window_dict(w) for w in IngestWindow.objects.order_by("-id")[: max(0, limit)]]


def signal_continuity_snapshot() -> dict:
    """Ingest reason telemetry for the configured (source, account): last poll, streaks, lag, cursor,
    thresholds, market session, universe, continuity state and open alerts."""

    now = timezone.now()
    source, account = settings.TRADING_SIGNAL_SOURCE, settings.TRADING_ACCOUNT
    cursor = IngestCursor.objects.filter(source=source, account=account, shard=0).first()
    window = IngestWindow.objects.filter(source=source, account=account, shard=0).order_by("-id").first()
    market_open = market_session_open(at=now)
    reason = cursor.last_reason if cursor else ""
    streaks = {k: int(v) for k, v in (cursor.streaks or {}).items()} if cursor else {}
    lag = window.lag_seconds if window else None
    open_alerts = alerts_open()
    key = alert_key(cursor) if cursor else None
    return {
        "source": source,
        "account": account,
        "last_reason": reason or None,
        "last_window": _window_dict(window) if window else None,
        "lag_seconds": lag,
        "cursor": cursor.as_dict() if cursor else None,
        "streaks": streaks,
        "thresholds": {
            "streak": settings.TRADING_SIGNAL_STREAK_ALERT_THRESHOLD,
            "lag_seconds": settings.TRADING_SIGNAL_LAG_ALERT_SECONDS,
            "clear_polls": settings.TRADING_SIGNAL_ALERT_CLEAR_POLLS,
        },
        "market_open": market_open,
        "universe": universe_status_snapshot(now=now),
        "continuity_state": continuity_state(
            reason=reason,
            streak=streaks.get(reason, 0),
            lag=lag,
            market_open=market_open,
            alert_open_now=any(a["key"] == key for a in open_alerts),
        ),
        "open_alerts": open_alerts,
    }


# Reasons `/trading/health` gives for being degraded: codes only, no detail (the caller is anonymous).
HEALTH_REASONS = (
    "database_unavailable",
    "signal_continuity_alerting",
    "signal_continuity_degraded",
    "universe_unavailable",
    "clickhouse_unavailable",
    "kill_switch_unreadable",
)


def trading_health() -> dict:
    """`healthy`, or `degraded` with reason codes, for load balancers and probes.

    Reads what `/trading/status` shows (continuity state, universe status, kill switch through its port)
    plus one bounded ClickHouse ping; it computes none of those figures itself.
    """
    reasons: list[str] = []
    try:
        snapshot = signal_continuity_snapshot()
    except DatabaseError:
        snapshot = None
        reasons.append("database_unavailable")
    if snapshot is not None:
        if snapshot["continuity_state"] in ("alerting", "degraded"):
            reasons.append(f"signal_continuity_{snapshot['continuity_state']}")
        if snapshot["universe"]["status"] == "unavailable":
            reasons.append("universe_unavailable")
    try:
        clickhouse.ping(timeout=settings.READYZ_TIMEOUT)
    except clickhouse.ClickHouseError:
        reasons.append("clickhouse_unavailable")
    try:
        switch = ports.emergency_stop_state()
    except DatabaseError:
        switch = {"state": None}
    if switch.get("state") is None or switch.get("readable") is False:
        reasons.append("kill_switch_unreadable")
    return {"status": "degraded" if reasons else "healthy", "reasons": reasons}
