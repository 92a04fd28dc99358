"""Governance fixtures: a second operator and strategies (live by default)."""

from __future__ import annotations

import pytest

from tests.factories import operator_create, strategy_create
from trading.strategies.models import Strategy


@pytest.fixture
def second_operator(django_user_model):
    return operator_create(username="operator-two")


@pytest.fixture
def make_strategy():
    def _make(*, name: str = "macd", version: str = "1", lane: str = "live") -> Strategy:
        return strategy_create(name=name, version=version, lane=lane)

    return _make
