"""Governance fixtures: a clean kill-switch mirror per test, operators, strategies, inputs."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from governance.emergency.measures import EmergencyInputs
from tests.factories import strategy_live_create


def _operator(django_user_model, username: str):
    user = django_user_model.objects.create_user(username=username, password="operator-pass-123")
    user.user_permissions.add(Permission.objects.get(codename="engage_killswitch"))
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def operator(django_user_model):
    return _operator(django_user_model, "operator")


@pytest.fixture
def second_operator(django_user_model):
    return _operator(django_user_model, "operator-two")


@pytest.fixture
def make_strategy():
    from trading.strategies.models import Strategy

    def _make(*, name: str = "macd", version: str = "1", lane: str = "live") -> Strategy:
        if lane == "live":
            # Postgres lets a strategy become live only through an applied, approved promotion request.
            return strategy_live_create(name=name, version=version)
        return Strategy.objects.create(name=name, version=version, kind="macd_rsi", lane=lane)

    return _make


def healthy_inputs(**overrides) -> EmergencyInputs:
    """Inputs under every limit, market open, all sources readable."""
    values = dict(
        signal_lag_seconds=5.0, market_open=True, streaks={"signals_present": 4}, universe_status="ok",
        research_failure_streak=0, fallback_ratio=0.0, fallback_orders=50, pnl_total=10.0, allocated_capital=100_000.0,
    )
    values.update(overrides)
    return EmergencyInputs(**values)


# Inputs that breach exactly one trigger each, and the trigger they breach.
BREACHES = {
    "signal_lag": {"signal_lag_seconds": 601.0},
    "staleness_streak": {"streaks": {"no_signals_in_window": 3}},
    "universe_unavailable": {"universe_status": "unavailable"},
    "research_failures": {"research_failure_streak": 3},
    "fallback_ratio": {"fallback_ratio": 0.3, "fallback_orders": 20},
    "pnl_drawdown": {"pnl_total": -2_500.0, "allocated_capital": 100_000.0},
}
