"""Dead letters: record, spool while Postgres is down, flush, replay exactly once, discard."""

from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from torghut.core import metrics
from torghut.core.models import AuditEvent, DeadLetter

logger = logging.getLogger(__name__)


@dataclass
class DeadLetterPayload:
    task_name: str
    task_id: str
    args: list[Any]
    kwargs: dict[str, Any]
    queue: str
    exception_class: str
    exception_message: str
    traceback: str
    retries: int
    first_failed_at: str
    last_failed_at: str = field(default_factory=lambda: timezone.now().isoformat())


def dead_letter_record(*, payload: DeadLetterPayload) -> DeadLetter | None:
    """Store a dead letter in Postgres; when Postgres cannot take it, append it to the spool.

    Returns the row, or None when the letter was spooled. Never raises: a failing task must not
    lose its evidence because the database is down at the same moment.
    """
    metrics.TASK_DEAD_LETTERS.labels(task=payload.task_name).inc()
    try:
        return _dead_letter_insert(payload=payload, spooled=False)
    except DatabaseError as exc:
        logger.warning("dead letter for %s spooled: postgres unavailable (%s)", payload.task_id, exc)
        _close_broken_connection()
        dead_letter_spool_append(payload=payload)
        return None


def _close_broken_connection() -> None:

    try:
        connection.close()
    except DatabaseError:
        pass


def _dead_letter_insert(*, payload: DeadLetterPayload, spooled: bool) -> DeadLetter:
    data = asdict(payload)
    data["first_failed_at"] = datetime.fromisoformat(data["first_failed_at"])
    data["last_failed_at"] = datetime.fromisoformat(data["last_failed_at"])
    task_id = data.pop("task_id")
    with transaction.atomic():
        letter, _ = DeadLetter.objects.get_or_create(task_id=task_id, defaults={**data, "spooled": spooled})
    return letter


def _spool_path() -> Path:
    path = Path(settings.DEAD_LETTER_SPOOL)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def dead_letter_spool_append(*, payload: DeadLetterPayload) -> None:
    """Append one letter to the spool file under an exclusive lock, fsync'd before returning."""
    line = json.dumps(asdict(payload), sort_keys=True) + "\n"
    with open(_spool_path(), "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    metrics.DEAD_LETTERS_SPOOLED.inc()


def dead_letter_spool_flush() -> int:
    """Move spooled letters into Postgres; the file is emptied only after every row is stored.

    Inserts are idempotent by task id, so a flush interrupted halfway is safe to repeat.
    Returns how many letters were moved.
    """
    path = _spool_path()
    if not path.exists():
        return 0
    with open(path, "r+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            lines = [line for line in handle.read().splitlines() if line.strip()]
            moved = 0
            for line in lines:
                try:
                    payload = DeadLetterPayload(**json.loads(line))
                except (ValueError, TypeError):
                    logger.error("unreadable dead-letter spool line kept aside: %r", line[:200])
                    _quarantine(line)
                    continue
                _dead_letter_insert(payload=payload, spooled=True)
                moved += 1
            handle.seek(0)
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
            return moved
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _quarantine(line: str) -> None:
    with open(_spool_path().with_suffix(".rejected"), "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def dead_letter_replay(*, dead_letter_id: int, actor) -> DeadLetter:
    """Re-enqueue the original task with its arguments, once.

    The row is locked and flipped to `replayed` before the message is published after commit; a
    second replay finds it replayed and does nothing. A publish failure puts it back to pending.
    """

    with transaction.atomic():
        letter = DeadLetter.objects.select_for_update().get(pk=dead_letter_id)
        if letter.status != DeadLetter.Status.PENDING:
            return letter
        letter.status = DeadLetter.Status.REPLAYED
        letter.replay_task_id = f"replay-{letter.task_id}"[:64]
        letter.resolved_by = actor if getattr(actor, "pk", None) else None
        letter.resolved_at = timezone.now()
        letter.save(update_fields=["status", "replay_task_id", "resolved_by", "resolved_at"])
        AuditEvent.objects.create(
            actor=_actor_name(actor),
            action="dead_letter.replay",
            object_type="DeadLetter",
            object_id=str(letter.pk),
            old={"status": "pending"},
            new={"status": "replayed", "replay_task_id": letter.replay_task_id},
        )

    try:
        current_app.send_task(letter.task_name, args=letter.args, kwargs=letter.kwargs, queue=letter.queue, task_id=letter.replay_task_id)
    except Exception as exc:  # broker down: the replay did not happen, so the letter stays pending
        logger.error("replay of dead letter %s failed to publish: %s", letter.pk, exc)
        DeadLetter.objects.filter(pk=letter.pk).update(
            status=DeadLetter.Status.PENDING, replay_task_id="", resolved_by=None, resolved_at=None
        )
        raise
    metrics.DEAD_LETTERS_REPLAYED.labels(task=letter.task_name).inc()
    return letter


def dead_letter_discard(*, dead_letter_id: int, actor, note: str = "") -> DeadLetter:
    """Mark a pending letter discarded with the operator's note; other states are left alone."""
    with transaction.atomic():
        letter = DeadLetter.objects.select_for_update().get(pk=dead_letter_id)
        if letter.status != DeadLetter.Status.PENDING:
            return letter
        letter.status = DeadLetter.Status.DISCARDED
        letter.resolved_by = actor if getattr(actor, "pk", None) else None
        letter.resolved_at = timezone.now()
        letter.resolution_note = note
        letter.save(update_fields=["status", "resolved_by", "resolved_at", "resolution_note"])
        AuditEvent.objects.create(
            actor=_actor_name(actor),
            action="dead_letter.discard",
            object_type="DeadLetter",
            object_id=str(letter.pk),
            old={"status": "pending"},
            new={"status": "discarded"},
            reason=note,
        )
    return letter


def _actor_name(actor) -> str:
    return getattr(actor, "username", None) or str(actor or "system")


def dead_letters_pending_family():
    """Scrape-time gauge of pending dead letters per task; every project task reports, at zero when none wait."""
    family = GaugeMetricFamily("torghut_dead_letters_pending", "Dead letters waiting for replay or discard.", labels=["task"])
    rows = DeadLetter.objects.filter(status=DeadLetter.Status.PENDING).values("task_name").annotate(n=Count("id"))
    pending = {row["task_name"]: float(row["n"]) for row in rows}
    # Zero series for every task, so dashboards and alerts see them before the first letter.
    current_app.loader.import_default_modules()
    tasks = {name for name in current_app.tasks if name.split(".", 1)[0] in {"torghut", "trading", "research", "governance"}}
    for task in sorted(tasks | set(pending)):
        family.add_metric([task], pending.get(task, 0.0))
    yield family
