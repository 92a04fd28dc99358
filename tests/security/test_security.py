"""Regression tests for the holes of issue 18: each one fails on the code before the fix."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from knox.models import AuthToken

from governance.emergency.services import emergency_stop_policy_update
from governance.errors import GovernanceError, GovernancePermissionDenied
from governance.evidence.models import EvidencePackage
from governance.evidence.selectors import evidence_chain_verify
from governance.evidence.services import evidence_package_write
from governance.killswitch.services import kill_switch_engage, kill_switch_resume
from governance.promotion.models import PromotionRequest
from tests.factories import operator_create, strategy_create
from torghut.core.checks import dev_superuser_check, production_secrets_check
from torghut.core.security import DEV_SECRET_KEY

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
STRONG = "x" * 40 + "-strong-production-secret-key-0123456789"


def _production(settings, **overrides):
    settings.DEBUG, settings.TESTING = False, False
    settings.SECRET_KEY = STRONG
    settings.FLOWER_BASIC_AUTH = "ops:" + "p" * 24
    settings.GOVERNANCE_EVIDENCE_HMAC_KEY = "k" * 40
    for name, value in overrides.items():
        setattr(settings, name, value)


@pytest.mark.parametrize(
    ("overrides", "error_id"),
    [
        ({"SECRET_KEY": DEV_SECRET_KEY}, "torghut.E001"),
        ({"FLOWER_BASIC_AUTH": "flower:flower"}, "torghut.E002"),
        ({"FLOWER_BASIC_AUTH": ""}, "torghut.E002"),
        ({"FLOWER_BASIC_AUTH": "ops:short"}, "torghut.E002"),
        ({"GOVERNANCE_EVIDENCE_HMAC_KEY": ""}, "torghut.E003"),
    ],
)
def test_production_refuses_default_or_empty_secrets(settings, overrides, error_id):
    _production(settings, **overrides)
    assert error_id in {e.id for e in production_secrets_check()}


def test_production_settings_pass_the_secret_checks(settings):
    _production(settings)
    assert production_secrets_check() == []


def test_production_refuses_a_superuser_with_the_development_password(settings, django_user_model):
    django_user_model.objects.create_superuser(username="admin", email="", password="admin-dev-password")
    _production(settings)
    assert [e.id for e in dev_superuser_check(databases=["default"])] == ["torghut.E004"]


def test_ensure_dev_superuser_refuses_without_debug(settings, django_user_model):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("ensure_dev_superuser")
    assert not django_user_model.objects.filter(is_superuser=True).exists()


def _flower(env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FLOWER_")}
    return subprocess.run(["bash", "scripts/flower.sh"], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("auth", ["flower:flower", ""])
def test_the_flower_launcher_refuses_default_or_empty_credentials_with_debug_off(auth):
    result = _flower({"DEBUG": "0", "TORGHUT_TESTING": "0", "SECRET_KEY": STRONG, "FLOWER_BASIC_AUTH": auth, "FLOWER_PORT": "1"})
    assert result.returncode == 2, result.stderr
    assert "refusing to start" in result.stderr


def test_check_deploy_is_clean_in_production_settings():
    env = {
        **os.environ,
        "DEBUG": "0",
        "TORGHUT_TESTING": "0",
        "SECRET_KEY": STRONG,
        "FLOWER_BASIC_AUTH": "ops:" + "p" * 24,
        "GOVERNANCE_EVIDENCE_HMAC_KEY": "k" * 40,
    }
    code = "import sys; sys.modules.pop('pytest', None); from django.core.management import execute_from_command_line as e; e(['m', 'check', '--deploy', '--tag', 'security', '--fail-level', 'WARNING'])"
    result = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "torghut.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]


# --- identity, not names ---------------------------------------------------------------------------


def test_a_renamed_engager_still_cannot_resume_when_four_eyes_is_on(settings):
    settings.GOVERNANCE_RESUME_REQUIRES_OTHER_USER = True
    operator = operator_create(username="sec-op")
    kill_switch_engage(actor=operator, state="halted", reason="security incident drill")
    operator.username = "someone-else"
    operator.save()
    with pytest.raises(GovernancePermissionDenied):
        kill_switch_resume(actor=operator, reason="renamed myself, all clear")


@pytest.mark.parametrize("reason", [".", "short", "y" * 2001])
def test_reasons_shorter_than_10_or_longer_than_2000_characters_are_refused(reason):
    operator = operator_create(username="sec-op2")
    with pytest.raises(GovernanceError):
        kill_switch_engage(actor=operator, state="halted", reason=reason)
    with pytest.raises(GovernanceError):
        emergency_stop_policy_update(trigger="signal_lag", actor=operator, reason=reason, changes={"threshold": 1.0})


def test_the_live_guard_counts_approvals_by_user_id_not_by_name(django_user_model):
    """Renaming the requester after the fact does not make its own approval count (the SQL compares ids)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef('governance_strategy_live_guard'::regproc)")
        body = cursor.fetchone()[0]
    assert "a.approver_id IS DISTINCT FROM r.requester_user_id" in body
    assert "u.username <> r.requester" not in body


def test_the_requester_id_of_a_request_cannot_be_rewritten(django_user_model):
    strategy = strategy_create(lane="shadow")
    someone = django_user_model.objects.create_user(username="sec-req", password="p" * 20)
    request = PromotionRequest.objects.create(
        strategy=strategy,
        version=strategy.version,
        from_lane=strategy.lane,
        to_lane="paper",
        requester="autonomy",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        PromotionRequest.objects.filter(pk=request.pk).update(requester_user=someone)


# --- tamper-evident evidence -----------------------------------------------------------------------


def _package(n: int) -> EvidencePackage:
    return evidence_package_write(
        triggers=[f"t{n}"],
        measurements=[],
        inputs={},
        cancel_results=[],
        lane_changes=[],
        policies=lambda: [],
        kill_switch=lambda: {"state": "halted"},
    )


def _raw(sql: str, params: list) -> None:
    """What an owner of the table can do today: switch its append-only triggers off around a write."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending trigger events, so ALTER TABLE may run
        cursor.execute("ALTER TABLE governance_evidencepackage DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE governance_evidencepackage ENABLE TRIGGER USER")


def test_a_signed_chain_verifies():
    _package(1), _package(2)
    assert evidence_chain_verify() == []


def test_editing_a_package_and_rehashing_it_everywhere_fails_verification():
    first, _ = _package(1), _package(2)
    body = json.loads(first.body)
    body["triggers"] = ["forged"]
    forged = json.dumps(body, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(forged.encode()).hexdigest()
    _raw("UPDATE governance_evidencepackage SET body = %s, sha256 = %s WHERE id = %s", [forged, digest, first.pk])
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE torghut_auditevent DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE torghut_auditevent SET new = jsonb_set(new, '{sha256}', to_jsonb(%s::text)) WHERE action = 'evidence.write' AND object_id = %s",
            [digest, str(first.pk)],
        )
        cursor.execute("UPDATE governance_evidencepackage SET previous_sha256 = %s WHERE previous_sha256 = %s", [digest, first.sha256])
        cursor.execute("ALTER TABLE torghut_auditevent ENABLE TRIGGER USER")
    assert any("HMAC" in p for p in evidence_chain_verify())


def test_deleting_the_newest_package_fails_verification():
    _package(1)
    newest = _package(2)
    _raw("DELETE FROM governance_evidencepackage WHERE id = %s", [newest.pk])
    problems = evidence_chain_verify()
    assert any("missing from the table" in p for p in problems)
    assert any("anchored in Redis" in p for p in problems)


# --- API hardening ---------------------------------------------------------------------------------


def test_reads_need_the_view_permission(django_user_model, client):
    nobody = django_user_model.objects.create_user(username="sec-nobody", password="p" * 20)
    _, key = AuthToken.objects.create(user=nobody)
    assert client.get("/research/runs", HTTP_AUTHORIZATION=f"Token {key}").status_code == 403
    nobody.user_permissions.add(Permission.objects.get(codename="view_researchrun"))
    assert client.get("/research/runs", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_a_bad_token_is_a_401_and_tokens_are_stored_hashed(user, client):
    assert client.get("/research/runs", HTTP_AUTHORIZATION="Token not-a-real-token").status_code == 401
    instance, key = AuthToken.objects.create(user=user)
    assert key not in {instance.digest, instance.token_key}


def test_an_expired_or_revoked_token_is_refused(user, client, capsys):
    call_command("create_api_token", user.username, "--expires", "1h")
    key = capsys.readouterr().out.strip()
    assert client.get("/research/runs", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    AuthToken.objects.filter(user=user).update(expiry=timezone.now() - timedelta(seconds=1))
    assert client.get("/research/runs", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    call_command("create_api_token", user.username)
    key = capsys.readouterr().out.strip()
    call_command("create_api_token", user.username, "--revoke")
    assert client.get("/research/runs", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_the_schema_needs_a_login_with_debug_off(anon_client, api_client):
    assert anon_client.get("/api/schema/").status_code in (401, 403)
    assert api_client.get("/api/schema/", HTTP_ACCEPT="application/json").status_code == 200


def test_admin_login_locks_out_after_repeated_failures(client, django_user_model, settings):
    django_user_model.objects.create_superuser(username="sec-admin", email="", password="right-password-123456")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "sec-admin", "password": "wrong"})
    locked = client.post("/admin/login/", {"username": "sec-admin", "password": "right-password-123456"})
    assert locked.status_code == 429


def test_api_reads_are_throttled(settings):
    assert "rest_framework.throttling.UserRateThrottle" in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
    assert "rest_framework.throttling.AnonRateThrottle" in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
