"""Celery tasks of the research app: the autonomous lane and the replayable run write."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

from research.services import research_lane_run, research_run_persist
from torghut.core.tasks import torghut_task


@torghut_task(name="research.run_autonomous_lane", transient=(OperationalError, InterfaceError))
def run_autonomous_lane() -> list[str]:
    """Replay the last window through every paper/shadow strategy; returns the run ids written."""

    return [outcome.run_id for outcome in research_lane_run()]


@torghut_task(name="research.persist_run", transient=(OperationalError, InterfaceError))
def persist_run(payload: dict) -> str:
    """Write (upsert by run_id) a research run payload; the target of replayed research dead letters."""

    return research_run_persist(payload=payload).run_id
