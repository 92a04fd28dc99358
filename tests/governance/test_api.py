import hashlib
import json

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from governance.emergency.services import emergency_stop_evaluate, emergency_stop_policy_update
from governance.evidence.models import EvidencePackage
from governance.killswitch.models import KillSwitch, KillSwitchTransition
from tests.factories import healthy_inputs
from torghut.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _package() -> EvidencePackage:
    for _ in range(2):
        result = emergency_stop_evaluate(inputs=healthy_inputs(research_failure_streak=7))
    return EvidencePackage.objects.get(pk=result.halt.evidence_id)


def test_reading_the_kill_switch_shows_state_triggers_and_recovery_streaks(api_client):
    emergency_stop_evaluate(inputs=healthy_inputs(signal_lag_seconds=900.0))
    body = api_client.get("/governance/kill-switch").json()
    assert body["state"] == "active" and body["readable"] is True
    lag = next(t for t in body["triggers"] if t["trigger"] == "signal_lag")
    assert (lag["status"], lag["breach_streak"], lag["clean_streak"], lag["firing"]) == ("breach", 1, 0, False)


def test_anonymous_callers_cannot_read_the_kill_switch(anon_client):
    assert anon_client.get("/governance/kill-switch").status_code in (401, 403)


def test_engage_without_the_permission_is_refused_and_changes_nothing(api_client):
    response = api_client.post("/governance/kill-switch/engage", {"state": "halted", "reason": "x, for the test"}, format="json")
    assert response.status_code == 403
    assert not KillSwitchTransition.objects.exists()


def test_an_operator_engages_and_resumes_through_the_api(operator, second_operator):
    engaged = _client(operator).post(
        "/governance/kill-switch/engage", {"state": "reducing", "reason": "wind down, for the test"}, format="json"
    )
    assert engaged.status_code == 200
    assert (engaged.json()["state"], engaged.json()["engaged_by"]) == ("reducing", "operator")
    resumed = _client(second_operator).post("/governance/kill-switch/resume", {"reason": "all clear, for the test"}, format="json")
    assert resumed.status_code == 200 and resumed.json()["state"] == "active"
    assert [t["to_state"] for t in resumed.json()["transitions"]] == ["active", "reducing"]


def test_engage_validates_its_input(operator):
    client = _client(operator)
    assert client.post("/governance/kill-switch/engage", {"state": "active", "reason": "x, for the test"}, format="json").status_code == 400
    assert client.post("/governance/kill-switch/engage", {"state": "halted"}, format="json").status_code == 400


def test_resuming_an_active_switch_is_a_conflict(operator):
    assert _client(operator).post("/governance/kill-switch/resume", {"reason": "why not, for the test"}, format="json").status_code == 409


def test_four_eyes_resume_is_forbidden_to_the_engaging_user(operator, settings):
    settings.GOVERNANCE_RESUME_REQUIRES_OTHER_USER = True
    client = _client(operator)
    client.post("/governance/kill-switch/engage", {"state": "halted", "reason": "incident, for the test"}, format="json")
    assert client.post("/governance/kill-switch/resume", {"reason": "mine, for the test"}, format="json").status_code == 403
    assert KillSwitch.objects.get().state == "halted"


def test_evidence_is_listed_detailed_and_downloaded_byte_for_byte(api_client):
    package = _package()
    listed = api_client.get("/governance/evidence").json()
    assert [p["id"] for p in listed] == [package.pk]
    assert listed[0]["sha256"] == package.sha256 and listed[0]["triggers"] == ["research_failures"]
    detail = api_client.get(f"/governance/evidence/{package.pk}").json()
    assert detail["content"]["triggers"] == ["research_failures"]
    download = api_client.get(f"/governance/evidence/{package.pk}/download")
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    assert hashlib.sha256(download.content).hexdigest() == package.sha256
    assert api_client.get("/governance/evidence/999999").status_code == 404


def test_the_admin_downloads_an_evidence_package(admin_client):
    package = _package()
    page = admin_client.get(f"/admin/governance/evidencepackage/{package.pk}/change/")
    assert page.status_code == 200 and b"download" in page.content
    download = admin_client.get(f"/admin/governance/evidencepackage/{package.pk}/download/")
    assert hashlib.sha256(download.content).hexdigest() == package.sha256


def test_the_admin_kill_switch_form_goes_through_the_services(admin_client, admin_user, client, django_user_model):
    admin_user.user_permissions.add(Permission.objects.get(codename="engage_killswitch"))
    response = admin_client.post("/admin/governance/killswitch/add/", {"state": "halted", "operator_reason": "from admin"})
    assert response.status_code == 302
    switch = KillSwitch.objects.get()
    assert (switch.state, switch.reason, switch.actor) == ("halted", "from admin", admin_user.username)
    # Four eyes: a second administrator resumes what the first engaged.
    client.force_login(django_user_model.objects.create_superuser(username="admin-two", password="admin-two-pass-123"))
    response = client.post(
        f"/admin/governance/killswitch/{switch.pk}/change/", {"state": "active", "operator_reason": "resolved, for the test"}
    )
    assert response.status_code == 302
    assert KillSwitch.objects.get().state == "active"
    assert AuditEvent.objects.filter(object_type="KillSwitch").count() == 2


def test_policy_edits_in_the_admin_are_audited(admin_client):
    emergency_stop_policy_update(trigger="signal_lag", actor="setup", reason="ensure rows", changes={})
    response = admin_client.post(
        "/admin/governance/emergencystoppolicy/" + str(_policy_pk("signal_lag")) + "/change/",
        {
            "enabled": "on",
            "threshold": "900",
            "confirm_evaluations": "2",
            "clear_evaluations": "3",
            "warn_fraction": "0.8",
            "unreadable_is_breach": "on",
            "params": "{}",
            "change_reason": "overnight feed is slower",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="emergency_stop_policy.update", reason="overnight feed is slower").get()
    assert event.old == {"threshold": 600.0} and event.new == {"threshold": 900.0}


def _policy_pk(trigger: str) -> int:
    from governance.emergency.models import EmergencyStopPolicy

    return EmergencyStopPolicy.objects.get(trigger=trigger).pk


def test_the_openapi_schema_documents_the_governance_routes(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert {"/governance/kill-switch", "/governance/kill-switch/engage", "/governance/evidence/{package_id}/download"} <= set(
        schema["paths"]
    )
    assert json.dumps(schema)
