"""An approver approves a pending promotion in the Django admin and the lane changes; the requester
cannot approve their own request."""

import pytest

from governance.promotion.models import PromotionRequest
from governance.promotion.services import promotion_request_create
from tests.factories import strategy_ready_for_live, user_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login(browser, base_url: str, username: str):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"{username}-pass-123")
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    return context, page


def _open_decision_page(page, base_url: str, request_id: int, action: str) -> None:
    page.goto(f"{base_url}/admin/governance/promotionrequest/")
    page.check(f"input[name=_selected_action][value='{request_id}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    page.wait_for_selector("#decide-form")


def test_an_approver_approves_in_the_admin_and_the_requester_cannot(live_server, browser, artifacts):
    requester = user_create(username="quant", approver=True, staff=True, perms=("governance.add_promotionrequest",))
    user_create(username="risk", approver=True, staff=True)
    strategy = strategy_ready_for_live(name="macd-live")
    request = promotion_request_create(strategy_id=strategy.pk, to_lane="live", requester=requester, reason="three clean paper runs")

    context, page = _login(browser, live_server.url, "quant")
    _open_decision_page(page, live_server.url, request.pk, "approve_selected")
    page.fill("#id_reason", "my own strategy looks good")
    page.click("#decide-submit")
    error = page.wait_for_selector(".messagelist .error")
    assert "four eyes: the requester may not approve their own request" in error.inner_text()
    context.close()
    strategy.refresh_from_db()
    assert strategy.lane == "shadow"

    context, page = _login(browser, live_server.url, "risk")
    _open_decision_page(page, live_server.url, request.pk, "approve_selected")
    assert "min_paper_runs: 3 >= 3" in page.inner_text("#decide-requests")
    page.click("#decide-submit")  # no reason yet: the browser refuses to send the form
    assert page.eval_on_selector("#id_reason", "e => e.validity.valueMissing")
    assert PromotionRequest.objects.get(pk=request.pk).status == "pending"
    page.fill("#id_reason", "evidence reviewed: runs, shadow exposure, drill")
    page.screenshot(path=str(artifacts / "promotion-approval.png"), full_page=True)
    page.click("#decide-submit")
    success = page.wait_for_selector(".messagelist .success")
    assert f"Request #{request.pk} approved: now applied." in success.inner_text()
    context.close()

    strategy.refresh_from_db()
    assert strategy.lane == "live"
    assert PromotionRequest.objects.get(pk=request.pk).status == "applied"
    assert (artifacts / "promotion-approval.png").stat().st_size > 10_000
