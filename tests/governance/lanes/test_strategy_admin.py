"""The Strategy admin (registered by governance.lanes): versions, lane, lane history; the lane is not editable there."""

from __future__ import annotations

import pytest
from django.utils import timezone

from governance.lanes.models import LaneChange
from trading.strategies.models import Strategy

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions():
    old = Strategy.objects.create(name="trend", version="1", kind="macd_rsi", lane="paper")
    new = Strategy.objects.create(name="trend", version="2", kind="macd_rsi", lane="shadow")
    LaneChange.objects.create(
        strategy=new,
        version="2",
        from_lane="paper",
        to_lane="shadow",
        at=timezone.now(),
        cause="request",
        actor="alice",
        reason="shadow run",
    )
    return old, new


def test_the_strategy_admin_lists_strategies_with_their_lane(admin_client, versions):
    page = admin_client.get("/admin/trading/strategy/", {"lane__exact": "shadow"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [versions[1]]


def test_a_strategy_page_shows_every_version_and_the_lane_history(admin_client, versions):
    old, new = versions
    html = admin_client.get(f"/admin/trading/strategy/{new.pk}/change/").content.decode()
    assert f"/admin/trading/strategy/{old.pk}/change/" in html and "[paper]" in html and "(this one)" in html
    assert "lane history" in html.lower() and "shadow run" in html and "alice" in html


def test_the_admin_cannot_move_a_strategy_to_another_lane(admin_client, versions):
    _, new = versions
    form = {
        "name": "trend",
        "version": "2",
        "kind": "macd_rsi",
        "parameters": "{}",
        "enabled": "on",
        "lane": "live",
        "capital_fraction": "1",
    }
    form |= {
        "lane_changes-TOTAL_FORMS": "1",
        "lane_changes-INITIAL_FORMS": "1",
        "lane_changes-MIN_NUM_FORMS": "0",
        "lane_changes-MAX_NUM_FORMS": "1000",
    }
    response = admin_client.post(f"/admin/trading/strategy/{new.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    new.refresh_from_db()
    assert new.lane == "shadow" and new.capital_fraction == 0


def test_the_kill_switch_is_named_in_the_plural_correctly(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "Kill switches" in html and "Kill switchs" not in html
