"""Celery tasks of the research app: the autonomous lane and the replayable run write."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

from research.services import research_lane_run, research_run_persist, research_run_pictures_render
from torghut.core.tasks import torghut_task


@torghut_task(name="research.run_autonomous_lane", transient=(OperationalError, InterfaceError))
def run_autonomous_lane() -> list[str]:
    """Replay the last window through every paper/shadow strategy; returns the run ids written."""

    outcomes = research_lane_run()
    for outcome in outcomes:
        if outcome.persisted:  # charts off the replay's path, on the same queue
            render_pictures.delay(outcome.run_id)
    return [outcome.run_id for outcome in outcomes]


@torghut_task(name="research.render_pictures", transient=(OperationalError, InterfaceError))
def render_pictures(run_id: str) -> list[str]:
    """Draw and store a written run's equity, drawdown and fold charts."""

    return research_run_pictures_render(run_id=run_id)


@torghut_task(name="research.persist_run", transient=(OperationalError, InterfaceError))
def persist_run(payload: dict) -> str:
    """Write (upsert by run_id) a research run payload; the target of replayed research dead letters."""

    return research_run_persist(payload=payload).run_id
