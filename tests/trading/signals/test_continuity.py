"""Continuity alerts from real polls: streak and lag thresholds, NYSE-session suppression, latch and clear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.signals import seconds_ago, signal_row
from torghut.core.calendar import market_session_open
from trading.alerts.models import Alert
from trading.signals.continuity import continuity_evaluate
from trading.signals.ingest import signals_ingest
from trading.signals.models import IngestCursor

pytestmark = pytest.mark.django_db

TUESDAY_OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 New York
SATURDAY = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
THANKSGIVING = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
DAY_AFTER_THANKSGIVING = datetime(2026, 11, 27, tzinfo=UTC)  # early close at 13:00 New York


def poll():
    return signals_ingest(source="ta", account="paper")


def open_alerts():
    return list(Alert.objects.filter(closed_at__isnull=True))


def test_the_nyse_session_follows_hours_holidays_and_early_closes():
    assert market_session_open(at=TUESDAY_OPEN)
    assert not market_session_open(at=TUESDAY_OPEN.replace(hour=22))
    assert not market_session_open(at=SATURDAY)
    assert not market_session_open(at=THANKSGIVING)
    assert market_session_open(at=DAY_AFTER_THANKSGIVING.replace(hour=17, minute=30))
    assert not market_session_open(at=DAY_AFTER_THANKSGIVING.replace(hour=18, minute=30))


def test_a_streak_of_empty_polls_while_the_market_is_open_opens_one_alert_that_latches_and_clears(signal_table, static_universe):
    with time_machine.travel(TUESDAY_OPEN, tick=False):
        poll()
        assert continuity_evaluate()[0]["action"] == "none"
        poll()
        verdict = continuity_evaluate()[0]
        continuity_evaluate()
        assert verdict["action"] == "open" and verdict["state"] == "alerting"
        [alert] = open_alerts()
        assert (alert.reason, alert.severity, alert.key) == ("no_signals_in_window", "warning", "signal_continuity:ta:paper:0")

    with time_machine.travel(TUESDAY_OPEN + timedelta(seconds=5), tick=False):
        signal_table.insert([signal_row("AAPL", seconds_ago(TUESDAY_OPEN, 1), 1)])
        poll()
        continuity_evaluate()
        assert len(open_alerts()) == 1, "one signal-bearing poll must not clear a latched alert"
    with time_machine.travel(TUESDAY_OPEN + timedelta(seconds=10), tick=False):
        signal_table.insert([signal_row("AAPL", TUESDAY_OPEN + timedelta(seconds=8), 2)])
        poll()
        assert continuity_evaluate()[0]["action"] == "closed"
    assert open_alerts() == []
    assert Alert.objects.count() == 1


def test_lag_over_the_threshold_alerts_on_the_first_poll(signal_table, static_universe, settings):
    settings.TRADING_SIGNAL_LAG_ALERT_SECONDS = 300
    with time_machine.travel(TUESDAY_OPEN, tick=False):
        signal_table.insert([signal_row("AAPL", seconds_ago(TUESDAY_OPEN, 400), 1)])
        poll()
        window = poll()
        assert window.reason == "empty_batch_advanced" and window.lag_seconds >= 300
        continuity_evaluate()
    [alert] = open_alerts()
    assert alert.payload["lag_seconds"] >= 300


@pytest.mark.parametrize(
    "frozen", [SATURDAY, THANKSGIVING, DAY_AFTER_THANKSGIVING.replace(hour=18, minute=30)], ids=["weekend", "holiday", "after-early-close"]
)
def test_quiet_stream_reasons_are_suppressed_while_the_market_is_closed(signal_table, static_universe, frozen):
    with time_machine.travel(frozen, tick=False):
        poll()
        poll()
        verdict = continuity_evaluate()[0]
    assert verdict["reason"] == "no_signals_in_window" and verdict["streak"] == 2
    assert verdict["state"] == "suppressed"
    assert open_alerts() == []


def test_a_cursor_ahead_of_the_stream_alerts_critically_even_on_a_weekend(signal_table, static_universe, settings):
    settings.TRADING_SIGNAL_LOOKBACK_SECONDS = 600
    with time_machine.travel(SATURDAY, tick=False):
        signal_table.insert([signal_row("AAPL", seconds_ago(SATURDAY, 3600), 1)])
        IngestCursor.objects.create(source="ta", account="paper", cursor_at=seconds_ago(SATURDAY, 30))
        for _ in range(2):
            IngestCursor.objects.filter(source="ta").update(cursor_at=seconds_ago(SATURDAY, 30))
            assert poll().reason == "cursor_ahead_of_stream"
        continuity_evaluate()
    [alert] = open_alerts()
    assert (alert.reason, alert.severity) == ("cursor_ahead_of_stream", "critical")


def test_an_unavailable_universe_alerts_while_the_market_is_closed(signal_table, jangar):
    jangar.stop()
    with time_machine.travel(SATURDAY, tick=False):
        poll()
        poll()
        continuity_evaluate()
    [alert] = open_alerts()
    assert alert.reason == "universe_source_unavailable" and alert.severity == "critical"
