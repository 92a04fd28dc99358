from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from governance.lanes.selectors import lane_history_at
from governance.lanes.services import strategy_lane_change
from governance.promotion.services import promotion_request_approve, promotion_request_create
from tests.factories import strategy_ready_for_live, user_create

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def _lanes(at: datetime) -> dict[str, tuple[str, str]]:
    return {row["name"]: (row["version"], row["lane"]) for row in lane_history_at(at=at)}


@pytest.fixture
def history():
    """a: shadow at T0, live from T0+1d (approved request), rolled back to shadow at T0+2d.
    b: paper at T0, shadow from T0+2d. c: created at T0+3d."""
    from trading.strategies.models import Strategy

    requester = user_create(username="quant", perms=("governance.add_promotionrequest",))
    approver = user_create(username="risk", approver=True)
    with time_machine.travel(T0, tick=False):
        a = strategy_ready_for_live(name="a")
        b = Strategy.objects.create(name="b", version="7", kind="macd_rsi", lane="paper")
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        request = promotion_request_create(strategy_id=a.pk, to_lane="live", requester=requester)
        promotion_request_approve(request_id=request.pk, approver=approver, reason="go, for the test")
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        strategy_lane_change(strategy_id=a.pk, to_lane="shadow", cause="rollback", actor="emergency_stop")
        strategy_lane_change(strategy_id=b.pk, to_lane="shadow", cause="request", actor="risk")
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        Strategy.objects.create(name="c", version="1", kind="macd_rsi", lane="research")
    return a, b


def test_lane_history_answers_which_version_was_in_which_lane_at_each_moment(history):
    assert _lanes(T0 - timedelta(minutes=1)) == {}
    assert _lanes(T0 + timedelta(hours=12)) == {"a": ("1", "shadow"), "b": ("7", "paper")}
    assert _lanes(T0 + timedelta(days=1, hours=1)) == {"a": ("1", "live"), "b": ("7", "paper")}
    assert _lanes(T0 + timedelta(days=2, hours=1)) == {"a": ("1", "shadow"), "b": ("7", "shadow")}
    assert _lanes(T0 + timedelta(days=4)) == {"a": ("1", "shadow"), "b": ("7", "shadow"), "c": ("1", "research")}


def test_the_lane_history_endpoint_takes_a_timestamp_and_refuses_a_malformed_one(history, api_client):
    response = api_client.get("/governance/lane-history", {"at": (T0 + timedelta(days=1, hours=1)).isoformat()})
    assert response.status_code == 200
    live = [row for row in response.json()["strategies"] if row["lane"] == "live"]
    assert [(row["name"], row["version"]) for row in live] == [("a", "1")]
    assert live[0]["lane_change_id"] is not None
    bad = api_client.get("/governance/lane-history", {"at": "yesterday"})
    assert bad.status_code == 400 and "ISO 8601" in bad.json()["detail"]


def test_anonymous_callers_get_no_lane_history():
    assert APIClient().get("/governance/lane-history").status_code in (401, 403)
