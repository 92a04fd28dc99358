"""The Celery app. Configuration lives in `torghut.celeryconfig`, read lazily from Django settings."""
from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "torghut.settings")

app = Celery("torghut", task_cls="torghut.tasks:TorghutTask")
app.config_from_object("torghut.celeryconfig")
app.autodiscover_tasks()
