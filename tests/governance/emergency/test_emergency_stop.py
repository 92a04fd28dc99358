import pytest

from governance.emergency.measures import EmergencyInputs, emergency_inputs_collect
from governance.emergency.models import TriggerState
from governance.emergency.selectors import kill_switch_state
from governance.emergency.services import emergency_stop_evaluate, emergency_stop_policy_update
from governance.killswitch.models import KillSwitch, KillSwitchTransition
from governance.killswitch.selectors import kill_switch_order_policy
from governance.killswitch.services import kill_switch_engage, kill_switch_resume
from tests.factories import BREACHES, healthy_inputs
from torghut.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _state(trigger: str) -> TriggerState:
    return TriggerState.objects.get(trigger=trigger)


@pytest.mark.parametrize("trigger", sorted(BREACHES))
def test_each_trigger_halts_after_two_consecutive_breaches_and_not_after_one(trigger):
    first = emergency_stop_evaluate(inputs=healthy_inputs(**BREACHES[trigger]))
    assert first.fired == [] and first.state == "active"
    assert kill_switch_order_policy().allows == "all"
    assert _state(trigger).breach_streak == 1

    second = emergency_stop_evaluate(inputs=healthy_inputs(**BREACHES[trigger]))
    assert second.fired == [trigger] and second.state == "halted"
    assert kill_switch_order_policy().reason == "kill_switch_halted"
    switch = KillSwitch.objects.get()
    assert (switch.source, switch.actor) == ("emergency_stop", "emergency_stop")
    assert KillSwitchTransition.objects.get().triggers == [trigger]


@pytest.mark.parametrize("trigger", sorted(BREACHES))
def test_a_clean_evaluation_between_breaches_resets_the_streak(trigger):
    emergency_stop_evaluate(inputs=healthy_inputs(**BREACHES[trigger]))
    emergency_stop_evaluate(inputs=healthy_inputs())
    result = emergency_stop_evaluate(inputs=healthy_inputs(**BREACHES[trigger]))
    assert result.fired == [] and result.state == "active"


def test_healthy_inputs_breach_nothing():
    for _ in range(3):
        result = emergency_stop_evaluate(inputs=healthy_inputs())
    assert result.state == "active"
    assert {m.status for m in result.measurements} == {"ok"}


def test_the_confirmation_count_is_policy_data(operator):
    emergency_stop_policy_update(trigger="signal_lag", actor=operator, reason="faster halts", changes={"confirm_evaluations": 1})
    assert emergency_stop_evaluate(inputs=healthy_inputs(signal_lag_seconds=700.0)).state == "halted"
    event = AuditEvent.objects.get(action="emergency_stop_policy.update")
    assert (event.actor, event.old, event.new, event.reason) == (
        "operator",
        {"confirm_evaluations": 2},
        {"confirm_evaluations": 1},
        "faster halts",
    )


def test_a_raised_threshold_stops_a_value_from_breaching(operator):
    emergency_stop_policy_update(trigger="pnl_drawdown", actor=operator, reason="bigger book", changes={"threshold": 0.05})
    for _ in range(3):
        result = emergency_stop_evaluate(inputs=healthy_inputs(pnl_total=-2_500.0))
    assert result.state == "active"


@pytest.mark.parametrize(
    ("trigger", "near_limit"),
    [
        ("signal_lag", {"signal_lag_seconds": 480.0}),
        ("fallback_ratio", {"fallback_ratio": 0.2, "fallback_orders": 30}),
        ("pnl_drawdown", {"pnl_total": -1_600.0}),
    ],
)
def test_a_warning_opens_at_eighty_percent_of_a_limit_and_closes_below_it(trigger, near_limit):
    result = emergency_stop_evaluate(inputs=healthy_inputs(**near_limit))
    assert result.warnings_opened == [trigger] and result.state == "active"
    assert _state(trigger).warning is True
    again = emergency_stop_evaluate(inputs=healthy_inputs(**near_limit))
    assert again.warnings_opened == [] and again.fired == []
    cleared = emergency_stop_evaluate(inputs=healthy_inputs())
    assert cleared.warnings_closed == [trigger]
    assert _state(trigger).warning is False


def test_just_under_eighty_percent_opens_no_warning():
    result = emergency_stop_evaluate(inputs=healthy_inputs(signal_lag_seconds=479.0))
    assert result.warnings_opened == []


def test_signal_lag_and_staleness_do_not_count_while_the_market_is_closed():
    closed = healthy_inputs(market_open=False, signal_lag_seconds=50_000.0, streaks={"no_signals_in_window": 40})
    for _ in range(3):
        result = emergency_stop_evaluate(inputs=closed)
    assert result.state == "active"
    statuses = {m.trigger: m.status for m in result.measurements}
    assert statuses["signal_lag"] == statuses["staleness_streak"] == "not_applicable"


def test_a_fallback_ratio_over_budget_counts_only_with_enough_orders():
    for _ in range(3):
        result = emergency_stop_evaluate(inputs=healthy_inputs(fallback_ratio=0.9, fallback_orders=19))
    assert result.state == "active"


def test_a_limit_that_is_exactly_met_halts_counted_triggers_but_not_over_limit_ones():
    for _ in range(2):
        exact_ratio = emergency_stop_evaluate(inputs=healthy_inputs(fallback_ratio=0.25, fallback_orders=20))
    assert exact_ratio.state == "active"
    for _ in range(2):
        exact_streak = emergency_stop_evaluate(inputs=healthy_inputs(research_failure_streak=3))
    assert exact_streak.state == "halted"


def test_an_unreadable_source_is_recorded_and_counts_as_a_breach():
    broken = healthy_inputs(unreadable={"research_failure_streak": "ImportError: no research.selectors"})
    first = emergency_stop_evaluate(inputs=broken)
    assert {m.trigger: m.status for m in first.measurements}["research_failures"] == "unreadable"
    state = _state("research_failures")
    assert state.last_status == "unreadable" and "ImportError" in state.last_error
    assert emergency_stop_evaluate(inputs=broken).fired == ["research_failures"]


def test_an_unreadable_source_may_be_downgraded_to_a_recorded_non_breach_by_policy(operator):
    emergency_stop_policy_update(trigger="pnl_drawdown", actor=operator, reason="pnl feed flaky", changes={"unreadable_is_breach": False})
    broken = healthy_inputs(unreadable={"pnl_today": "TimeoutError: broker"})
    for _ in range(3):
        result = emergency_stop_evaluate(inputs=broken)
    assert result.state == "active"
    assert _state("pnl_drawdown").last_status == "unreadable"


def test_an_unreadable_source_never_counts_towards_recovery(operator):
    emergency_stop_policy_update(trigger="signal_lag", actor=operator, reason="feed flaky", changes={"unreadable_is_breach": False})
    for _ in range(2):
        emergency_stop_evaluate(inputs=healthy_inputs(signal_lag_seconds=900.0))
    blind = healthy_inputs(unreadable={"signal_continuity": "ConnectionError: clickhouse"})
    assert {emergency_stop_evaluate(inputs=blind).state for _ in range(5)} == {"halted"}
    assert _state("signal_lag").clean_streak == 0


def test_collecting_inputs_names_every_source_it_could_not_read():
    inputs = emergency_inputs_collect()
    read = {
        "signal_continuity": inputs.signal_lag_seconds is not None or inputs.universe_status is not None or inputs.market_open is not None,
        "research_failure_streak": inputs.research_failure_streak is not None,
        "execution_fallback_ratio": inputs.fallback_ratio is not None,
        "pnl_today": inputs.pnl_total is not None,
    }
    for source, was_read in read.items():
        assert was_read or source in inputs.unreadable, source
        assert not (was_read and source in inputs.unreadable), source


def test_lag_recovers_into_reducing_after_three_clean_evaluations_never_into_active():
    for _ in range(2):
        emergency_stop_evaluate(inputs=healthy_inputs(signal_lag_seconds=900.0))
    states = [emergency_stop_evaluate(inputs=healthy_inputs()).state for _ in range(4)]
    assert states == ["halted", "halted", "reducing", "reducing"]
    switch = KillSwitch.objects.get()
    assert (switch.state, switch.source) == ("reducing", "recovery")
    assert kill_switch_order_policy().allows in ("all", "reducing")
    assert kill_switch_order_policy().allows != "all"
    assert kill_switch_state()["state"] == "reducing"


def test_a_market_close_is_not_a_recovery():
    for _ in range(2):
        emergency_stop_evaluate(inputs=healthy_inputs(signal_lag_seconds=900.0))
    closed = [emergency_stop_evaluate(inputs=healthy_inputs(market_open=False, signal_lag_seconds=5.0)).state for _ in range(5)]
    assert set(closed) == {"halted"}
    reopened = [emergency_stop_evaluate(inputs=healthy_inputs()).state for _ in range(3)]
    assert reopened == ["halted", "halted", "reducing"]


def test_staleness_recovers_like_lag():
    for _ in range(2):
        emergency_stop_evaluate(inputs=healthy_inputs(streaks={"cursor_tail_stable": 5}))
    states = [emergency_stop_evaluate(inputs=healthy_inputs()).state for _ in range(3)]
    assert states[-1] == "reducing"


@pytest.mark.parametrize("trigger", ["universe_unavailable", "research_failures", "fallback_ratio", "pnl_drawdown"])
def test_other_triggers_never_clear_by_themselves(trigger):
    for _ in range(2):
        emergency_stop_evaluate(inputs=healthy_inputs(**BREACHES[trigger]))
    states = {emergency_stop_evaluate(inputs=healthy_inputs()).state for _ in range(6)}
    assert states == {"halted"}


def test_recovery_waits_for_every_firing_trigger():
    both = healthy_inputs(signal_lag_seconds=900.0, research_failure_streak=4)
    for _ in range(2):
        emergency_stop_evaluate(inputs=both)
    states = {emergency_stop_evaluate(inputs=healthy_inputs()).state for _ in range(5)}
    assert states == {"halted"}


def test_an_operator_halt_is_never_lifted_by_recovery(operator):
    kill_switch_engage(actor=operator, state="halted", reason="manual, for the test")
    states = {emergency_stop_evaluate(inputs=healthy_inputs()).state for _ in range(5)}
    assert states == {"halted"}


def test_a_new_breach_while_reducing_halts_again():
    for _ in range(2):
        emergency_stop_evaluate(inputs=healthy_inputs(signal_lag_seconds=900.0))
    for _ in range(3):
        emergency_stop_evaluate(inputs=healthy_inputs())
    assert KillSwitch.objects.get().state == "reducing"
    results = [emergency_stop_evaluate(inputs=healthy_inputs(signal_lag_seconds=900.0)) for _ in range(2)]
    assert [r.state for r in results] == ["reducing", "halted"]


def test_operator_resume_returns_to_active_and_restarts_the_streaks(operator):
    for _ in range(2):
        emergency_stop_evaluate(inputs=healthy_inputs(research_failure_streak=5))
    kill_switch_resume(actor=operator, reason="research lane fixed")
    assert KillSwitch.objects.get().state == "active"
    assert not TriggerState.objects.filter(firing=True).exists()
    # A breach that persists after the resume needs its full confirmation again.
    assert emergency_stop_evaluate(inputs=healthy_inputs(research_failure_streak=5)).state == "active"
    assert emergency_stop_evaluate(inputs=healthy_inputs(research_failure_streak=5)).state == "halted"


def test_a_firing_trigger_does_not_fire_again_on_every_evaluation():
    results = [emergency_stop_evaluate(inputs=healthy_inputs(universe_status="unavailable")) for _ in range(5)]
    assert [r.fired for r in results] == [[], ["universe_unavailable"], [], [], []]
    assert KillSwitchTransition.objects.count() == 1


def test_a_loss_with_no_allocated_capital_is_a_breach():
    inputs = EmergencyInputs(**{**healthy_inputs().as_dict(), "pnl_total": -1.0, "allocated_capital": 0.0})
    emergency_stop_evaluate(inputs=inputs)
    assert emergency_stop_evaluate(inputs=inputs).fired == ["pnl_drawdown"]
