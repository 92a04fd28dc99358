"""The operator page: login required, read-only, and shows each part of the loop."""

import pytest
from django.utils import timezone

from governance.killswitch.services import kill_switch_engage
from torghut.core.deadletters import DeadLetterPayload, dead_letter_record
from trading.alerts.services import alert_open
from trading.orders.models import Execution
from trading.strategies.models import Strategy

pytestmark = pytest.mark.django_db


def arrange_loop_state(admin_user) -> None:
    """Rows for every section: a strategy, an execution with a fallback, an alert, a dead letter, a halt."""
    from tests.factories import strategy_live_create

    Strategy.objects.create(name="macd", version="3", kind="macd_rsi", lane="paper", capital_fraction="0.1")
    strategy_live_create(name="bollinger", version="2", kind="bollinger_reversion", capital_fraction="0.2")
    Execution.objects.create(
        client_order_id="ops-page-1",
        account="paper",
        symbol="NVDA",
        side="buy",
        expected_adapter="lean",
        actual_adapter="alpaca",
        fallback_reason="lean_http_503",
        fallback_count=1,
        route_tag="backfill",
        quantity=3,
        filled_quantity=3,
        avg_fill_price=100,
        status="filled",
        filled_at=timezone.now(),
    )
    alert_open(key="trading.signal_continuity:ta:paper:0", reason="cursor_ahead_of_stream", severity="critical", payload={})
    now = timezone.now().isoformat()
    dead_letter_record(
        payload=DeadLetterPayload(
            task_name="research.persist_run",
            task_id="ops-page-letter",
            args=[],
            kwargs={},
            queue="research",
            exception_class="psycopg.OperationalError",
            exception_message="down",
            traceback="",
            retries=5,
            first_failed_at=now,
            last_failed_at=now,
        )
    )
    kill_switch_engage(state="halted", reason="ops page check", actor=admin_user)


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/ops/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_page_shows_continuity_alerts_kill_switch_lanes_executions_and_dead_letters(admin_client, admin_user):
    arrange_loop_state(admin_user)
    page = admin_client.get("/ops/").content.decode()
    for text in (
        "Signal continuity",
        "cursor_ahead_of_stream",
        "ops page check",
        "halted",
        "macd@3",
        "paper",
        "bollinger@2",
        "step 1/4: 10%",
        "lean_http_503",
        "alpaca",
        "research.persist_run",
        "ops-page-letter",
    ):
        assert text in page, text


def test_the_page_is_read_only(admin_client):
    assert admin_client.post("/ops/").status_code == 405


def test_the_page_draws_lag_signals_fallback_drawdown_and_kill_switch_charts(admin_client, admin_user):
    from datetime import timedelta

    from trading.signals.models import IngestWindow

    arrange_loop_state(admin_user)
    start = timezone.now() - timedelta(minutes=10)
    for i, (lag, rows) in enumerate([(1.5, 8), (2.0, 8), (700.0, 0), (3.0, 16)]):
        IngestWindow.objects.create(
            source="ta",
            account="paper",
            started_at=start + timedelta(seconds=30 * i),
            reason="signals_present",
            lag_seconds=lag,
            rows_fetched=rows,
            rows_accepted=rows,
        )
    page = admin_client.get("/ops/").content.decode()
    for section in ("chart-lag", "chart-signals", "chart-fallback", "chart-drawdown", "chart-kill-switch"):
        block = page.split(f'id="{section}"', 1)[1].split("</svg>", 1)[0]
        assert "<svg" in block, section
    lag = page.split('id="chart-lag"', 1)[1].split("</svg>", 1)[0]
    assert 'class="series"' in lag and "limit 600 s" in lag and "now 3" in lag
    signals = page.split('id="chart-signals"', 1)[1].split("</svg>", 1)[0]
    assert signals.count('class="bar"') == 4
    assert "limit 0.25" in page.split('id="chart-fallback"', 1)[1].split("</svg>", 1)[0]
    assert "of limit 0.02" in page.split('id="chart-drawdown"', 1)[1].split("</svg>", 1)[0]
    timeline = page.split('id="chart-kill-switch"', 1)[1].split("</svg>", 1)[0]
    assert 'class="band active"' in timeline and 'class="band halted"' in timeline and "now halted" in timeline
    assert "cdn" not in page.lower() and "<script" not in page
