"""Signal gauges computed at scrape time from Postgres (their truth lives there, not in one process)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily

from torghut.core.calendar import market_session_open
from trading.alerts.models import Alert
from trading.signals.continuity import ALERT_PREFIX
from trading.signals.models import IngestCursor, IngestWindow, SignalAuditRun, UniverseSnapshot

_STATUS_VALUE = {"ok": 1.0, "static": 1.0, "degraded": 0.5, "unavailable": 0.0}


def continuity_metrics() -> Iterable[GaugeMetricFamily]:

    streak = GaugeMetricFamily(
        "torghut_signal_reason_streak", "Consecutive ingest polls with the current reason.", labels=["source", "account", "shard", "reason"]
    )
    lag = GaugeMetricFamily(
        "torghut_signal_lag_seconds", "now - max(event_ts) seen by the latest ingest poll.", labels=["source", "account", "shard"]
    )
    for cursor in IngestCursor.objects.all():
        labels = [cursor.source, cursor.account, str(cursor.shard)]
        for reason, count in (cursor.streaks or {}).items():
            streak.add_metric([*labels, reason], float(count))
        window = (
            IngestWindow.objects.filter(source=cursor.source, account=cursor.account, shard=cursor.shard)
            .exclude(lag_seconds=None)
            .order_by("-id")
            .values_list("lag_seconds", flat=True)
            .first()
        )
        if window is not None:
            lag.add_metric(labels, float(window))
    yield streak
    yield lag

    session = GaugeMetricFamily("torghut_market_session_open", "1 while the NYSE regular session is open (America/New_York).")
    session.add_metric([], 1.0 if market_session_open() else 0.0)
    yield session

    active = GaugeMetricFamily("torghut_signal_continuity_alert_active", "Open signal continuity alerts.")
    active.add_metric([], float(Alert.objects.filter(closed_at__isnull=True, key__startswith=ALERT_PREFIX + ":").count()))
    yield active

    symbols = GaugeMetricFamily("torghut_universe_symbols", "Symbols in the trading universe.", labels=["source"])
    status = GaugeMetricFamily(
        "torghut_universe_status",
        "Universe health: 1 ok or static, 0.5 degraded (stale cache in use), 0 unavailable (fail closed).",
        labels=["source"],
    )
    for snapshot in UniverseSnapshot.objects.all():
        usable = snapshot.status != "unavailable"
        symbols.add_metric([snapshot.source], float(len(snapshot.symbols) if usable else 0))
        status.add_metric([snapshot.source], _STATUS_VALUE.get(snapshot.status, 0.0))
    yield symbols
    yield status

    missing = GaugeMetricFamily(
        "torghut_signal_audit_missing_rows",
        "Rows ClickHouse holds that ingest did not process, found by the latest signals audit.",
        labels=["source", "account"],
    )
    latest = SignalAuditRun.objects.order_by("-id").values("source", "account", "missing_rows").first()
    if latest is not None:
        missing.add_metric([latest["source"], latest["account"]], float(latest["missing_rows"]))
    yield missing
