"""The Celery app. Configuration lives in `torghut.celeryconfig`, read lazily from Django settings."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "torghut.settings")

app = Celery("torghut", task_cls="torghut.core.tasks:TorghutTask")
app.config_from_object("torghut.celeryconfig")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _drop_unusable_connections(task=None, **_kwargs) -> None:
    """Close a Postgres connection that errored or outlived CONN_MAX_AGE; a healthy one is kept
    (Celery's fixup no longer reconnects per task, see CELERY_DB_REUSE_MAX)."""
    # An eager task runs inside its caller's transaction, which must not lose its connection.
    if task is None or getattr(task.request, "is_eager", False):
        return

    close_old_connections()
