"""Malformed requests answer 4xx with the field at fault, never 500 (issue 18): each case failed on main."""

from __future__ import annotations

import base64
import json

import pytest
from rest_framework.test import APIClient

from tests.factories import research_run_create, strategy_create, user_create
from torghut.core.inputs import MAX_JSON_BODY_BYTES, MAX_JSON_DEPTH

pytestmark = pytest.mark.django_db

BAD_TIMES = ["2026-01-01T00:00-23:59", "2026-01-01T00:00+15:00", "2026-13-01T00:00Z", "2026-01-01T00:00+00:60", "99999-01-01T00:00Z"]


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _cursor(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def engager(operator):
    return _client(operator)


@pytest.fixture
def quant():
    return _client(user_create(username="quant", perms=("governance.add_promotionrequest", "governance.view_promotionrequest")))


def test_a_non_ascii_digit_as_strategy_is_a_name_not_a_crash(api_client):
    response = api_client.get("/trading/decisions?strategy=%C2%B2")
    assert response.status_code == 200 and response.json()["results"] == []


@pytest.mark.parametrize("path", ["/trading/decisions", "/trading/executions"])
@pytest.mark.parametrize(
    "cursor",
    [
        _cursor('{"before": ' + _nested(5000) + "}"),  # RecursionError in json.loads on main
        _cursor(_nested(5000)),
        _cursor('{"before": 99999999999999999999999}'),  # past Postgres bigint
        "A" * 10_000,
    ],
    ids=["nested-before", "nested-list", "huge-before", "long"],
)
def test_a_malformed_cursor_is_a_field_error(api_client, path, cursor):
    response = api_client.get(path, {"cursor": cursor})
    assert response.status_code == 400, response.content[:300]
    assert "cursor" in response.json()


@pytest.mark.parametrize("query", ["offset=99999999999999999999", "limit=99999999999999999999", "offset=-1"])
def test_research_run_paging_past_the_database_range_is_a_field_error(api_client, query):
    response = api_client.get(f"/research/runs?{query}")
    assert response.status_code == 400
    assert set(response.json()) == {query.split("=")[0]}


@pytest.mark.parametrize("run_id", ["%00", "abc%00def", "%C2%B2", "x" * 300])
def test_a_research_run_id_that_cannot_exist_is_not_found(api_client, run_id):
    for suffix in ("", "/evidence", "/pictures/equity"):
        assert api_client.get(f"/research/runs/{run_id}{suffix}").status_code == 404


def test_an_unknown_picture_kind_with_a_nul_is_not_found(api_client):
    run = research_run_create(strategy=strategy_create(name="pic", lane="paper"))
    assert api_client.get(f"/research/runs/{run.run_id}/pictures/eq%00uity").status_code == 404


@pytest.mark.parametrize("at", BAD_TIMES)
def test_lane_history_at_an_impossible_time_is_a_field_error(api_client, at):
    response = api_client.get("/governance/lane-history", {"at": at})
    assert response.status_code == 400, response.content[:300]
    assert "at" in response.json()


def test_lane_history_still_reads_a_valid_offset_and_an_unencoded_plus(api_client):
    assert api_client.get("/governance/lane-history", {"at": "2026-01-01T00:00-05:00"}).status_code == 200
    response = api_client.get("/governance/lane-history?at=2026-01-01T00:00:00+02:00")  # `+` arrives as a space
    assert response.status_code == 200
    assert response.json()["at"].startswith("2025-12-31T22:00:00")


@pytest.mark.parametrize("at", BAD_TIMES)
@pytest.mark.parametrize(
    ("path", "field"), [("/trading/decisions", "since"), ("/trading/executions", "until"), ("/research/runs", "since")]
)
def test_time_filters_with_an_impossible_offset_are_field_errors(api_client, at, path, field):
    response = api_client.get(path, {field: at})
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()


@pytest.mark.parametrize("query", ["strategy_id=99999999999999999999", "strategy_id=-99999999999999999999"])
def test_promotion_request_ids_past_the_database_range_are_field_errors(api_client, query):
    response = api_client.get(f"/governance/promotion-requests?{query}")
    assert response.status_code == 400 and "strategy_id" in response.json()


def _post_raw(client: APIClient, path: str, body: str):
    return client.post(path, data=body, content_type="application/json")


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_a_deeply_nested_body_is_refused_on_kill_switch_engage(engager, depth):
    body = '{"state": "halted", "reason": "nested body attack", "x": ' + _nested(depth) + "}"
    response = _post_raw(engager, "/governance/kill-switch/engage", body)
    assert response.status_code in (400, 413), response.content[:300]
    assert "nested" in response.json()["detail"] or "larger" in response.json()["detail"]
    assert engager.get("/governance/kill-switch").status_code in (200, 403)


def test_a_deeply_nested_body_is_refused_on_promotion_create(quant):
    body = '{"strategy_id": 1, "to_lane": "paper", "reason": "nested body attack", "research_run_ids": ' + _nested(5000) + "}"
    response = _post_raw(quant, "/governance/promotion-requests/create", body)
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_a_body_nested_within_the_bound_still_reaches_the_field_check(quant):
    body = json.dumps({"strategy_id": 1, "to_lane": "paper", "reason": "a reason long enough", "research_run_ids": [["a"]]})
    response = _post_raw(quant, "/governance/promotion-requests/create", body)
    assert response.status_code == 400 and "research_run_ids" in response.json()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/governance/kill-switch/engage", {"state": "halted"}),
        ("/governance/kill-switch/resume", {}),
        ("/governance/promotion-requests/create", {"strategy_id": 1, "to_lane": "paper"}),
    ],
)
def test_a_one_megabyte_reason_is_refused_before_it_is_read(engager, quant, path, body):
    client = quant if "promotion" in path else engager
    response = _post_raw(client, path, json.dumps({**body, "reason": "r" * 1_000_000}))
    assert response.status_code == 413
    assert str(MAX_JSON_BODY_BYTES) in response.json()["detail"]


@pytest.mark.parametrize("reason", ["r" * 2001, ".", "   short   "])
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/governance/kill-switch/engage", {"state": "halted"}),
        ("/governance/kill-switch/resume", {}),
        ("/governance/promotion-requests/1/approve", {}),
        ("/governance/promotion-requests/1/reject", {}),
    ],
)
def test_a_reason_outside_10_to_2000_characters_is_a_field_error(engager, quant, path, body, reason):
    client = quant if "create" in path else engager
    if "approve" in path or "reject" in path:
        client = _client(user_create(username="risk", approver=True))
    response = client.post(path, {**body, "reason": reason}, format="json")
    assert response.status_code == 400, response.content[:300]
    assert "reason" in response.json()


def test_an_optional_promotion_reason_is_still_bounded(quant):
    response = quant.post(
        "/governance/promotion-requests/create", {"strategy_id": 1, "to_lane": "paper", "reason": "r" * 2001}, format="json"
    )
    assert response.status_code == 400 and "reason" in response.json()


def test_a_body_that_is_not_json_is_a_parse_error(engager):
    response = _post_raw(engager, "/governance/kill-switch/engage", '{"state": "halted", "reason": ')
    assert response.status_code == 400 and "JSON" in response.json()["detail"]
