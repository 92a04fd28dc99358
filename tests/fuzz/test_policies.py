"""Hypothesis over policy inputs: the emergency-stop measurement and the research gates never crash and
never turn an unknown or out-of-range value into a clean verdict."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from governance.emergency.measures import (
    BREACH,
    DEFAULT_STALE_REASONS,
    NOT_APPLICABLE,
    OK,
    STRICT,
    TRIGGER_SOURCE,
    UNREADABLE,
    WARNING,
    EmergencyInputs,
    measure,
)
from governance.emergency.models import EmergencyStopPolicy, Trigger
from research.gates import ERROR, FAIL, GATES, NOT_EVALUATED, PASS, GateContext, gates_evaluate, gates_verdict
from research.models import DEFAULT_THRESHOLDS
from research.services import gate_thresholds_validate
from research.simulation import SimulationResult

POLICY_FUZZ = settings(max_examples=300, deadline=None, database=None)
# Non-finite values are drawn often on purpose: they are the inputs that slip past comparisons.
any_float = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0]) | st.floats(allow_nan=True, allow_infinity=True)
maybe_float = st.none() | any_float
reasons = st.sampled_from([*DEFAULT_STALE_REASONS, "signals_present", "universe_source_unavailable"]) | st.text(max_size=12)

emergency_inputs = st.builds(
    EmergencyInputs,
    signal_lag_seconds=maybe_float,
    market_open=st.none() | st.booleans(),
    streaks=st.dictionaries(reasons, st.integers(min_value=0, max_value=10**6), max_size=6),
    universe_status=st.none() | st.sampled_from(["fresh", "cached", "degraded", "unavailable"]) | st.text(max_size=8),
    research_failure_streak=st.none() | st.integers(min_value=0, max_value=10**6),
    fallback_ratio=maybe_float,
    fallback_orders=st.none() | st.integers(min_value=0, max_value=10**6),
    pnl_total=maybe_float,
    allocated_capital=maybe_float,
    unreadable=st.dictionaries(st.sampled_from(sorted(set(TRIGGER_SOURCE.values()))), st.text(max_size=20), max_size=2),
)
policies = st.builds(
    lambda trigger, threshold, warn, params: EmergencyStopPolicy(trigger=trigger, threshold=threshold, warn_fraction=warn, params=params),
    st.sampled_from(list(Trigger)),
    st.floats(min_value=0.0, max_value=1e9, allow_nan=False),
    st.floats(min_value=0.01, max_value=1.0),
    st.fixed_dictionaries({}, optional={"min_orders": st.integers(0, 1000), "reasons": st.lists(reasons, max_size=4)}),
)


@POLICY_FUZZ
@given(policy=policies, inputs=emergency_inputs)
def test_an_emergency_measurement_never_raises_and_never_calls_an_unknown_or_over_limit_value_ok(policy, inputs):
    result = measure(policy, inputs)
    assert result.status in {OK, WARNING, BREACH, UNREADABLE, NOT_APPLICABLE}
    if TRIGGER_SOURCE[policy.trigger] in inputs.unreadable:
        assert result.status == UNREADABLE
    if result.status in (OK, WARNING):
        # A clean verdict needs a real number on the safe side of the limit.
        assert result.value is not None and math.isfinite(result.value), f"{policy.trigger}: {result}"
        over = result.value > policy.threshold if policy.trigger in STRICT else result.value >= policy.threshold
        assert not over
    if result.status == BREACH:
        assert result.value is not None


def _trigger_inputs(trigger: str, inputs: EmergencyInputs) -> list[float | None]:
    return {
        Trigger.SIGNAL_LAG: [inputs.signal_lag_seconds],
        Trigger.FALLBACK_RATIO: [inputs.fallback_ratio],
        Trigger.PNL_DRAWDOWN: [inputs.pnl_total, inputs.allocated_capital],
    }.get(trigger, [])


@POLICY_FUZZ
@given(policy=policies, inputs=emergency_inputs)
def test_an_emergency_input_that_is_not_a_number_is_never_measured_clean(policy, inputs):
    result = measure(policy, inputs)
    if any(v is not None and math.isnan(v) for v in _trigger_inputs(policy.trigger, inputs)) and result.status != NOT_APPLICABLE:
        assert result.status in (UNREADABLE, BREACH), f"{policy.trigger}: {inputs} -> {result}"
    if policy.trigger == Trigger.PNL_DRAWDOWN and not all(
        v is not None and math.isfinite(v) for v in _trigger_inputs(policy.trigger, inputs)
    ):
        assert result.status == UNREADABLE, f"{inputs} -> {result}"


@POLICY_FUZZ
@given(policy=policies, inputs=emergency_inputs, bigger=st.floats(min_value=0.0, max_value=1e6))
def test_raising_an_emergency_threshold_never_turns_a_clean_measurement_into_a_breach(policy, inputs, bigger):
    first = measure(policy, inputs)
    looser = EmergencyStopPolicy(
        trigger=policy.trigger, threshold=policy.threshold + bigger, warn_fraction=policy.warn_fraction, params=policy.params
    )
    if first.status in (OK, WARNING):
        assert measure(looser, inputs).status in (OK, WARNING)


metric = st.floats(allow_nan=True, allow_infinity=True)
results = st.builds(
    SimulationResult,
    signals=st.integers(0, 10**6),
    trades=st.integers(0, 10**5),
    net_pnl=metric,
    max_drawdown=metric,
    turnover=metric,
    null_rate=metric,
    symbols=st.lists(st.sampled_from(["AAPL", "MSFT", "NVDA", "SPY", ""]), max_size=5, unique=True),
    last_event_ts=st.none() | st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)),
)
threshold_values = st.one_of(any_float, st.integers(-(10**6), 10**6), st.text(max_size=6), st.none())
raw_thresholds = st.dictionaries(st.sampled_from([*DEFAULT_THRESHOLDS, "unknown"]), threshold_values, max_size=len(DEFAULT_THRESHOLDS) + 1)
full_thresholds = st.fixed_dictionaries({key: any_float for key in DEFAULT_THRESHOLDS})
NOW = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)


def _context(result: SimulationResult, drill_hours_ago: float | None, expected: set[str]) -> GateContext:
    drilled = None if drill_hours_ago is None else NOW - timedelta(hours=drill_hours_ago)
    return GateContext(
        result=result,
        window_start=NOW - timedelta(hours=1),
        window_end=NOW,
        expected_symbols=expected,
        now=NOW,
        last_drill_at=lambda: drilled,
    )


@POLICY_FUZZ
@given(raw=raw_thresholds)
def test_gate_threshold_validation_either_refuses_or_returns_every_threshold_as_a_float(raw):
    try:
        clean = gate_thresholds_validate(raw)
    except ValueError:
        return
    assert set(clean) == set(DEFAULT_THRESHOLDS) and all(isinstance(v, float) for v in clean.values())


@POLICY_FUZZ
@given(
    result=results,
    thresholds=st.one_of(full_thresholds, raw_thresholds),
    drill=st.none() | st.floats(0, 10_000),
    expected=st.sets(st.sampled_from(["AAPL", "MSFT", "QQQ"])),
)
def test_gates_never_raise_and_promote_only_when_every_gate_passes_on_finite_figures(result, thresholds, drill, expected):
    report = gates_evaluate(ctx=_context(result, drill, expected), thresholds=thresholds)
    assert [g["name"] for g in report] == [name for _, name, _ in GATES]
    assert {g["status"] for g in report} <= {PASS, FAIL, NOT_EVALUATED, ERROR}
    status, recommendation = gates_verdict(report)
    if recommendation == "promote":
        assert status == "passed" and all(g["status"] == PASS for g in report)
        for gate in report:
            assert gate["observed"] is not None and math.isfinite(float(gate["observed"])), gate
    if any(g["status"] in (FAIL, ERROR) for g in report):
        assert (status, recommendation) == ("failed", "deny")
