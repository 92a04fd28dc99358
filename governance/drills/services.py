"""The rollback drill: break one part of a paper / simulated stack for real, let the emergency stop
halt it, check the evidence and the recovery path, repair the fault and record a DrillRun.

Faults are real: the lag and staleness drills pause the market simulator (over its control
endpoint) and poll ingest until the gap shows; the fallback drill makes the local LEAN venue answer
503 and sends orders that fall back along the router's chain; the drawdown drill books losing round
trips through the order path; the research drill runs research against a source table that does
not exist. What the drill creates belongs to drill strategies (`Strategy.drill`): only the drill's
own evaluations see it, so a finished drill never halts trading again. While a drill runs, it is the
evaluator (the beat evaluation skips), and it compresses time: the lag limit is
GOVERNANCE_DRILL_SIGNAL_LAG_SECONDS and the simulated market counts as open.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone

from governance.drills.models import DrillRun
from governance.emergency.measures import BREACH, RECOVERABLE, UNREADABLE, emergency_inputs_collect
from governance.emergency.models import Trigger, TriggerState
from governance.emergency.selectors import kill_switch_state
from governance.emergency.services import emergency_stop_evaluate, emergency_stop_policies_ensure
from governance.errors import GovernanceError
from governance.evidence.models import EvidencePackage
from governance.evidence.selectors import evidence_chain_verify
from governance.evidence.services import evidence_package_missing_sections
from governance.killswitch.models import KillSwitchState
from governance.killswitch.selectors import kill_switch_gate_policy
from governance.killswitch.services import kill_switch_release_after_drill
from governance.lanes.models import LaneChangeCause
from research.models import ResearchRun
from research.services import gate_policy_ensure_active, research_run_execute
from trading.orders.selectors import execution_fallback_ratio
from trading.orders.services import decision_plan, decision_submit
from trading.pnl.selectors import pnl_session
from trading.signals import source as signal_source
from trading.signals.ingest import signals_ingest
from trading.strategies.models import Lane, Strategy
from trading.strategies.selectors import strategy_ids_in_lane
from trading.strategies.services import strategy_drill_ensure

logger = logging.getLogger(__name__)
DRILL_ACTOR = "drill"
DRILL_SYMBOL = "DRILL"
DRILL_PRICE = Decimal("100")
# Command-line names (the issue's) of the faults, and the trigger each one exercises.
DRILL_TRIGGERS: dict[str, str] = {
    "lag": Trigger.SIGNAL_LAG,
    "staleness": Trigger.STALENESS_STREAK,
    "lane_failures": Trigger.RESEARCH_FAILURES,
    "fallback": Trigger.FALLBACK_RATIO,
    "drawdown": Trigger.PNL_DRAWDOWN,
}


class DrillFaultError(Exception):
    """The fault could not be injected or repaired (a control endpoint is missing or refused)."""


def simulator_control_url() -> str:
    return settings.GOVERNANCE_DRILL_SIMULATOR_URL or f"http://127.0.0.1:{settings.SIMULATOR_PORT}/control"


def venue_control_url(*, path: str = "/_venue/switches") -> str:
    return (settings.GOVERNANCE_DRILL_VENUE_URL or settings.TRADING_LEAN_URL).rstrip("/") + path


def _http(method: str, url: str, **kwargs) -> dict:
    try:
        response = requests.request(method, url, timeout=2.0, **kwargs)
    except requests.RequestException as exc:
        raise DrillFaultError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise DrillFaultError(f"{method} {url}: HTTP {response.status_code} {response.text[:200]}")
    return response.json()


def drill_in_progress() -> bool:
    """A drill is running (its DrillRun is open and younger than the longest a drill can take)."""
    horizon = timezone.now() - timedelta(seconds=3 * settings.GOVERNANCE_DRILL_PHASE_TIMEOUT_SECONDS + 60)
    return DrillRun.objects.filter(finished_at__isnull=True, started_at__gte=horizon).exists()


def _drill_strategy(name: str, *, adapter: str = "") -> Strategy:
    strategy = strategy_drill_ensure(name=f"drill-{name}", adapter=adapter)
    if not strategy.drill:
        raise DrillFaultError(f"strategy {strategy} exists and is not a drill strategy")
    return strategy


@dataclass
class Drill:
    """One drill run's state: the fault's own work is done by the functions of `FAULTS`."""

    run: DrillRun
    trigger: str
    fault: dict[str, Any] = field(default_factory=dict)
    orders: int = 0

    def order(self, strategy, *, side: str, quantity: Decimal, price: Decimal):
        """Send one drill order through the real submission path (risk checks, router, adapters)."""
        self.orders += 1
        key = f"drill|{self.run.pk}|{self.trigger}|{self.orders}"
        decision = decision_plan(
            strategy=strategy,
            account=settings.TRADING_ACCOUNT,
            symbol=DRILL_SYMBOL,
            side=side,
            quantity=quantity,
            price=price,
            decision_hash="dr" + hashlib.sha256(key.encode()).hexdigest()[:38],
            rationale={"drill_run": self.run.pk, "trigger": self.trigger},
            seq=self.orders,
        )
        execution = decision_submit(decision_id=decision.pk)
        if execution is None:
            decision.refresh_from_db()
            return None, decision.reject_reason or decision.status
        return execution, ""

    def order_taken(self, strategy, *, side: str, quantity: Decimal, price: Decimal, deadline: float):
        """`order`, waiting out the account's orders-per-second throttle until `deadline`; any other
        refusal (or the deadline) fails the fault."""
        while True:
            execution, reason = self.order(strategy, side=side, quantity=quantity, price=price)
            if execution is not None:
                return execution
            if reason != "orders_per_second" or time.monotonic() >= deadline:
                raise DrillFaultError(f"a {self.trigger} drill order was refused: {reason}")
            self.fault["orders_throttled"] = self.fault.get("orders_throttled", 0) + 1
            time.sleep(1.0 / max(1, settings.TRADING_MAX_ORDERS_PER_SECOND))


def _ingest_poll(drill: Drill) -> None:
    # The drill polls between beat's polls, so it often finds nothing new; a fresh tail probe keeps the lag
    # of such an empty poll true (a cached probe would make it look up to the cache age older).
    signal_source.probe_forget()
    signals_ingest(source=settings.TRADING_SIGNAL_SOURCE, account=settings.TRADING_ACCOUNT, shard=0)


def _pause_simulator(drill: Drill) -> None:
    answer = _http("POST", simulator_control_url(), params={"mode": "pause"})
    drill.fault.update(simulator=simulator_control_url(), simulator_mode="pause", previous_mode=answer.get("mode"))
    if answer.get("mode") != "pause":
        raise DrillFaultError(f"the simulator did not pause: {answer}")


def _resume_simulator(drill: Drill) -> None:
    answer = _http("POST", simulator_control_url(), params={"mode": "normal"})
    drill.fault["repaired"] = f"simulator mode {answer.get('mode')}"


def _fail_venue(drill: Drill) -> None:
    """Make the LEAN venue answer 503, then send orders to it until fallbacks pass the budget."""
    _http("POST", venue_control_url(), json={"fail_status": 503})
    drill.fault.update(venue=venue_control_url(), venue_fail_status=503, orders_sent=0, fallback_reasons=[])
    _fallback_top_up(drill)


def _trading_active() -> bool:
    return kill_switch_gate_policy().allows == "all"


def _fallback_top_up(drill: Drill) -> None:
    """Send one-share drill orders (alternating sides) until the window's fallback ratio is a margin over
    the budget: the stack's own orders keep arriving during the drill and dilute it."""
    if not _trading_active():
        return  # halted (perhaps by another trigger): orders would be refused, and the drill waits on
    policy = emergency_stop_policies_ensure()[Trigger.FALLBACK_RATIO]
    window, min_orders = int(policy.params.get("window_seconds", 1800)), int(policy.params.get("min_orders", 20))
    target = policy.threshold + (1 - policy.threshold) * 0.1
    ratio, total = execution_fallback_ratio(window_seconds=window, drill_since=drill.run.started_at)
    fallbacks = round(ratio * total)
    # f more fallbacks make (fallbacks + f) / (total + f) reach the target, with at least min_orders in all.
    needed = max(min_orders - total, math.ceil((target * total - fallbacks) / (1 - target)), 0)
    strategy = _drill_strategy("venue", adapter="lean")
    reasons = set(drill.fault["fallback_reasons"])
    deadline = time.monotonic() + settings.GOVERNANCE_DRILL_PHASE_TIMEOUT_SECONDS
    for _ in range(needed):
        side = "buy" if drill.fault["orders_sent"] % 2 == 0 else "sell"
        execution = drill.order_taken(strategy, side=side, quantity=Decimal(1), price=DRILL_PRICE, deadline=deadline)
        drill.fault["orders_sent"] += 1
        if execution.fallback_reason:
            reasons.add(execution.fallback_reason)
        time.sleep(1.0 / max(1, settings.TRADING_MAX_ORDERS_PER_SECOND))  # keep under the throttle
    drill.fault["fallback_reasons"] = sorted(reasons)


def _repair_venue(drill: Drill) -> None:
    _http("POST", venue_control_url(), json={"fail_status": 0})
    drill.fault["repaired"] = "venue answers again"


def _book_losses(drill: Drill) -> None:
    """Round trips bought at the drill price and sold at half of it until the session drawdown passes the limit."""

    if not _trading_active():
        return
    policy = emergency_stop_policies_ensure()[Trigger.PNL_DRAWDOWN]
    strategy = _drill_strategy("losses", adapter="simulated")
    limit = min(settings.TRADING_MAX_ORDER_NOTIONAL, settings.TRADING_MAX_POSITION_NOTIONAL) * 0.9
    quantity = Decimal(max(1, int(limit // float(DRILL_PRICE))))
    deadline = time.monotonic() + settings.GOVERNANCE_DRILL_PHASE_TIMEOUT_SECONDS
    rounds = 0
    while True:
        pnl = pnl_session(drill_since=drill.run.started_at)
        loss, capital = max(0.0, -pnl.total), pnl.allocated_capital
        if pnl.drawdown_ratio > policy.threshold:
            break
        if rounds >= 200:
            raise DrillFaultError(f"200 losing round trips did not pass the drawdown limit (loss {loss:.2f} of {capital:.2f})")
        for side, price in (("buy", DRILL_PRICE), ("sell", DRILL_PRICE / 2)):
            drill.order_taken(strategy, side=side, quantity=quantity, price=price, deadline=deadline)
        rounds += 1
    drill.fault.update(
        losing_round_trips=drill.fault.get("losing_round_trips", 0) + rounds,
        quantity=str(quantity),
        loss=round(loss, 2),
        allocated_capital=capital,
    )


def _fail_research(drill: Drill) -> None:
    """Research runs against a source table that does not exist: each one fails for real."""
    policy = emergency_stop_policies_ensure()[Trigger.RESEARCH_FAILURES]
    strategy = _drill_strategy("research")
    gate_policy = gate_policy_ensure_active()
    table = settings.GOVERNANCE_DRILL_RESEARCH_TABLE
    end = timezone.now().replace(microsecond=0)
    failed = []
    for index in range(max(1, math.ceil(policy.threshold))):
        window_end = end - timedelta(seconds=index)
        outcome = research_run_execute(
            strategy_id=strategy.pk,
            window_start=window_end - timedelta(minutes=30),
            window_end=window_end,
            source_table=table,
            policy=gate_policy,
            trigger=ResearchRun.Trigger.DRILL,
        )
        if outcome.payload["status"] != "failed":
            raise DrillFaultError(f"a research run on {table!r} did not fail ({outcome.payload['status']}): the table must not exist")
        failed.append(outcome.run_id)
    drill.fault.update(research_table=table, failed_runs=failed, failure_reason=outcome.payload["failure_reason"][:300])


def _nothing(drill: Drill) -> None:
    return None


@dataclass(frozen=True)
class Fault:
    inject: Callable[[Drill], None]
    repair: Callable[[Drill], None]
    describe: str
    sustain: Callable[[Drill], None] = _nothing  # each tick until the halt: keep the fault's size up


# Every tick polls ingest before it evaluates, so the signal inputs are the stack's own (and, for the
# paused simulator, the poll is what sees the gap).
FAULTS: dict[str, Fault] = {
    Trigger.SIGNAL_LAG: Fault(_pause_simulator, _resume_simulator, "pause the market simulator"),
    Trigger.STALENESS_STREAK: Fault(_pause_simulator, _resume_simulator, "pause the market simulator"),
    Trigger.FALLBACK_RATIO: Fault(_fail_venue, _repair_venue, "make the LEAN venue answer 503", sustain=_fallback_top_up),
    Trigger.PNL_DRAWDOWN: Fault(_book_losses, _nothing, "book losing round trips", sustain=_book_losses),
    Trigger.RESEARCH_FAILURES: Fault(_fail_research, _nothing, "run research on a missing source"),
}


def drill_preconditions(*, trigger: str | None = None) -> list[str]:
    """Why a drill may not run now: it needs an active switch, no live strategy, no other drill, and
    the control endpoint its fault uses."""
    problems = []
    if kill_switch_state()["state"] != KillSwitchState.ACTIVE:
        problems.append("the kill switch is not active: a drill must not mask or lift a real halt")
    live = len(strategy_ids_in_lane(lane=Lane.LIVE))
    if live:
        problems.append(f"{live} live strateg{'y' if live == 1 else 'ies'}: drills run on a paper / simulated setup")
    if drill_in_progress():
        problems.append("another drill is running")
    try:
        if trigger in (Trigger.SIGNAL_LAG, Trigger.STALENESS_STREAK):
            _http("GET", simulator_control_url())
        elif trigger == Trigger.FALLBACK_RATIO:
            _http("GET", venue_control_url(path="/_venue/stats"))
    except DrillFaultError as exc:
        problems.append(f"the fault cannot be injected: {exc}")
    return problems


def _overrides(trigger: str) -> dict[str, dict[str, Any]]:
    if trigger == Trigger.SIGNAL_LAG:
        return {Trigger.SIGNAL_LAG: {"threshold": settings.GOVERNANCE_DRILL_SIGNAL_LAG_SECONDS}}
    return {}


def _tick(drill: Drill, *, lane_cause: str):
    _ingest_poll(drill)
    inputs = emergency_inputs_collect(drill_since=drill.run.started_at)
    inputs.market_open = True  # the simulated market trades around the clock
    return emergency_stop_evaluate(inputs=inputs, lane_cause=lane_cause, actor=DRILL_ACTOR, policy_overrides=_overrides(drill.trigger))


def _firing(trigger: str) -> bool:
    return TriggerState.objects.filter(trigger=trigger, firing=True).exists()


def drill_run(*, trigger: str, progress: Callable[[str], None] | None = None) -> DrillRun:
    """Drill one trigger end to end and record the run (passed only if every check passed)."""
    say = progress or (lambda message: None)
    if trigger not in FAULTS:
        raise GovernanceError(f"no drill for trigger {trigger!r}; drills: {', '.join(FAULTS)}")
    problems = drill_preconditions(trigger=trigger)
    if problems:
        raise GovernanceError("; ".join(problems))
    policy = emergency_stop_policies_ensure()[trigger]
    fault = FAULTS[trigger]
    run = DrillRun.objects.create(trigger=trigger, started_at=timezone.now())
    drill = Drill(run=run, trigger=trigger, fault={"fault": fault.describe})
    checks: dict[str, bool] = {}
    tick = settings.GOVERNANCE_DRILL_TICK_SECONDS
    timeout = settings.GOVERNANCE_DRILL_PHASE_TIMEOUT_SECONDS
    repaired = False
    try:
        # The trigger must be healthy before the fault, or the halt would prove nothing about the fault.
        before = next(m for m in _tick(drill, lane_cause=LaneChangeCause.DRILL).measurements if m.trigger == trigger)
        drill.fault["before"] = {"status": before.status, "value": before.value, "threshold": before.threshold}
        checks["healthy_before"] = before.status not in (BREACH, UNREADABLE)
        if not checks["healthy_before"]:
            raise DrillFaultError(f"{trigger} was already {before.status} before the fault ({before.detail or before.value})")
        say(f"{trigger}: injecting the fault: {fault.describe}")
        injected = time.perf_counter()
        fault.inject(drill)
        drill.fault["injected_in_seconds"] = round(time.perf_counter() - injected, 3)  # e.g. the orders a fault needs
        halt, halted_at, fired = None, None, []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fault.sustain(drill)
            before = time.perf_counter()
            result = _tick(drill, lane_cause=LaneChangeCause.DRILL)
            if result.halt is not None:
                fired += result.fired
                if halted_at is None:
                    halted_at = before - injected + result.halt.time_to_halt_seconds
                    run.time_to_cancel_seconds = before - injected + result.halt.time_to_cancel_seconds
                if trigger in result.fired:
                    halt = result.halt
                    break
            time.sleep(tick)
        run.time_to_halt_seconds = halted_at
        drill.fault["fired"] = fired
        say(f"{trigger}: {'halted' if halt else 'NOT halted'} after {halted_at or timeout:.2f} s (fired: {', '.join(fired) or 'nothing'})")
        checks["halted"] = halt is not None and _firing(trigger)
        checks["order_path_refuses"] = kill_switch_gate_policy().allows == "none"
        if halt is not None:
            run.evidence = EvidencePackage.objects.get(pk=halt.evidence_id)
            missing = evidence_package_missing_sections(run.evidence)
            checks["evidence_complete"] = not missing
            checks["cancel_complete"] = bool(halt.cancel_results) and not any(r.get("error") for r in halt.cancel_results)
            run.error = ("evidence incomplete: " + ", ".join(missing)) if missing else ""
        checks["evidence_chain_valid"] = not evidence_chain_verify()

        say(f"{trigger}: repairing the fault")
        fault.repair(drill)
        repaired = True
        expected = KillSwitchState.REDUCING if trigger in RECOVERABLE else KillSwitchState.HALTED
        state, evaluations = None, 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = _tick(drill, lane_cause=LaneChangeCause.DRILL).state
            evaluations += 1
            if state == KillSwitchState.REDUCING or (expected == KillSwitchState.HALTED and evaluations >= policy.clear_evaluations):
                break
            time.sleep(tick)
        drill.fault["recovery"] = {"state": state, "evaluations": evaluations}
        checks["recovery_path"] = state == expected
        say(f"{trigger}: after the repair the switch is {state} ({evaluations} evaluations; expected {expected})")
        kill_switch_release_after_drill(reason=f"drill {trigger} finished")
        checks["resumed"] = _trading_active()
    except Exception as exc:  # a drill that breaks is a failed drill, recorded with its error
        logger.exception("drill %s failed", trigger)
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        checks.setdefault("completed", False)
    finally:
        if not repaired:
            try:
                fault.repair(drill)
            except Exception as exc:  # keep the first error; say the repair failed too
                drill.fault["repair_error"] = f"{type(exc).__name__}: {exc}"[:500]
    run.checks = checks
    run.fault = drill.fault
    run.passed = bool(checks) and all(checks.values())
    run.finished_at = timezone.now()
    run.save()
    return run
