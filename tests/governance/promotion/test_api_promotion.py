import pytest
from rest_framework.test import APIClient

from tests.factories import strategy_ready_for_live, user_create

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def quant():
    return _client(
        user_create(
            username="quant", perms=("governance.add_promotionrequest", "governance.view_promotionrequest", "governance.view_capitalramp")
        )
    )


@pytest.fixture
def risk():
    return _client(user_create(username="risk", approver=True))


def test_a_request_goes_from_create_to_applied_through_the_api(quant, risk):
    strategy = strategy_ready_for_live()
    created = quant.post(
        "/governance/promotion-requests/create",
        {"strategy_id": strategy.pk, "to_lane": "live", "reason": "ready, for the test", "research_run_ids": ["r1"]},
        format="json",
    )
    assert created.status_code == 201
    request_id = created.json()["id"]
    assert created.json()["checkpoint_at_request"]["passed"] is True
    approved = risk.post(f"/governance/promotion-requests/{request_id}/approve", {"reason": "reviewed, for the test"}, format="json")
    assert approved.status_code == 200
    body = approved.json()
    assert body["status"] == "applied" and body["lane_change_id"] and body["approvals"][0]["approver"] == "risk"
    assert [r["id"] for r in quant.get("/governance/promotion-requests", {"status": "applied"}).json()] == [request_id]
    assert quant.get("/governance/promotion-requests", {"status": "pending"}).json() == []
    assert quant.get(f"/governance/promotion-requests/{request_id}").json()["status"] == "applied"
    ramps = quant.get("/governance/capital-ramps").json()
    assert [(r["strategy_id"], r["step"], r["fraction"]) for r in ramps] == [(strategy.pk, 0, 0.1)]


def test_refusals_carry_their_reason_with_400_or_403(quant, risk):
    strategy = strategy_ready_for_live()
    missing = quant.post("/governance/promotion-requests/create", {"to_lane": "live"}, format="json")
    assert missing.status_code == 400 and "strategy_id" in missing.json()
    no_perm = risk.post("/governance/promotion-requests/create", {"strategy_id": strategy.pk, "to_lane": "live"}, format="json")
    assert no_perm.status_code == 403 and no_perm.json()["detail"] == "risk lacks governance.add_promotionrequest"
    bad_move = quant.post("/governance/promotion-requests/create", {"strategy_id": strategy.pk, "to_lane": "shadow"}, format="json")
    assert bad_move.status_code == 400 and bad_move.json()["detail"] == f"strategy {strategy.pk} is already in shadow"
    request_id = quant.post("/governance/promotion-requests/create", {"strategy_id": strategy.pk, "to_lane": "live"}, format="json").json()[
        "id"
    ]
    not_approver = quant.post(f"/governance/promotion-requests/{request_id}/approve", {"reason": "x, for the test"}, format="json")
    assert not_approver.status_code == 403 and not_approver.json()["detail"] == "quant lacks governance.approve_promotionrequest"
    rejected = risk.post(f"/governance/promotion-requests/{request_id}/reject", {"reason": "not this week"}, format="json")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    again = risk.post(f"/governance/promotion-requests/{request_id}/approve", {"reason": "changed my mind"}, format="json")
    assert again.status_code == 400 and again.json()["detail"] == f"request {request_id} is rejected, not pending"
    assert quant.get("/governance/promotion-requests/999999").status_code == 404
