"""The jangar universe: cache, degraded reuse, fail-closed, payload shapes; static universe limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from trading.signals.metrics import continuity_metrics
from trading.signals.models import UniverseSnapshot
from trading.signals.source import shard_filter
from trading.signals.universe import (
    REJECT_REASONS,
    SYMBOLS_REJECTED,
    universe_assert_authoritative,
    universe_resolve,
    universe_status_snapshot,
)

pytestmark = pytest.mark.django_db


def _cache(age_seconds: float, symbols=("AAPL", "MSFT")) -> None:
    fetched = timezone.now() - timedelta(seconds=age_seconds)
    UniverseSnapshot.objects.update_or_create(
        source="jangar", defaults={"symbols": list(symbols), "fetched_at": fetched, "checked_at": fetched, "status": "ok"}
    )


def test_jangar_symbols_are_read_normalised_and_cached(jangar):
    jangar.body = {"symbols": ["aapl", " MSFT ", "AAPL", ""]}
    first = universe_resolve()
    second = universe_resolve()
    assert first.status == "ok" and first.symbols == frozenset({"AAPL", "MSFT"})
    assert second.symbols == first.symbols
    assert len(jangar.requests) == 1, "a fresh cache must not call jangar again"
    assert jangar.requests[0]["path"] == "/api/torghut/symbols"


def test_a_bare_list_answer_is_accepted(jangar):
    jangar.body = ["SPY", "QQQ"]
    assert universe_resolve().symbols == frozenset({"SPY", "QQQ"})


def test_jangar_down_with_a_fresh_cache_uses_the_cache_without_asking(jangar):
    _cache(100)
    jangar.stop()
    universe = universe_resolve()
    assert (universe.status, universe.symbols) == ("ok", frozenset({"AAPL", "MSFT"}))


def test_jangar_down_with_a_stale_cache_is_degraded_but_keeps_trading_symbols(jangar):
    _cache(400)
    jangar.status = 503
    universe = universe_resolve()
    assert universe.status == "degraded" and universe.usable
    assert universe.symbols == frozenset({"AAPL", "MSFT"})
    status = universe_status_snapshot()
    assert status["status"] == "degraded" and status["symbols"] == 2 and status["cache_age_seconds"] >= 400
    assert "HTTP 503" in status["reason"]
    metrics = {m.name: m for m in continuity_metrics()}
    assert metrics["torghut_universe_status"].samples[0].value == 0.5


def test_jangar_down_with_an_expired_cache_fails_closed(jangar):
    _cache(1000)
    jangar.stop()
    universe = universe_resolve()
    assert universe.status == "unavailable" and not universe.usable
    assert universe.symbols == frozenset()
    assert universe_status_snapshot()["symbols"] == 0


def test_a_malformed_jangar_answer_counts_as_a_failure(jangar):
    jangar.body = {"tickers": ["AAPL"]}
    assert universe_resolve().status == "unavailable"


def test_autonomy_refuses_a_static_universe_with_a_clear_error(settings):
    settings.TRADING_AUTONOMY_ENABLED = True
    settings.TRADING_UNIVERSE_SOURCE = "static"
    with pytest.raises(ImproperlyConfigured, match="TRADING_UNIVERSE_SOURCE=jangar"):
        universe_assert_authoritative()
    settings.TRADING_UNIVERSE_SOURCE = "jangar"
    universe_assert_authoritative()


def test_a_static_universe_serves_research_and_paper(static_universe):
    universe = universe_resolve()
    assert universe.status == "static" and "AAPL" in universe.symbols


def test_after_a_failure_jangar_is_not_asked_again_until_the_retry_interval_passed(jangar, settings):
    settings.JANGAR_RETRY_SECONDS = 15
    _cache(400)
    jangar.status = 500
    now = timezone.now()
    assert universe_resolve(now=now).status == "degraded"
    assert universe_resolve(now=now + timedelta(seconds=5)).status == "degraded"
    assert len(jangar.requests) == 1
    jangar.status = 200
    assert universe_resolve(now=now + timedelta(seconds=16)).status == "ok"
    assert len(jangar.requests) == 2


def test_a_degraded_cache_that_ages_out_between_retries_fails_closed(jangar, settings):
    settings.JANGAR_RETRY_SECONDS = 60
    _cache(880)
    jangar.stop()
    now = timezone.now()
    assert universe_resolve(now=now).status == "degraded"
    assert universe_resolve(now=now + timedelta(seconds=30)).status == "unavailable"


def _rejected_total(source: str, reason: str) -> float:
    return SYMBOLS_REJECTED.labels(source=source, reason=reason)._value.get()


def test_invalid_jangar_names_are_rejected_with_a_reason_counted_and_the_valid_ones_kept(jangar):
    before = {r: _rejected_total("jangar", r) for r in ("invalid_characters", "too_long", "not_a_string", "blank")}
    jangar.body = {"symbols": ["aapl", "AAPL;DROP", "invalid!", "BRK.B", "BF-B", "A" * 16, 42, " ", "1ABC", "MSFT"]}

    universe = universe_resolve()

    assert universe.status == "ok" and universe.symbols == frozenset({"AAPL", "BRK.B", "BF-B", "MSFT"})
    assert list(universe.rejected) == [
        {"symbol": "AAPL;DROP", "reason": "invalid_characters"},
        {"symbol": "INVALID!", "reason": "invalid_characters"},
        {"symbol": "A" * 16, "reason": "too_long"},
        {"symbol": "42", "reason": "not_a_string"},
        {"symbol": "", "reason": "blank"},
        {"symbol": "1ABC", "reason": "invalid_characters"},
    ]
    snapshot = UniverseSnapshot.objects.get(source="jangar")
    assert snapshot.rejected == list(universe.rejected) and "6 invalid symbol(s) rejected" in snapshot.reason
    status = universe_status_snapshot()
    assert status["symbols"] == 4 and len(status["rejected"]) == 6
    assert _rejected_total("jangar", "invalid_characters") - before["invalid_characters"] == 3
    assert _rejected_total("jangar", "too_long") - before["too_long"] == 1
    assert _rejected_total("jangar", "not_a_string") - before["not_a_string"] == 1
    assert _rejected_total("jangar", "blank") - before["blank"] == 1


def test_rejected_names_never_reach_a_clickhouse_query(jangar):
    jangar.body = {"symbols": ["AAPL", "AAPL;DROP", "MSFT') OR 1=1 --"]}
    universe = universe_resolve()
    only = shard_filter(universe=universe.symbols, shard=0, shards=2)
    assert set(only.universe) == {"AAPL"} and set(only.symbols) <= {"AAPL"}


def test_a_jangar_answer_with_only_invalid_names_is_a_failure_that_records_them(jangar):
    _cache(400)
    jangar.body = {"symbols": ["AAPL;DROP", "bad name"]}
    universe = universe_resolve()
    assert universe.status == "degraded" and universe.symbols == frozenset({"AAPL", "MSFT"}), "the cached universe stays in use"
    snapshot = UniverseSnapshot.objects.get(source="jangar")
    assert "no valid symbol (2 rejected)" in snapshot.reason
    assert [r["reason"] for r in snapshot.rejected] == ["invalid_characters", "invalid_characters"]


def test_invalid_static_names_are_rejected_and_counted_once_per_change_of_the_list(settings):
    settings.TRADING_UNIVERSE_SOURCE = "static"
    settings.TRADING_UNIVERSE_STATIC_SYMBOLS = ["AAPL", "invalid!", "SPY"]
    before = _rejected_total("static", "invalid_characters")

    first, second = universe_resolve(), universe_resolve()

    assert first.status == "static" and first.symbols == frozenset({"AAPL", "SPY"})
    assert second.rejected == ({"symbol": "INVALID!", "reason": "invalid_characters"},)
    assert _rejected_total("static", "invalid_characters") - before == 1, "the same list re-read each poll is counted once"
    settings.TRADING_UNIVERSE_STATIC_SYMBOLS = ["invalid!", "AAPL;DROP"]
    universe = universe_resolve()
    assert universe.status == "unavailable" and "no valid symbol" in universe.reason
    assert _rejected_total("static", "invalid_characters") - before == 3


def test_the_rejected_counter_is_exported_at_zero_for_every_source_and_reason():
    exported = {
        (s.labels["source"], s.labels["reason"])
        for family in SYMBOLS_REJECTED.collect()
        for s in family.samples
        if s.name.endswith("_total")
    }
    assert {("jangar", r) for r in REJECT_REASONS} <= exported and {("static", r) for r in REJECT_REASONS} <= exported
