"""After a short run of the loop, `/metrics` exports every metric the dashboard and alert rules use."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import yaml

from tests.factories import make_strategy
from tests.ops.test_grafana_dashboard import DASHBOARD, metric_names, panel_queries
from tests.signals import now_utc, signal_row
from trading.orders.models import Decision

pytestmark = pytest.mark.django_db
RULES = DASHBOARD.parent.parent / "prometheus" / "alerts.yml"
_SUFFIXES = ("_bucket", "_count", "_sum")


def _rule_queries() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def _exported(body: str) -> set[str]:
    return {match.group(1) for match in re.finditer(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{| )", body, flags=re.M)}


@pytest.fixture
def short_run(settings, signal_table, static_universe, lean_venue):
    """Signals -> ingest -> decisions -> orders (LEAN failing, so one falls back) -> research lane -> a drill."""
    from governance.drills.services import drill_run
    from research.services import research_lane_run
    from trading.orders.services import decision_submit
    from trading.signals.continuity import continuity_evaluate
    from trading.signals.ingest import signals_ingest

    settings.TRADING_EXECUTION_ADAPTER = "lean"
    settings.TRADING_EXECUTION_FALLBACK_CHAIN = ["simulated"]
    settings.TRADING_LEAN_URL = lean_venue.url
    settings.TRADING_LEAN_TIMEOUT_SECONDS = 1.0
    lean_venue.set(fail_status=503)
    make_strategy(name="macd")
    start = now_utc() - timedelta(seconds=30)
    signal_table.insert(
        [
            signal_row("AAPL", start, 1, macd_hist=-0.2),
            signal_row("AAPL", start + timedelta(seconds=1), 2, macd_hist=0.3),
            signal_row("MSFT", start, 1, macd_hist=0.2),
            signal_row("MSFT", start + timedelta(seconds=1), 2, macd_hist=-0.3),
        ]
    )
    window = signals_ingest(source=settings.TRADING_SIGNAL_SOURCE, account=settings.TRADING_ACCOUNT)
    assert window.rows_accepted == 4
    planned = list(Decision.objects.filter(status="planned").values_list("pk", flat=True))
    assert planned, "the MACD crosses should have produced decisions"
    for decision_id in planned:
        decision_submit(decision_id=decision_id)
    continuity_evaluate()
    research_lane_run()
    drill_run(trigger="research_failures")


def test_every_dashboard_and_alert_metric_is_exported_after_a_short_run(short_run, client):
    exported = _exported(client.get("/metrics").content.decode())
    wanted = set()
    for expr in [q for _, q in panel_queries()] + _rule_queries():
        wanted |= metric_names(expr)
    missing = {name for name in wanted if name not in exported and not (name.endswith(_SUFFIXES) and name in exported)}
    assert not missing, f"used by ops/ but not exported: {sorted(missing)}"


def test_the_dashboard_is_valid_json_with_unique_panel_ids():
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
