"""Dead-letter services on the real Postgres and Redis (no worker needed)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.utils import timezone

from torghut.core.deadletters import (
    DeadLetterPayload,
    dead_letter_discard,
    dead_letter_record,
    dead_letter_replay,
    dead_letter_spool_append,
    dead_letter_spool_flush,
)
from torghut.core.models import AuditEvent, DeadLetter

pytestmark = pytest.mark.django_db


@pytest.fixture
def spool(tmp_path):
    path = tmp_path / "spool" / "dead_letters.jsonl"
    with override_settings(DEAD_LETTER_SPOOL=path):
        yield path


def _payload(task_id: str = "task-1", **overrides) -> DeadLetterPayload:
    now = timezone.now().isoformat()
    base = DeadLetterPayload(
        task_name="tests.broken_until_fixed",
        task_id=task_id,
        args=["k"],
        kwargs={},
        queue="default",
        exception_class="builtins.ValueError",
        exception_message="boom",
        traceback="Traceback ...",
        retries=0,
        first_failed_at=now,
        last_failed_at=now,
    )
    return replace(base, **overrides)


def test_recording_the_same_task_twice_keeps_one_letter():
    dead_letter_record(payload=_payload())
    dead_letter_record(payload=_payload())
    assert DeadLetter.objects.filter(task_id="task-1").count() == 1


def test_a_spool_flush_moves_every_letter_once_and_empties_the_file(spool):
    dead_letter_spool_append(payload=_payload("a"))
    dead_letter_spool_append(payload=_payload("b"))
    DeadLetter.objects.create(**{**_payload("a").__dict__, "first_failed_at": timezone.now(), "last_failed_at": timezone.now()})
    assert dead_letter_spool_flush() == 2
    assert sorted(DeadLetter.objects.values_list("task_id", flat=True)) == ["a", "b"]
    assert spool.read_text() == ""
    assert dead_letter_spool_flush() == 0


def test_an_unreadable_spool_line_is_set_aside_and_does_not_block_the_rest(spool):
    dead_letter_spool_append(payload=_payload("good"))
    with open(spool, "a") as handle:
        handle.write("{not json\n")
    assert dead_letter_spool_flush() == 1
    assert DeadLetter.objects.filter(task_id="good").exists()
    assert "{not json" in spool.with_suffix(".rejected").read_text()


@pytest.mark.django_db(transaction=True)
def test_replay_with_the_broker_down_leaves_the_letter_pending_and_says_so():
    from django.db import connection

    from tests.conftest import ROOT, worker_env

    letter = dead_letter_record(payload=_payload("down"))
    env = worker_env(database_name=connection.settings_dict["NAME"], CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    script = (
        "import django; django.setup()\n"
        "from torghut.celery import app; app.conf.broker_connection_max_retries = 1; app.conf.task_publish_retry = False\n"
        "from torghut.core.deadletters import dead_letter_replay\n"
        f"dead_letter_replay(dead_letter_id={letter.pk}, actor=None)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "torghut.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "failed to publish" in result.stderr
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.PENDING
    assert letter.replay_task_id == ""


def test_discard_records_who_and_why_and_only_touches_pending_letters(admin_user):
    letter = dead_letter_record(payload=_payload("d"))
    dead_letter_discard(dead_letter_id=letter.pk, actor=admin_user, note="known bad input")
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.DISCARDED
    assert letter.resolved_by == admin_user
    assert AuditEvent.objects.filter(action="dead_letter.discard", object_id=str(letter.pk), reason="known bad input").exists()
    dead_letter_replay(dead_letter_id=letter.pk, actor=admin_user)
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.DISCARDED


def test_pending_letters_are_a_gauge_by_task_on_metrics(client):
    dead_letter_record(payload=_payload("m1"))
    dead_letter_record(payload=_payload("m2"))
    body = client.get("/metrics").content.decode()
    assert 'torghut_dead_letters_pending{task="tests.broken_until_fixed"} 2.0' in body


def test_admin_lists_letters_and_shows_the_traceback(admin_client):
    letter = dead_letter_record(payload=_payload("adm", traceback="Traceback (most recent call last): boom-here"))
    listing = admin_client.get("/admin/torghut/deadletter/?status__exact=pending")
    assert listing.status_code == 200 and b"adm" in listing.content
    detail = admin_client.get(f"/admin/torghut/deadletter/{letter.pk}/change/")
    assert detail.status_code == 200 and b"boom-here" in detail.content


def test_admin_discard_action_needs_the_replay_permission(client, django_user_model):
    letter = dead_letter_record(payload=_payload("perm"))
    staff = django_user_model.objects.create_user("staff", password="staff-pass-123", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_deadletter"))
    client.force_login(staff)
    client.post("/admin/torghut/deadletter/", {"action": "discard_selected", "_selected_action": [letter.pk]})
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.PENDING
    staff.user_permissions.add(Permission.objects.get(codename="replay_deadletter"))
    client.post("/admin/torghut/deadletter/", {"action": "discard_selected", "_selected_action": [letter.pk]})
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.DISCARDED
