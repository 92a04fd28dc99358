"""A real browser logs in and the operator page renders the loop's state (screenshot kept)."""

import pytest

from tests.e2e.conftest import admin_login
from tests.torghut.console.test_ops_page import arrange_loop_state

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_operator_sees_the_loop_state_on_the_ops_page(live_server, page, artifacts, django_user_model):
    admin = django_user_model.objects.create_superuser("opsadmin", password="ops-admin-pass-1")
    arrange_loop_state(admin)
    admin_login(page, live_server.url, "opsadmin", "ops-admin-pass-1")
    page.goto(f"{live_server.url}/ops/")
    assert page.title() == "torghut operator page"
    assert page.inner_text("#kill-switch .state") == "halted"
    assert "cursor_ahead_of_stream" in page.inner_text("#alerts")
    assert "lean_http_503" in page.inner_text("#executions")
    assert "research.persist_run" in page.inner_text("#dead-letters")
    assert page.locator("#charts svg.chart").count() == 5
    path = artifacts / "ops-page.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
