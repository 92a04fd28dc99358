"""Persistence that loses nothing: Postgres refuses the run write for real (a table lock held by another
session runs every try into lock_timeout), the payload is dead-lettered after retries, and replaying the
letter once Postgres recovers writes the run exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.db import connection

from research.models import ResearchRun
from research.services import PERSIST_TASK, research_run_persist, research_run_record
from tests.signals import crossing_rows, insert_signals
from torghut.core.deadletters import dead_letter_replay
from torghut.core.models import DeadLetter

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def research_runs_locked() -> Iterator[None]:
    """Another session holds an ACCESS EXCLUSIVE lock on the runs table until the block ends."""
    params = connection.get_connection_params()
    conninfo = psycopg.conninfo.make_conninfo(
        dbname=params.get("dbname") or connection.settings_dict["NAME"],
        user=params.get("user"),
        password=params.get("password"),
        host=params.get("host"),
        port=params.get("port"),
    )
    with psycopg.connect(conninfo) as locker:
        locker.execute("LOCK TABLE research_researchrun IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            locker.rollback()


def _wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _payload(strategy, run_id: str = "0123456789abcdef01234567") -> dict:
    now = datetime(2026, 3, 2, 15, 15, tzinfo=UTC)
    return {
        "run_id": run_id,
        "trigger": "autonomous",
        "strategy_id": strategy.pk,
        "strategy_name": strategy.name,
        "strategy_version": strategy.version,
        "strategy_kind": strategy.kind,
        "parameters": {},
        "window_start": (now - timedelta(minutes=15)).isoformat(),
        "window_end": now.isoformat(),
        "source_table": "ta_signals",
        "target_lane": "shadow",
        "policy_name": "default",
        "policy_version": 1,
        "started_at": now.isoformat(),
        "status": "skipped",
        "signals": 0,
        "decisions": 0,
        "trades": 0,
        "net_pnl": 0.0,
        "max_drawdown": 0.0,
        "turnover": 0.0,
        "win_rate": None,
        "errors": 0,
        "gate_report": {"run_id": run_id, "gates": []},
        "gate_report_trace_id": "d" * 64,
        "recommendation": "hold",
        "recommendation_trace_id": "e" * 64,
        "failure_reason": "no_signals_in_window",
        "finished_at": now.isoformat(),
    }


def test_a_write_refused_by_a_lock_is_retried_then_dead_lettered_and_an_upsert_writes_it_once(make_strategy, settings):
    settings.RESEARCH_PERSIST_LOCK_TIMEOUT_MS = 100
    payload = _payload(make_strategy("macd"))
    with research_runs_locked():
        assert research_run_record(payload=payload, attempts=3, backoff_seconds=0.05) is None
    letter = DeadLetter.objects.get(task_name=PERSIST_TASK)
    assert letter.kwargs == {"payload": payload} and letter.queue == "research"
    assert letter.retries == 2 and "lock timeout" in letter.exception_message
    assert not ResearchRun.objects.exists()

    research_run_persist(payload=letter.kwargs["payload"])
    research_run_persist(payload=letter.kwargs["payload"])
    run = ResearchRun.objects.get()
    assert (run.run_id, run.status, run.failure_reason) == (payload["run_id"], "skipped", "no_signals_in_window")


def test_the_lane_in_a_worker_dead_letters_a_run_postgres_refuses_and_replaying_it_writes_it_exactly_once(
    start_worker, signal_table, make_strategy, admin_user
):
    from research.services import lane_window
    from research.tasks import persist_run, run_autonomous_lane

    worker = start_worker(
        name="research-persist",
        queues="research,research_persist_test",
        include="",
        RESEARCH_SOURCE_TABLE=signal_table,
        RESEARCH_PERSIST_LOCK_TIMEOUT_MS="200",
        RESEARCH_PERSIST_ATTEMPTS="3",
        RESEARCH_PERSIST_BACKOFF_SECONDS="0.1",
    )
    assert worker.proc.poll() is None
    make_strategy("persist-me", lane="paper")
    _, end = lane_window(now=datetime.now(UTC))
    insert_signals(signal_table, crossing_rows("AAPL", end - timedelta(seconds=200), [100, 101, 102, 104, 103], [-1, 1, 1, -1, -1]))

    with research_runs_locked():
        run_autonomous_lane.apply_async(queue="research_persist_test")
        letter = _wait_for(lambda: DeadLetter.objects.filter(task_name=PERSIST_TASK).first(), what="dead-lettered run")
    assert not ResearchRun.objects.exists()
    payload = letter.kwargs["payload"]
    assert payload["strategy_name"] == "persist-me" and payload["status"] == "passed" and payload["trades"] == 2
    assert letter.retries == 2

    dead_letter_replay(dead_letter_id=letter.pk, actor=admin_user)
    dead_letter_replay(dead_letter_id=letter.pk, actor=admin_user)
    run = _wait_for(lambda: ResearchRun.objects.filter(run_id=payload["run_id"]).first(), what="replayed run")
    persist_run.apply_async(kwargs={"payload": payload}, queue="research_persist_test").get(timeout=30)
    assert ResearchRun.objects.filter(run_id=payload["run_id"]).count() == 1 == ResearchRun.objects.count()
    assert run.gate_report_trace_id == payload["gate_report_trace_id"]
    assert run.recommendation_trace_id == payload["recommendation_trace_id"]
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.REPLAYED
