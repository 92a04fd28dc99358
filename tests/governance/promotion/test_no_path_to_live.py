"""Every path to live is refused without an applied, approved request: raw SQL, a service, the API, the admin."""

import pytest
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from governance.lanes.services import strategy_lane_change
from governance.promotion.models import PromotionRequest
from governance.promotion.services import promotion_request_create
from tests.factories import strategy_live_create, strategy_ready_for_live, user_create

pytestmark = pytest.mark.django_db

REFUSED = "may not become live without an applied, approved promotion request"


def _sql(statement: str, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def _lane(strategy) -> str:
    strategy.refresh_from_db()
    return strategy.lane


@pytest.fixture
def requester():
    return user_create(username="quant", approver=True, staff=True, perms=("governance.add_promotionrequest",))


@pytest.fixture
def approver():
    return user_create(username="risk", approver=True, staff=True)


def test_raw_sql_cannot_set_a_lane_to_live_or_insert_a_live_strategy():
    strategy = strategy_ready_for_live()
    with pytest.raises(DatabaseError, match=REFUSED):
        _sql("UPDATE trading_strategy SET lane = 'live' WHERE id = %s", [strategy.pk])
    with pytest.raises(DatabaseError, match=REFUSED):
        _sql(
            "INSERT INTO trading_strategy (name, version, kind, parameters, lane, capital_fraction, enabled, created_at, updated_at) "
            "VALUES ('x', '1', 'macd_rsi', '{}', 'live', 0, true, now(), now())"
        )
    assert _lane(strategy) == "shadow"


@pytest.mark.django_db(transaction=True)
def test_an_approval_applied_in_an_earlier_transaction_does_not_reopen_the_way_to_live():
    # Real commits: the request below is applied in a transaction that has ended.
    strategy = strategy_live_create()
    strategy_lane_change(strategy_id=strategy.pk, to_lane="shadow", cause="rollback", actor="emergency_stop")
    assert PromotionRequest.objects.filter(strategy=strategy, status="applied").exists()
    with pytest.raises(DatabaseError, match=REFUSED):
        _sql("UPDATE trading_strategy SET lane = 'live' WHERE id = %s", [strategy.pk])
    with pytest.raises(DatabaseError, match=REFUSED):
        strategy_lane_change(strategy_id=strategy.pk, to_lane="live", cause="request", actor="ops")
    assert _lane(strategy) == "shadow"


def test_forged_request_rows_without_approvals_are_refused(requester):
    strategy = strategy_ready_for_live()
    request = promotion_request_create(strategy_id=strategy.pk, to_lane="live", requester=requester)
    with pytest.raises(DatabaseError, match="may not go from pending to applied"):
        _sql("UPDATE governance_promotionrequest SET status = 'applied', applied_at = now() WHERE id = %s", [request.pk])
    with pytest.raises(DatabaseError, match=REFUSED):
        _sql(
            "UPDATE governance_promotionrequest SET status = 'approved', checkpoint_at_approval = '{\"passed\": true}' WHERE id = %(id)s;"
            "UPDATE governance_promotionrequest SET status = 'applied', applied_at = now() WHERE id = %(id)s;"
            "UPDATE trading_strategy SET lane = 'live' WHERE id = %(strategy)s;",
            {"id": request.pk, "strategy": strategy.pk},
        )
    with pytest.raises(DatabaseError, match="starts pending"):
        _sql(
            "INSERT INTO governance_promotionrequest (strategy_id, version, from_lane, to_lane, requester, reason, research_run_ids, "
            "checkpoint_at_request, checkpoint_at_approval, status, approvals_required, created_at, expires_at) "
            "VALUES (%s, '1', 'shadow', 'live', 'x', '', '[]', '{}', '{}', 'applied', 1, now(), now())",
            [strategy.pk],
        )
    assert _lane(strategy) == "shadow"


def test_a_live_strategy_cannot_swap_its_version_behind_the_approval():
    strategy = strategy_live_create(version="1")
    with pytest.raises(DatabaseError, match=REFUSED):
        _sql("UPDATE trading_strategy SET version = '2' WHERE id = %s", [strategy.pk])


def test_a_direct_service_call_cannot_move_a_strategy_to_live():
    strategy = strategy_ready_for_live()
    with pytest.raises(DatabaseError, match=REFUSED):
        strategy_lane_change(strategy_id=strategy.pk, to_lane="live", cause="request", actor="someone")
    assert _lane(strategy) == "shadow"


def test_approvals_and_ramp_ledger_rows_are_append_only():
    strategy_live_create()
    for table in ("governance_approval", "governance_capitalrampstep"):
        for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(DatabaseError, match="append-only"):
                _sql(statement)


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_refuses_live_without_a_valid_approval_with_status_and_reason(requester, approver):
    strategy = strategy_ready_for_live(paper_runs=1)
    response = _client(requester).post(
        "/governance/promotion-requests/create", {"strategy_id": strategy.pk, "to_lane": "live"}, format="json"
    )
    assert response.status_code == 201, response.content
    request_id = response.json()["id"]
    assert response.json()["checkpoint_at_request"]["failures"] == ["min_paper_runs: 1 < 3"]

    own = _client(requester).post(f"/governance/promotion-requests/{request_id}/approve", {"reason": "mine, for the test"}, format="json")
    assert own.status_code == 403 and "four eyes" in own.json()["detail"]
    outsider = user_create(username="dev")
    denied = _client(outsider).post(f"/governance/promotion-requests/{request_id}/approve", {"reason": "x, for the test"}, format="json")
    assert denied.status_code == 403
    blank = _client(approver).post(f"/governance/promotion-requests/{request_id}/approve", {"reason": ""}, format="json")
    assert blank.status_code == 400 and "reason" in blank.json()
    failing = _client(approver).post(f"/governance/promotion-requests/{request_id}/approve", {"reason": "ok, for the test"}, format="json")
    assert failing.status_code == 400
    assert failing.json()["detail"] == "checkpoint failed: min_paper_runs: 1 < 3"
    assert _lane(strategy) == "shadow"


def test_the_admin_refuses_live_without_a_valid_approval(client, requester, approver):
    strategy = strategy_ready_for_live(paper_runs=1)
    request = promotion_request_create(strategy_id=strategy.pk, to_lane="live", requester=requester)
    url = "/admin/governance/promotionrequest/"
    post = {"action": "approve_selected", "_selected_action": [request.pk], "confirm": "yes", "reason": "ok, for the test"}

    client.force_login(requester)
    page = client.post(url, post, follow=True)
    assert "four eyes: the requester may not approve their own request" in page.content.decode()
    client.force_login(approver)
    page = client.post(url, post, follow=True)
    assert "checkpoint failed: min_paper_runs: 1 &lt; 3" in page.content.decode()
    assert _lane(strategy) == "shadow"
    assert PromotionRequest.objects.get().status == "pending"
