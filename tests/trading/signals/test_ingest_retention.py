"""Ingest telemetry is kept for TRADING_INGEST_WINDOW_RETENTION_DAYS, then pruned by the hourly beat task."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from trading.signals.ingest import ingest_windows_prune
from trading.signals.models import IngestWindow
from trading.signals.tasks import prune_ingest_windows

pytestmark = pytest.mark.django_db


def _window(age: timedelta) -> IngestWindow:
    return IngestWindow.objects.create(source="ta", account="paper", started_at=timezone.now() - age, reason="signals_present")


def test_windows_older_than_the_cutoff_go_in_batches_and_newer_ones_stay():
    old = [_window(timedelta(days=40, minutes=i)) for i in range(5)]
    kept = [_window(timedelta(days=10)), _window(timedelta(seconds=5))]
    assert ingest_windows_prune(older_than=timezone.now() - timedelta(days=30), batch_size=2) == len(old)
    assert set(IngestWindow.objects.values_list("id", flat=True)) == {w.pk for w in kept}
    assert ingest_windows_prune(older_than=timezone.now() - timedelta(days=30), batch_size=2) == 0


def test_the_beat_task_keeps_the_configured_days_and_zero_keeps_everything(settings):
    stale, recent = _window(timedelta(days=8)), _window(timedelta(days=6))
    settings.TRADING_INGEST_WINDOW_RETENTION_DAYS = 0
    assert prune_ingest_windows.apply().get() == 0
    assert IngestWindow.objects.count() == 2
    settings.TRADING_INGEST_WINDOW_RETENTION_DAYS = 7
    assert prune_ingest_windows.apply().get() == 1
    assert list(IngestWindow.objects.values_list("id", flat=True)) == [recent.pk]
    assert stale.pk not in IngestWindow.objects.values_list("id", flat=True)
