"""Reads of the research app, for the API, admin and the other apps (governance)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Case, QuerySet, Value, When

from research.models import ResearchFoldMetric, ResearchRun, ResearchRunPicture, ResearchStressMetric
from trading.strategies.models import Strategy, drill_rows_hidden

FINAL_STATUSES = ("passed", "failed")


def research_runs(
    *,
    strategy: str | None = None,
    version: str | None = None,
    status: str | None = None,
    recommendation: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[ResearchRun]:
    """Runs newest first, filtered by strategy name, version, status, recommendation and start time."""
    runs = ResearchRun.objects.all()
    if strategy:
        runs = runs.filter(strategy_name=strategy)
    if version:
        runs = runs.filter(strategy_version=version)
    if status:
        runs = runs.filter(status=status)
    if recommendation:
        runs = runs.filter(recommendation=recommendation)
    if since:
        runs = runs.filter(started_at__gte=since)
    if until:
        runs = runs.filter(started_at__lt=until)
    return runs.order_by("-started_at", "-id")


def research_run_get(*, run_id: str) -> ResearchRun | None:
    return ResearchRun.objects.filter(run_id=run_id).first()


def strategy_variants_tried(*, strategy_name: str, current_version: str) -> int:
    """How many versions of this strategy exist (the current one included): the number of trials the
    deflated Sharpe ratio discounts for. Read from the strategies, not the runs, so a run never waits on
    the runs table it is about to write."""
    versions = set(Strategy.objects.filter(name=strategy_name).values_list("version", flat=True))
    return len(versions | {current_version})


def research_run_folds(*, run: ResearchRun) -> list[dict[str, Any]]:
    fields = ("fold", "mode", "start", "end", "trades", "net_pnl", "sharpe", "max_drawdown", "hit_rate")
    return list(ResearchFoldMetric.objects.filter(run=run).order_by("fold").values(*fields))


def research_run_stress(*, run: ResearchRun) -> list[dict[str, Any]]:
    fields = ("case", "commission_bps", "slippage_bps", "latency_bars", "trades", "net_pnl", "max_drawdown")
    return list(ResearchStressMetric.objects.filter(run=run).order_by("case").values(*fields))


def research_run_picture(*, run: ResearchRun, kind: str) -> ResearchRunPicture | None:
    return ResearchRunPicture.objects.filter(run=run, kind=kind).first()


def research_run_pictures(*, run: ResearchRun) -> list[ResearchRunPicture]:
    return list(ResearchRunPicture.objects.filter(run=run).order_by("kind"))


def research_run_evidence(*, run: ResearchRun) -> dict[str, Any]:
    """The artifacts that justify a run's recommendation: gate report, metrics, window, policy, trace ids."""
    return {
        "run_id": run.run_id,
        "status": run.status,
        "recommendation": run.recommendation,
        "gate_report": run.gate_report,
        "gate_report_trace_id": run.gate_report_trace_id,
        "recommendation_trace_id": run.recommendation_trace_id,
        "metrics": {
            "signals": run.signals,
            "decisions": run.decisions,
            "trades": run.trades,
            "net_pnl": run.net_pnl,
            "max_drawdown": run.max_drawdown,
            "turnover": run.turnover,
            "win_rate": run.win_rate,
            "errors": run.errors,
        },
        "dataset": {"source_table": run.source_table, "window_start": run.window_start, "window_end": run.window_end},
        "policy": {"name": run.policy_name, "version": run.policy_version},
        "strategy": {
            "id": run.strategy_id,
            "name": run.strategy_name,
            "version": run.strategy_version,
            "kind": run.strategy_kind,
            "parameters": run.parameters,
        },
        "target_lane": run.target_lane,
        "failure_reason": run.failure_reason,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "folds": research_run_folds(run=run),
        "stress": research_run_stress(run=run),
        "llm_review": run.llm_review,
        "llm_review_trace_id": run.llm_review_trace_id,
        "pictures": [{"kind": p.kind, "media_type": p.media_type, "sha256": p.sha256} for p in research_run_pictures(run=run)],
    }


def research_failure_streak(*, drill_since: datetime | None = None) -> int:
    """Consecutive runs that could not run (an error, not a gate verdict), newest first.

    A run whose gates failed is the lane working (its strategy lost the argument), so it breaks the
    streak like a passed run; skipped and running runs neither count nor break it. Runs of drill
    strategies count only for a drill's own evaluation, from its start (`drill_since`).
    """
    streak = 0
    runs = ResearchRun.objects.filter(status__in=FINAL_STATUSES).exclude(
        drill_rows_hidden(drill_since=drill_since, flag="strategy__drill", at="started_at")
    )
    errored = Case(When(status="failed", gate_report__has_key="error", then=Value(True)), default=Value(False))
    for failed_to_run in runs.order_by("-started_at", "-id").annotate(errored=errored).values_list("errored", flat=True).iterator():
        if not failed_to_run:
            break
        streak += 1
    return streak


def gate_reports_latest(*, limit: int) -> list[dict[str, Any]]:
    """The newest finished runs' gate reports with their trace ids (for evidence packages)."""
    runs = ResearchRun.objects.exclude(status="running").order_by("-started_at", "-id")[:limit]
    return [
        {
            "run_id": run.run_id,
            "strategy": run.strategy_name,
            "version": run.strategy_version,
            "status": run.status,
            "recommendation": run.recommendation,
            "gate_report": run.gate_report,
            "gate_report_trace_id": run.gate_report_trace_id,
            "recommendation_trace_id": run.recommendation_trace_id,
            "window_start": run.window_start.isoformat(),
            "window_end": run.window_end.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "llm_review": run.llm_review,
            "llm_review_trace_id": run.llm_review_trace_id,
            "picture_sha256": {p.kind: p.sha256 for p in run.pictures.all()},
        }
        for run in runs.prefetch_related("pictures")
    ]


def passed_paper_runs(*, strategy_id: int, version: str) -> int:
    """How many paper simulations of this strategy version passed their gates."""
    return ResearchRun.objects.filter(strategy_id=strategy_id, strategy_version=version, status="passed").count()


def gate_non_error_ratio(*, strategy_id: int, version: str) -> float:
    """Share of gate evaluations (over finished runs of this version) that did not error.

    A run that failed before its gates ran counts as one errored evaluation. No evaluation at all
    gives 0.0, so a checkpoint reading it fails closed.
    """
    total = errors = 0
    reports = ResearchRun.objects.filter(strategy_id=strategy_id, strategy_version=version, status__in=FINAL_STATUSES).values_list(
        "gate_report", flat=True
    )
    for report in reports.iterator():
        gates = report.get("gates") or []
        if not gates and report.get("error"):
            total, errors = total + 1, errors + 1
            continue
        total += len(gates)
        errors += sum(1 for gate in gates if gate.get("status") == "error")
    return (total - errors) / total if total else 0.0


def strategy_versions_with_passing_gates() -> set[tuple[int, str]]:
    """(strategy id, version) pairs that have at least one run whose gates passed."""
    return set(ResearchRun.objects.filter(status="passed").values_list("strategy_id", "strategy_version").distinct())
