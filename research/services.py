"""Writes of the research app: gate policies (audited), research runs (retried, then dead-lettered), the lane."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import traceback
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from research import ports
from research.gates import GateContext, gates_evaluate, gates_verdict
from research.models import DEFAULT_THRESHOLDS, GatePolicy, ResearchFoldMetric, ResearchRun, ResearchRunPicture, ResearchStressMetric
from research.pictures import drawdown_svg, equity_svg, folds_svg
from research.reviewer import llm_review, review_gate, reviewer_enabled
from research.robustness import Robustness, robustness_evaluate
from research.selectors import research_run_folds, strategy_variants_tried
from research.simulation import FillModel, Progress, expected_symbols, paper_replay
from torghut.core.deadletters import DeadLetterPayload, dead_letter_record
from torghut.core.metrics import Counter, Histogram
from torghut.core.models import AuditEvent
from torghut.core.queues import Queue
from trading.strategies.kinds import strategy_kind
from trading.strategies.models import Strategy

logger = logging.getLogger(__name__)

RUNS = Counter("torghut_research_runs_total", "Research runs finished, by status and recommendation.", ["status", "recommendation"])
RUN_SECONDS = Histogram(
    "torghut_research_run_seconds",
    "Wall time of one research run (fetch, simulation, gates).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
PERSIST_FAILURES = Counter(
    "torghut_research_persist_failures_total", "Research run writes that failed, by outcome (retried or dead_lettered).", ["outcome"]
)

PERSIST_TASK = "research.persist_run"
NEXT_LANE = {"research": "paper", "paper": "shadow", "shadow": "live"}
LANE_STRATEGY_LANES = ("paper", "shadow")


# --- gate policies ----------------------------------------------------------------------------


def _policy_state(policy: GatePolicy) -> dict[str, Any]:
    return {"name": policy.name, "version": policy.version, "thresholds": policy.thresholds, "active": policy.active}


def gate_thresholds_validate(thresholds: dict[str, Any]) -> dict[str, float]:
    """Every known threshold, each a number; anything else is refused with the offending keys."""
    unknown = set(thresholds) - set(DEFAULT_THRESHOLDS)
    missing = set(DEFAULT_THRESHOLDS) - set(thresholds)
    if unknown or missing:
        raise ValueError(f"gate thresholds: unknown {sorted(unknown)}, missing {sorted(missing)}")
    try:
        clean = {key: float(value) for key, value in thresholds.items()}
    except (TypeError, ValueError) as exc:
        raise ValueError(f"gate thresholds must be numbers: {exc}") from exc
    out_of_range = [key for key, (low, high) in THRESHOLD_RANGES.items() if not low <= clean[key] <= high]
    if out_of_range:
        raise ValueError(f"gate thresholds out of range: {', '.join(f'{k} in {THRESHOLD_RANGES[k]}' for k in out_of_range)}")
    return clean


# Thresholds that size work or name a choice: bounded so a policy edit cannot make a run unbounded.
THRESHOLD_RANGES: dict[str, tuple[float, float]] = {
    "walk_forward_folds": (1.0, 50.0),
    "walk_forward_anchored": (0.0, 1.0),
    "walk_forward_min_active_folds": (0.0, 50.0),
    "stress_costs_x2": (0.0, 1.0),
    "stress_slippage_x2": (0.0, 1.0),
    "stress_latency_1bar": (0.0, 1.0),
    "commission_bps": (0.0, 1000.0),
    "slippage_bps": (0.0, 1000.0),
    "bootstrap_samples": (1.0, 100_000.0),
    "bootstrap_confidence": (0.5, 0.999),
}


def _deactivate_others(*, keep_id: int | None, actor: str) -> None:
    for other in GatePolicy.objects.select_for_update().filter(active=True).exclude(pk=keep_id):
        old = _policy_state(other)
        other.active = False
        other.version += 1
        other.updated_by = actor
        other.save(update_fields=["active", "version", "updated_by", "updated_at"])
        AuditEvent.objects.create(
            actor=actor,
            action="gate_policy.update",
            object_type="GatePolicy",
            object_id=str(other.pk),
            old=old,
            new=_policy_state(other),
            reason="another policy was activated",
        )


def gate_policy_create(*, name: str, thresholds: dict[str, Any], actor: str, active: bool = False, reason: str = "") -> GatePolicy:
    """Create a policy at version 1 (deactivating the current one if `active`) and audit it."""
    clean = gate_thresholds_validate(thresholds)
    with transaction.atomic():
        if active:
            _deactivate_others(keep_id=None, actor=actor)
        policy = GatePolicy.objects.create(name=name, version=1, thresholds=clean, active=active, updated_by=actor)
        AuditEvent.objects.create(
            actor=actor,
            action="gate_policy.create",
            object_type="GatePolicy",
            object_id=str(policy.pk),
            old=None,
            new=_policy_state(policy),
            reason=reason,
        )
    return policy


def gate_policy_update(
    *, policy_id: int, thresholds: dict[str, Any], actor: str, active: bool | None = None, reason: str = ""
) -> GatePolicy:
    """Change a policy's thresholds (and activity): bumps its version and audits old and new values.

    An edit that changes nothing is not a new version and writes no audit row.
    """
    clean = gate_thresholds_validate(thresholds)
    with transaction.atomic():
        policy = GatePolicy.objects.select_for_update().get(pk=policy_id)
        new_active = policy.active if active is None else active
        if policy.thresholds == clean and policy.active == new_active:
            return policy
        if new_active and not policy.active:
            _deactivate_others(keep_id=policy.pk, actor=actor)
        old = _policy_state(policy)
        policy.thresholds, policy.active, policy.updated_by = clean, new_active, actor
        policy.version += 1
        policy.save(update_fields=["thresholds", "active", "version", "updated_by", "updated_at"])
        AuditEvent.objects.create(
            actor=actor,
            action="gate_policy.update",
            object_type="GatePolicy",
            object_id=str(policy.pk),
            old=old,
            new=_policy_state(policy),
            reason=reason,
        )
    return policy


def gate_policy_ensure_active() -> GatePolicy:
    """The active policy; the first call on an empty database creates `default` from DEFAULT_THRESHOLDS."""
    policy = GatePolicy.objects.filter(active=True).first()
    if policy is not None:
        return policy
    with transaction.atomic():
        existing = GatePolicy.objects.select_for_update().filter(name="default").first()
        if existing is not None:
            return gate_policy_update(
                policy_id=existing.pk, thresholds=existing.thresholds, active=True, actor="system", reason="no active gate policy"
            )
        return gate_policy_create(
            name="default", thresholds=dict(DEFAULT_THRESHOLDS), active=True, actor="system", reason="no gate policy existed"
        )


# --- research runs ----------------------------------------------------------------------------


def trace_id(payload: Any) -> str:
    """sha256 of the canonical JSON of a payload: the same evidence always has the same id."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def research_run_id(
    *,
    strategy_name: str,
    strategy_version: str,
    window_start: datetime,
    window_end: datetime,
    policy_name: str,
    policy_version: int,
    target_lane: str,
    source_table: str,
) -> str:
    """Deterministic 24-hex run id: the same attempt (inputs) always gets the same id."""
    return trace_id(
        {
            "strategy": f"{strategy_name}@{strategy_version}",
            "window": [window_start.astimezone(UTC).isoformat(), window_end.astimezone(UTC).isoformat()],
            "source_table": source_table,
            "policy": f"{policy_name}@{policy_version}",
            "target_lane": target_lane,
        }
    )[:24]


_DATETIME_FIELDS = ("window_start", "window_end", "started_at", "finished_at")
_UPSERT_FIELDS = [f.name for f in ResearchRun._meta.concrete_fields if f.name not in {"id", "run_id", "created_at"}]


def _payload_to_fields(payload: dict[str, Any]) -> dict[str, Any]:
    fields = dict(payload)
    for name in _DATETIME_FIELDS:
        if fields.get(name):
            fields[name] = datetime.fromisoformat(fields[name])
    fields["strategy_id"] = fields.pop("strategy_id")
    return fields


def research_run_persist(*, payload: dict[str, Any], only_if_absent: bool = False) -> ResearchRun:
    """Insert or update the run with this payload's `run_id` (an upsert: replays never duplicate).

    `only_if_absent` inserts without touching an existing row (the `running` marker must never
    overwrite a finished run of the same id).
    """
    fields = _payload_to_fields(payload)
    folds, stress = fields.pop("folds", None), fields.pop("stress", None)
    conflict = (
        {"ignore_conflicts": True}
        if only_if_absent
        else {"update_conflicts": True, "unique_fields": ["run_id"], "update_fields": _UPSERT_FIELDS}
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            # A locked table must fail this write quickly so the caller's retry/backoff can run.
            cursor.execute(f"SET LOCAL lock_timeout = '{int(settings.RESEARCH_PERSIST_LOCK_TIMEOUT_MS)}ms'")
        ResearchRun.objects.bulk_create([ResearchRun(**fields)], **conflict)
        run = ResearchRun.objects.get(run_id=payload["run_id"])
        if not only_if_absent and folds is not None and stress is not None:
            # The run's rows are replaced whole, so a replayed payload leaves exactly its own folds and cases.
            run.folds.all().delete()
            run.stress.all().delete()
            ResearchFoldMetric.objects.bulk_create(
                ResearchFoldMetric(run=run, **{**f, "start": datetime.fromisoformat(f["start"]), "end": datetime.fromisoformat(f["end"])})
                for f in folds
            )
            ResearchStressMetric.objects.bulk_create(ResearchStressMetric(run=run, **m) for m in stress)
    return run


def _close_broken_connection() -> None:
    if connection.in_atomic_block:
        return
    try:
        connection.close()
    except DatabaseError:
        pass


def research_run_record(
    *, payload: dict[str, Any], attempts: int | None = None, backoff_seconds: float | None = None
) -> ResearchRun | None:
    """Persist a run, retrying with exponential backoff; after the last try dead-letter the payload.

    Returns the row, or None when the payload went to the dead letters (replaying the letter runs
    `research.persist_run`, which upserts by run_id, so the run is written exactly once).
    """

    attempts = attempts or settings.RESEARCH_PERSIST_ATTEMPTS
    backoff = settings.RESEARCH_PERSIST_BACKOFF_SECONDS if backoff_seconds is None else backoff_seconds
    first_failed_at: str | None = None
    last_exc: BaseException | None = None
    for attempt in range(1, attempts + 1):
        try:
            return research_run_persist(payload=payload)
        except DatabaseError as exc:
            last_exc = exc
            first_failed_at = first_failed_at or timezone.now().isoformat()
            logger.warning("research run %s write failed (try %d/%d): %s", payload["run_id"], attempt, attempts, exc)
            _close_broken_connection()
            if attempt < attempts:
                PERSIST_FAILURES.labels(outcome="retried").inc()
                time.sleep(backoff * 2 ** (attempt - 1))
    PERSIST_FAILURES.labels(outcome="dead_lettered").inc()
    dead_letter_record(
        payload=DeadLetterPayload(
            task_name=PERSIST_TASK,
            task_id=f"research-{payload['run_id']}-{uuid.uuid4().hex[:16]}",
            args=[],
            kwargs={"payload": payload},
            queue=Queue.RESEARCH.value,
            exception_class=f"{type(last_exc).__module__}.{type(last_exc).__qualname__}",
            exception_message=str(last_exc)[:10_000],
            traceback="".join(traceback.format_exception(last_exc))[:100_000],
            retries=attempts - 1,
            first_failed_at=first_failed_at or timezone.now().isoformat(),
        )
    )
    return None


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    payload: dict[str, Any]
    persisted: bool


def _fill_model(params: dict[str, Any], *, thresholds: dict[str, Any]) -> FillModel:
    # The policy's cost model is a floor: a strategy may declare dearer fills, never cheaper ones.
    return FillModel(
        slippage_bps=max(float(params.get("slippage_bps", settings.RESEARCH_SLIPPAGE_BPS)), float(thresholds.get("slippage_bps", 0.0))),
        fee_bps=max(float(params.get("fee_bps", settings.RESEARCH_FEE_BPS)), float(thresholds.get("commission_bps", 0.0))),
        notional=float(params.get("notional", settings.RESEARCH_TRADE_NOTIONAL)),
        capital=float(settings.RESEARCH_CAPITAL),
    )


def _finish(
    base: dict[str, Any],
    *,
    status: str,
    recommendation: str,
    gate_report: dict[str, Any],
    metrics: dict[str, Any],
    failure_reason: str,
    finished_at: datetime | None,
    robustness: Robustness | None = None,
    review: dict[str, Any] | None = None,
) -> dict[str, Any]:
    gate_report_trace_id = trace_id(gate_report)
    recommendation_payload = {
        "run_id": base["run_id"],
        "status": status,
        "recommendation": recommendation,
        "target_lane": base["target_lane"],
        "gate_report_trace_id": gate_report_trace_id,
    }
    return {
        **base,
        "status": status,
        "signals": int(metrics.get("signals", 0)),
        "decisions": int(metrics.get("decisions", 0)),
        "trades": int(metrics.get("trades", 0)),
        "net_pnl": float(metrics.get("net_pnl", 0.0)),
        "max_drawdown": float(metrics.get("max_drawdown", 0.0)),
        "turnover": float(metrics.get("turnover", 0.0)),
        "win_rate": metrics.get("win_rate"),
        "errors": int(metrics.get("errors", 0)),
        "gate_report": gate_report,
        "gate_report_trace_id": gate_report_trace_id,
        "recommendation": recommendation,
        "recommendation_trace_id": trace_id(recommendation_payload),
        "failure_reason": failure_reason,
        "finished_at": finished_at.isoformat() if finished_at else None,
        "equity_curve": robustness.equity_curve if robustness else [],
        "llm_review": review or {},
        "llm_review_trace_id": trace_id(review) if review else "",
        "folds": [_fold_row(fold, mode=robustness.fold_mode) for fold in robustness.folds] if robustness else [],
        "stress": [asdict(metric) for metric in robustness.stress] if robustness else [],
    }


def _fold_row(fold: Any, *, mode: str) -> dict[str, Any]:
    row = asdict(fold)
    row.update(mode=mode, start=fold.start.isoformat(), end=fold.end.isoformat())
    return row


def research_run_execute(
    *,
    strategy_id: int,
    window_start: datetime,
    window_end: datetime,
    source_table: str,
    policy: GatePolicy,
    trigger: str = ResearchRun.Trigger.AUTONOMOUS,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> RunOutcome:
    """Run one paper simulation and its gates, and persist the run whatever happens.

    No signals: `skipped`. Any exception: `failed` with the error. Otherwise `passed`/`failed` from the
    gates. Every path carries a recommendation and both trace ids.
    """

    strategy = Strategy.objects.get(pk=strategy_id)
    now = now or timezone.now()
    target_lane = NEXT_LANE.get(strategy.lane, strategy.lane)
    run_id = research_run_id(
        strategy_name=strategy.name,
        strategy_version=strategy.version,
        window_start=window_start,
        window_end=window_end,
        policy_name=policy.name,
        policy_version=policy.version,
        target_lane=target_lane,
        source_table=source_table,
    )
    base = {
        "run_id": run_id,
        "trigger": str(trigger),
        "strategy_id": strategy.pk,
        "strategy_name": strategy.name,
        "strategy_version": strategy.version,
        "strategy_kind": strategy.kind,
        "parameters": strategy.parameters,
        "window_start": window_start.isoformat(),
        "window_end": window_end.isoformat(),
        "source_table": source_table,
        "target_lane": target_lane,
        "policy_name": policy.name,
        "policy_version": policy.version,
        "started_at": now.isoformat(),
    }
    report_base = {
        "run_id": run_id,
        "policy": {"name": policy.name, "version": policy.version, "thresholds": policy.thresholds},
        "window": {"start": base["window_start"], "end": base["window_end"], "source_table": source_table},
    }
    started = time.perf_counter()
    try:
        research_run_persist(
            payload=_finish(
                base,
                status="running",
                recommendation="hold",
                gate_report={**report_base, "gates": []},
                metrics={},
                failure_reason="",
                finished_at=None,
            ),
            only_if_absent=True,
        )
    except DatabaseError as exc:  # the final write below retries and dead-letters; `running` is only a courtesy
        logger.warning("research run %s: running marker not written: %s", run_id, exc)
        _close_broken_connection()

    robustness, review = None, None
    try:
        kind = strategy_kind(strategy.kind)
        params = strategy.parameters or {}
        fill = _fill_model(params, thresholds=policy.thresholds)
        cols, result = paper_replay(
            table=source_table, start=window_start, end=window_end, kind=kind, params=params, fill=fill, progress=progress
        )
        metrics = result.metrics()
        if result.signals == 0:
            status, recommendation, reason = "skipped", "hold", "no_signals_in_window"
            gate_report = {**report_base, "gates": [], "metrics": metrics, "reason": reason}
        else:
            lookback = timedelta(seconds=settings.RESEARCH_COVERAGE_LOOKBACK_SECONDS)
            robustness, robustness_error = _robustness(
                cols,
                result=result,
                kind=kind,
                params=params,
                fill=fill,
                start=window_start,
                end=window_end,
                strategy=strategy,
                policy=policy,
            )
            ctx = GateContext(
                result=result,
                window_start=window_start,
                window_end=window_end,
                expected_symbols=expected_symbols(table=source_table, since=window_start - lookback, end=window_end),
                now=now,
                last_drill_at=ports.last_passing_drill_at,
                robustness=robustness,
                robustness_error=robustness_error,
            )
            gates = gates_evaluate(ctx=ctx, thresholds=policy.thresholds)
            status, recommendation = gates_verdict(gates)
            figures = robustness.report() if robustness else {"error": robustness_error}
            gate_report = {**report_base, "gates": gates, "metrics": metrics, "robustness": figures}
            if reviewer_enabled() and status == "passed":
                if progress:
                    progress("asking the LLM reviewer")
                review = llm_review(gate_report=gate_report, gate_report_trace_id=trace_id(gate_report))
                gates = [*gates, review_gate(review)]
                status, recommendation = gates_verdict(gates)
                gate_report = {**gate_report, "gates": gates}
            failing = [g["name"] for g in gates if g["status"] in ("fail", "error")]
            reason = f"gates not passed: {', '.join(failing)}" if failing else ""
    except Exception as exc:  # every attempt is recorded: the failure itself is the evidence
        logger.exception("research run %s failed", run_id)
        status, recommendation, reason = "failed", "deny", f"{type(exc).__name__}: {exc}"[:2000]
        metrics = {}
        gate_report = {**report_base, "gates": [], "error": reason}
    if progress:
        progress(f"gates: {status}, recommendation {recommendation}")
    payload = _finish(
        base,
        status=status,
        recommendation=recommendation,
        gate_report=gate_report,
        metrics=metrics,
        failure_reason=reason,
        finished_at=timezone.now(),
        robustness=robustness,
        review=review,
    )
    RUN_SECONDS.observe(time.perf_counter() - started)
    RUNS.labels(status=status, recommendation=recommendation).inc()
    return RunOutcome(run_id=run_id, payload=payload, persisted=research_run_record(payload=payload) is not None)


def _robustness(cols, *, result, kind, params, fill, start, end, strategy, policy) -> tuple[Robustness | None, str | None]:
    # A robustness figure that raises is recorded against its gates (as `error`), never the whole run.
    try:
        trials = strategy_variants_tried(strategy_name=strategy.name, current_version=strategy.version)
        return robustness_evaluate(
            cols, result=result, kind=kind, params=params, fill=fill, start=start, end=end, thresholds=policy.thresholds, trials=trials
        ), None
    except Exception as exc:  # noqa: BLE001  (evidence, not a crash)
        logger.exception("research run robustness failed")
        return None, f"{type(exc).__name__}: {exc}"[:500]


def lane_window(*, now: datetime) -> tuple[datetime, datetime]:
    """The window the lane replays at `now`: aligned to the beat interval so a re-run has the same run id."""
    interval = settings.RESEARCH_LANE_INTERVAL_SECONDS
    end_epoch = int(now.timestamp()) // interval * interval
    end = datetime.fromtimestamp(end_epoch, tz=UTC)
    return end - timedelta(seconds=settings.RESEARCH_LANE_WINDOW_SECONDS), end


def research_lane_run(*, now: datetime | None = None) -> list[RunOutcome]:
    """One autonomous lane pass: a research run for every enabled strategy in paper or shadow."""

    now = now or timezone.now()
    start, end = lane_window(now=now)
    policy = gate_policy_ensure_active()
    strategy_ids = list(Strategy.objects.filter(lane__in=LANE_STRATEGY_LANES, enabled=True).order_by("pk").values_list("pk", flat=True))
    return [
        research_run_execute(
            strategy_id=sid,
            window_start=start,
            window_end=end,
            source_table=settings.RESEARCH_SOURCE_TABLE,
            policy=policy,
            trigger=ResearchRun.Trigger.AUTONOMOUS,
            now=now,
        )
        for sid in strategy_ids
    ]


# --- pictures ---------------------------------------------------------------------------------


def research_run_pictures_render(*, run_id: str) -> list[str]:
    """Draw and store (replacing) the run's equity, drawdown and fold charts; returns the kinds written.

    Runs after the run is written (task `research.render_pictures`): the charts are read from stored rows.
    """
    run = ResearchRun.objects.get(run_id=run_id)
    title = f"{run.strategy_name}@{run.strategy_version}"
    folds = research_run_folds(run=run)
    drawn = {
        ResearchRunPicture.Kind.EQUITY: equity_svg(curve=run.equity_curve, title=title),
        ResearchRunPicture.Kind.DRAWDOWN: drawdown_svg(curve=run.equity_curve, capital=float(settings.RESEARCH_CAPITAL), title=title),
        ResearchRunPicture.Kind.FOLDS: folds_svg(folds=folds, title=title),
    }
    for kind, svg in drawn.items():
        ResearchRunPicture.objects.update_or_create(
            run=run,
            kind=kind,
            defaults={"media_type": "image/svg+xml", "content": svg, "sha256": hashlib.sha256(svg.encode()).hexdigest()},
        )
    return [str(kind) for kind in drawn]
