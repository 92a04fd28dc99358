"""The beat schedule: one dict of named entries, each with its task, interval, queue and expiry.

An entry's `expires` is at most its interval, so a backlog after an outage never replays stale polls.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from torghut.core.queues import Queue


def _entry(task: str, every: float, queue: Queue, expires: float | None = None) -> dict[str, Any]:
    return {
        "task": task,
        "schedule": every,
        "options": {"queue": queue.value, "expires": expires if expires is not None else every},
    }


BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "flush-dead-letter-spool": _entry("torghut.flush_dead_letter_spool", 30.0, Queue.DEFAULT),
    "ingest-signals": _entry("trading.ingest_signals", settings.TRADING_INGEST_INTERVAL_SECONDS, Queue.INGEST),
    "evaluate-signal-staleness": _entry("trading.evaluate_signal_staleness", settings.TRADING_STALENESS_INTERVAL_SECONDS, Queue.INGEST),
    "evaluate-emergency-stop": _entry("governance.evaluate_emergency_stop", settings.GOVERNANCE_EMERGENCY_STOP_INTERVAL, Queue.GOVERNANCE),
    "research-autonomous-lane": _entry("research.run_autonomous_lane", float(settings.RESEARCH_LANE_INTERVAL_SECONDS), Queue.RESEARCH),
    "reconcile-executions": _entry("trading.reconcile_executions", 15.0, Queue.EXECUTION),
    "prune-ingest-windows": _entry("trading.prune_ingest_windows", 3600.0, Queue.INGEST),
    "audit-signals": _entry("trading.audit_signals", settings.TRADING_SIGNAL_AUDIT_INTERVAL_SECONDS, Queue.INGEST),
    "step-capital-ramps": _entry("governance.step_capital_ramps", settings.GOVERNANCE_CAPITAL_RAMP_INTERVAL, Queue.GOVERNANCE),
    "expire-promotion-requests": _entry("governance.expire_promotion_requests", 300.0, Queue.GOVERNANCE),
    "request-promotions": _entry("governance.request_promotions", 300.0, Queue.GOVERNANCE),
    # One per queue: a queue whose workers all died stops stamping (torghut_worker_heartbeat_age_seconds).
    **{f"heartbeat-{q.value}": _entry(f"torghut.heartbeat.{q.value}", settings.HEARTBEAT_INTERVAL_SECONDS, q) for q in Queue},
}
