import psycopg
import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from governance.emergency.selectors import kill_switch_state
from governance.errors import GovernanceError, GovernancePermissionDenied
from governance.killswitch import mirror as killswitch
from governance.killswitch.models import KillSwitch, KillSwitchTransition
from governance.killswitch.selectors import kill_switch_order_policy
from governance.killswitch.services import kill_switch_engage, kill_switch_mirror_sync, kill_switch_resume
from torghut.core.models import AuditEvent

pytestmark = pytest.mark.django_db

CLOSED_REDIS = "redis://127.0.0.1:1/0"


def test_a_fresh_install_admits_every_order(redis_client):
    policy = kill_switch_order_policy()
    assert (policy.allows, policy.state, policy.reason) == ("all", "active", "")


def test_halted_refuses_every_order_including_exposure_reducing_ones(operator):
    kill_switch_engage(actor=operator, state="halted", reason="broker incident")
    policy = kill_switch_order_policy()
    assert (policy.allows, policy.state, policy.reason) == ("none", "halted", "kill_switch_halted")


def test_reducing_admits_only_exposure_reducing_orders(operator):
    kill_switch_engage(actor=operator, state="reducing", reason="wind down, for the test")
    # The gate admits a reducing order under `reducing` (tests/trading/orders/test_risk_checks.py drives it).
    policy = kill_switch_order_policy()
    assert (policy.allows, policy.state, policy.reason) == ("reducing", "reducing", "kill_switch_reducing")


def test_engage_mirrors_the_state_to_redis(operator, redis_client):
    kill_switch_engage(actor=operator, state="halted", reason="incident, for the test")
    assert redis_client.get(settings.GOVERNANCE_KILL_SWITCH_REDIS_KEY) == b"halted"


def test_the_kill_switch_check_trusts_the_redis_mirror_first(redis_client):
    redis_client.set(settings.GOVERNANCE_KILL_SWITCH_REDIS_KEY, "halted")
    assert kill_switch_order_policy().state == "halted"


def test_a_missing_mirror_falls_back_to_postgres(operator, redis_client):
    kill_switch_engage(actor=operator, state="reducing", reason="wind down, for the test")
    redis_client.delete(settings.GOVERNANCE_KILL_SWITCH_REDIS_KEY)
    policy = kill_switch_order_policy()
    assert (policy.allows, policy.state) == ("reducing", "reducing")


def test_an_unreachable_redis_falls_back_to_postgres(operator, settings):
    kill_switch_engage(actor=operator, state="halted", reason="incident, for the test")
    settings.REDIS_URL = CLOSED_REDIS
    policy = kill_switch_order_policy()
    assert (policy.allows, policy.reason) == ("none", "kill_switch_halted")


def test_garbage_in_the_mirror_is_ignored_in_favour_of_postgres(operator, redis_client):
    kill_switch_engage(actor=operator, state="halted", reason="incident, for the test")
    redis_client.set(settings.GOVERNANCE_KILL_SWITCH_REDIS_KEY, "open-sesame")
    assert kill_switch_order_policy().reason == "kill_switch_halted"


def test_the_check_fails_closed_when_neither_redis_nor_postgres_can_be_read(settings):
    settings.REDIS_URL = CLOSED_REDIS
    db = connection.settings_dict
    # Another session holds an exclusive lock on the switch table: reads time out like a hung database.
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"]) as other:
        other.execute("LOCK TABLE governance_killswitch IN ACCESS EXCLUSIVE MODE")
        policy = kill_switch_order_policy()
        state = kill_switch_state()
        other.rollback()
    assert (policy.allows, policy.state, policy.reason) == ("none", "halted", "kill_switch_unreadable")
    assert state["state"] == "halted" and state["readable"] is False


def test_every_transition_is_recorded_with_reason_actor_and_time_and_audited(operator, second_operator):
    kill_switch_engage(actor=operator, state="halted", reason="incident 42")
    kill_switch_resume(actor=second_operator, reason="incident 42 resolved")
    rows = list(KillSwitchTransition.objects.order_by("at", "id").values_list("from_state", "to_state", "actor", "reason"))
    assert rows == [
        ("active", "halted", "operator", "incident 42"),
        ("halted", "active", "operator-two", "incident 42 resolved"),
    ]
    assert list(AuditEvent.objects.filter(object_type="KillSwitch").order_by("at", "id").values_list("action", flat=True)) == [
        "kill_switch.halted",
        "kill_switch.active",
    ]
    switch = KillSwitch.objects.get()
    assert (switch.state, switch.actor, switch.engaged_by) == ("active", "operator-two", "")


def test_kill_switch_history_refuses_update_and_delete(operator):
    kill_switch_engage(actor=operator, state="halted", reason="incident, for the test")
    for statement in ("UPDATE governance_killswitchtransition SET reason = 'edited'", "DELETE FROM governance_killswitchtransition"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        KillSwitch.objects.all().delete()


def test_engage_and_resume_need_the_kill_switch_permission(user, operator):
    with pytest.raises(GovernancePermissionDenied):
        kill_switch_engage(actor=user, state="halted", reason="because, for the test")
    kill_switch_engage(actor=operator, state="halted", reason="incident, for the test")
    with pytest.raises(GovernancePermissionDenied):
        kill_switch_resume(actor=user, reason="looks fine")
    assert kill_switch_order_policy().state == "halted"


def test_resume_needs_a_reason_and_a_switch_that_is_not_active(operator, second_operator):
    with pytest.raises(GovernanceError, match="already active"):
        kill_switch_resume(actor=operator, reason="nothing to resume")
    kill_switch_engage(actor=operator, state="halted", reason="incident, for the test")
    with pytest.raises(GovernanceError, match="reason"):
        kill_switch_resume(actor=second_operator, reason="   ")
    assert kill_switch_resume(actor=second_operator, reason="fixed, for the test").state == "active"
    assert kill_switch_order_policy().allows == "all"


def test_four_eyes_resume_refuses_the_user_who_engaged(operator, second_operator, settings):
    settings.GOVERNANCE_RESUME_REQUIRES_OTHER_USER = True
    kill_switch_engage(actor=operator, state="halted", reason="incident, for the test")
    with pytest.raises(GovernancePermissionDenied, match="four eyes"):
        kill_switch_resume(actor=operator, reason="mine to undo")
    assert kill_switch_resume(actor=second_operator, reason="checked, for the test").state == "active"


def test_mirror_sync_repairs_a_mirror_that_drifted_from_postgres(operator, redis_client):
    kill_switch_engage(actor=operator, state="halted", reason="incident, for the test")
    redis_client.set(settings.GOVERNANCE_KILL_SWITCH_REDIS_KEY, "active")
    assert kill_switch_mirror_sync() == "halted"
    assert killswitch.mirror_read() == "halted"


def test_a_postgres_read_leaves_the_callers_transaction_timeouts_alone(operator, redis_client):
    kill_switch_engage(actor=operator, state="halted", reason="incident, for the test")
    redis_client.delete(settings.GOVERNANCE_KILL_SWITCH_REDIS_KEY)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = '42s'")
        assert kill_switch_order_policy().reason == "kill_switch_halted"
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "42s"


def _gate_policy() -> tuple[str, str, str]:
    from governance.killswitch.selectors import kill_switch_gate_policy

    policy = kill_switch_gate_policy()
    return policy.state, policy.allows, policy.reason


def test_the_order_gate_applies_the_switch_exactly_as_the_selector_does(operator, second_operator, redis_client):
    from governance.killswitch.selectors import kill_switch_order_policy

    seen = []
    for state in (None, "reducing", "halted", "active"):
        if state == "active":
            kill_switch_resume(actor=second_operator, reason="all clear, for the test")
        elif state:
            kill_switch_engage(actor=operator, state=state, reason=f"to {state}, for the test")
        policy = kill_switch_order_policy()
        assert _gate_policy() == (policy.state, policy.allows, policy.reason)
        seen.append(policy.allows)
    assert seen == ["all", "reducing", "none", "all"]


def test_the_order_gate_obeys_the_committed_switch_even_when_the_mirror_lags(operator, redis_client):
    kill_switch_engage(actor=operator, state="halted", reason="incident, for the test")
    redis_client.set(settings.GOVERNANCE_KILL_SWITCH_REDIS_KEY, "active")  # a mirror write that never landed
    assert _gate_policy() == ("halted", "none", "kill_switch_halted")
