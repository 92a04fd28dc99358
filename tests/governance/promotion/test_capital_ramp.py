from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import Permission

from governance.killswitch.services import kill_switch_engage, kill_switch_resume
from governance.lanes.services import strategy_lane_change
from governance.promotion.models import CapitalRamp, CapitalRampStep
from governance.promotion.ramp import BREACH, CLEAN, UNKNOWN, RampDayInputs, ramp_day_inputs_gather, ramp_day_verdict
from governance.promotion.services import capital_ramps_close_day, checkpoint_policy_ensure
from tests.factories import make_strategy, operator_create, strategy_live_create, user_create
from tests.trading.pnl.test_pnl import _fill
from torghut.core.calendar import last_closed_session

pytestmark = pytest.mark.django_db

CLEAN_DAY = RampDayInputs(kill_switch_trips=0, pnl_total=150.0, allocated_capital=100_000.0, fallback_ratio=0.05)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _close(when: str, inputs: RampDayInputs | None = CLEAN_DAY) -> list[CapitalRampStep]:
    now = _utc(when)
    with time_machine.travel(now, tick=False):
        return capital_ramps_close_day(now=now, inputs=inputs)


@pytest.mark.parametrize(
    ("inputs", "verdict", "reasons"),
    [
        (CLEAN_DAY, CLEAN, []),
        (RampDayInputs(kill_switch_trips=1, pnl_total=1.0, allocated_capital=1e5, fallback_ratio=0.0), BREACH, ["kill_switch: 1 trip(s)"]),
        (
            RampDayInputs(kill_switch_trips=0, pnl_total=-2500.0, allocated_capital=1e5, fallback_ratio=0.0),
            BREACH,
            ["drawdown: 2500 > 2000"],
        ),
        (
            RampDayInputs(kill_switch_trips=0, pnl_total=1.0, allocated_capital=1e5, fallback_ratio=0.3),
            BREACH,
            ["fallback_ratio: 0.3 > 0.25"],
        ),
        (
            RampDayInputs(kill_switch_trips=0, pnl_total=None, allocated_capital=None, fallback_ratio=0.0, errors={"pnl": "down"}),
            UNKNOWN,
            ["drawdown: unreadable (down)"],
        ),
    ],
)
def test_a_day_is_clean_a_breach_or_unknown_with_the_figures(inputs, verdict, reasons):
    assert ramp_day_verdict(policy=checkpoint_policy_ensure(), inputs=inputs) == (verdict, reasons)


def test_the_last_closed_session_follows_the_nyse_calendar_with_holidays_and_early_closes():
    assert last_closed_session(_utc("2026-11-26 22:00")).day.isoformat() == "2026-11-25"  # Thanksgiving: no session
    early = last_closed_session(_utc("2026-11-27 18:05"))
    assert early.day.isoformat() == "2026-11-27" and early.close == _utc("2026-11-27 18:00")  # 13:00 New York
    assert last_closed_session(_utc("2026-11-27 17:55")).day.isoformat() == "2026-11-25"
    assert last_closed_session(_utc("2026-11-30 12:00")).previous_close == _utc("2026-11-25 21:00")


def test_the_ramp_steps_up_one_step_per_clean_trading_day_and_down_on_a_breach():
    with time_machine.travel(_utc("2026-11-23 15:00"), tick=False):  # Monday, 10:00 New York: session already open
        strategy = strategy_live_create()
    ramp = CapitalRamp.objects.get(strategy=strategy)
    assert (ramp.step, ramp.fraction) == (0, 0.10)

    assert _close("2026-11-23 22:00") == []  # the session opened before the ramp started: not a full day
    assert [s.to_fraction for s in _close("2026-11-24 21:30")] == [0.25]
    assert _close("2026-11-24 23:00") == []  # each session is evaluated once
    assert [s.to_fraction for s in _close("2026-11-25 21:30")] == [0.50]
    assert _close("2026-11-26 22:00") == []  # Thanksgiving
    assert [s.to_fraction for s in _close("2026-11-27 18:30")] == [1.00]  # early close at 13:00 New York
    assert _close("2026-11-28 18:30") == []  # Saturday

    operator = user_create(username="ops")
    operator.user_permissions.add(Permission.objects.get(codename="engage_killswitch"))
    operator = type(operator).objects.get(pk=operator.pk)
    with time_machine.travel(_utc("2026-11-30 16:00"), tick=False):
        kill_switch_engage(actor=operator, state="halted", reason="drill by hand")
        kill_switch_resume(actor=operator_create(username="ops-two"), reason="all clear, for the test")  # four eyes
    breach = _close("2026-11-30 21:30", inputs=None)  # gathered: the trip is in Postgres
    assert [(s.cause, s.to_fraction) for s in breach] == [("breach", 0.50)]
    assert breach[0].detail["reasons"][0] == "kill_switch: 1 trip(s)"

    held = _close("2026-12-01 21:30", inputs=RampDayInputs(kill_switch_trips=0, pnl_total=None, allocated_capital=None, fallback_ratio=0.0))
    assert [(s.cause, s.to_fraction) for s in held] == [("hold", 0.50)]

    ledger = list(CapitalRampStep.objects.filter(ramp=ramp).values_list("trading_day", "cause", "to_step"))
    assert [(str(d) if d else None, c, s) for d, c, s in ledger] == [
        (None, "start", 0),
        ("2026-11-24", "clean_day", 1),
        ("2026-11-25", "clean_day", 2),
        ("2026-11-27", "clean_day", 3),
        ("2026-11-30", "breach", 2),
        ("2026-12-01", "hold", 2),
    ]


def test_a_ramp_stops_when_its_strategy_leaves_live():
    with time_machine.travel(_utc("2026-11-23 15:00"), tick=False):
        strategy = strategy_live_create()
        strategy_lane_change(strategy_id=strategy.pk, to_lane="shadow", cause="rollback", actor="emergency_stop")
    steps = _close("2026-11-24 21:30")
    assert [s.cause for s in steps] == ["stop"]
    assert CapitalRamp.objects.get().status == "stopped"


def test_the_current_step_is_on_the_api_and_in_a_metric(api_client):
    from prometheus_client import generate_latest

    from torghut.core.metrics import build_registry

    with time_machine.travel(_utc("2026-11-23 15:00"), tick=False):
        strategy = strategy_live_create()
    _close("2026-11-24 21:30")
    rows = api_client.get("/governance/capital-ramps").json()
    assert [(r["strategy_id"], r["step"], r["fraction"], r["schedule"]) for r in rows] == [(strategy.pk, 1, 0.25, [0.1, 0.25, 0.5, 1.0])]
    assert [e["cause"] for e in rows[0]["ledger"]] == ["start", "clean_day"]
    scrape = generate_latest(build_registry()).decode()
    assert f'torghut_capital_ramp_ratio{{step="1",strategy_id="{strategy.pk}",version="1"}} 0.25' in scrape


def test_the_beat_task_closes_the_day_through_the_service():
    from governance.promotion.tasks import step_capital_ramps

    with time_machine.travel(_utc("2026-11-23 15:00"), tick=False):
        strategy_live_create()
    with time_machine.travel(_utc("2026-11-24 21:30"), tick=False):
        result = step_capital_ramps.apply().get()
    # Trading's PnL and fallback selectors decide between a clean day and a hold; never a step down.
    assert [s["cause"] for s in result["steps"]] in (["clean_day"], ["hold"])


def test_trading_reads_the_share_of_target_capital_from_the_ramp():
    from governance.promotion.selectors import strategy_capital_multiplier
    from trading.strategies.models import Strategy

    with time_machine.travel(_utc("2026-11-23 15:00"), tick=False):
        live = strategy_live_create()
    paper = Strategy.objects.create(name="p", version="1", kind="macd_rsi", lane="paper")
    assert strategy_capital_multiplier(strategy_id=live.pk) == 0.10
    _close("2026-11-24 21:30")
    assert strategy_capital_multiplier(strategy_id=live.pk) == 0.25
    assert strategy_capital_multiplier(strategy_id=paper.pk) == 1.0


def test_with_no_allocated_capital_any_loss_is_a_breach_and_no_loss_is_clean():
    policy = checkpoint_policy_ensure()
    flat = RampDayInputs(kill_switch_trips=0, pnl_total=0.0, allocated_capital=0.0, fallback_ratio=0.0)
    loss = RampDayInputs(kill_switch_trips=0, pnl_total=-1.0, allocated_capital=0.0, fallback_ratio=0.0)
    assert ramp_day_verdict(policy=policy, inputs=flat) == (CLEAN, [])
    assert ramp_day_verdict(policy=policy, inputs=loss) == (BREACH, ["drawdown: 1 > 0"])


def test_the_ramp_judges_a_day_by_its_session_pnl_the_figure_trading_shows(api_client, settings):
    settings.TRADING_ACCOUNT_CAPITAL = 10_000
    strategy = make_strategy(name="ramped")
    _fill("r-pre", strategy, side="sell", qty=1, price="500", at=_utc("2026-11-24 14:00"))  # pre-market: Monday's session
    _fill("r-buy", strategy, side="buy", qty=1, price="100", at=_utc("2026-11-24 15:00"))
    _fill("r-sell", strategy, side="sell", qty=1, price="70", at=_utc("2026-11-24 20:00"))
    now = _utc("2026-11-24 21:30")
    with time_machine.travel(now, tick=False):
        inputs = ramp_day_inputs_gather(session=last_closed_session(now), now=now)
        shown = api_client.get("/trading/pnl").json()
    assert "pnl" not in inputs.errors
    assert inputs.pnl_total == shown["total"] == pytest.approx(-30.0)
    assert inputs.allocated_capital == shown["allocated_capital"] == pytest.approx(1_000.0)
    assert shown["session_start"].startswith("2026-11-24T14:30")
