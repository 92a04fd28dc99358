"""The Alertmanager delivery task: retried with backoff, then dead-lettered."""

from __future__ import annotations

from django.db import OperationalError

from torghut.core.tasks import torghut_task

# --- decisions and executions (issue 4) ---
from trading.alerts.delivery import AlertmanagerError, alert_notification_deliver


@torghut_task(name="trading.notify_alertmanager", bind=True, transient=(AlertmanagerError, OperationalError))
def notify_alertmanager(self, notification_id: int) -> str:
    """Deliver one alert open/close to Alertmanager; retried with backoff, then dead-lettered."""

    return alert_notification_deliver(notification_id=notification_id, final_attempt=self.request.retries >= self.max_retries)
