"""One PnL definition: the drawdown the emergency stop acts on is the one `/trading/pnl`, the ops page and the
`torghut_pnl_daily_drawdown_ratio` gauge show, on the same fills and marks."""

import re

import pytest
from django.utils import timezone

from governance.emergency.measures import BREACH, emergency_inputs_collect, measure
from governance.emergency.models import Trigger
from governance.emergency.services import emergency_stop_policies_ensure
from tests.factories import make_strategy
from tests.signals import signal_row
from tests.trading.pnl.test_pnl import _fill
from torghut.core import clickhouse

pytestmark = pytest.mark.django_db


def test_the_emergency_stop_acts_on_the_drawdown_the_operator_sees(signal_table, settings, api_client, admin_client, client):
    settings.TRADING_ACCOUNT_CAPITAL = 10_000
    strategy = make_strategy(name="shown")  # paper, a tenth of the capital: 1,000 allocated
    _fill("shown-buy", strategy, side="buy", qty=10, price="100")
    _fill("shown-sell", strategy, side="sell", qty=4, price="95")  # cash -620, 6 still open
    signal_table.insert([signal_row("AAPL", timezone.now(), 1, vwap_w5m=90.0)])  # 6 marked at 90 = 540: -80 in all
    policy = emergency_stop_policies_ensure()[Trigger.PNL_DRAWDOWN]

    acted_on = measure(policy, emergency_inputs_collect())
    api = api_client.get("/trading/pnl").json()
    page = admin_client.get("/ops/")
    gauge = re.search(r"^torghut_pnl_daily_drawdown_ratio (\S+)$", client.get("/metrics").content.decode(), re.MULTILINE)

    assert acted_on.status == BREACH and acted_on.value == pytest.approx(0.08)  # 80 of 1,000 is over the 2% limit
    assert api["total"] == pytest.approx(-80.0) and api["mark_source"] == "signals"
    assert api["drawdown_ratio"] == acted_on.value
    assert page.context["pnl"]["drawdown_ratio"] == acted_on.value
    assert "drawdown 0.0800" in page.content.decode()
    assert gauge and float(gauge.group(1)) == acted_on.value


def test_with_clickhouse_down_every_reader_marks_at_the_last_fill_alike(settings, api_client, admin_client):
    settings.TRADING_ACCOUNT_CAPITAL = 10_000
    settings.CLICKHOUSE_URL = "clickhouse://default@127.0.0.1:1/torghut_test"
    clickhouse.reset_connections()
    try:
        strategy = make_strategy(name="dark")
        _fill("dark-buy", strategy, side="buy", qty=10, price="100")
        _fill("dark-sell", strategy, side="sell", qty=5, price="99")  # cash -505, 5 open marked at 99 = 495: -10 in all
        policy = emergency_stop_policies_ensure()[Trigger.PNL_DRAWDOWN]
        inputs = emergency_inputs_collect()
        acted_on = measure(policy, inputs)
        api = api_client.get("/trading/pnl").json()
        page = admin_client.get("/ops/")
    finally:
        clickhouse.reset_connections()
    assert inputs.sources["pnl_today"]["mark_source"] == api["mark_source"] == page.context["pnl"]["mark_source"] == "last_fill"
    assert acted_on.value == pytest.approx(0.01) == api["drawdown_ratio"] == page.context["pnl"]["drawdown_ratio"]
