import pytest
from django.test import override_settings

from torghut.core import clickhouse

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_authentication(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_when_postgres_redis_and_clickhouse_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["failed"] == []
    assert set(body["checks"]) == {"postgres", "redis", "clickhouse"}
    assert "warnings" in body["checks"]["redis"]["durability"]


def test_readyz_is_503_naming_clickhouse_when_it_cannot_be_reached(client):
    with override_settings(CLICKHOUSE_URL="clickhouse://default@127.0.0.1:1/torghut_test"):
        clickhouse.reset_connections()
        response = client.get("/readyz")
    clickhouse.reset_connections()
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["clickhouse"]
    assert body["checks"]["clickhouse"]["ok"] is False
    assert body["checks"]["postgres"]["ok"] is True


def test_readyz_is_503_naming_redis_when_it_cannot_be_reached(client):
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["redis"]


def test_metrics_are_open_and_in_prometheus_text_format(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"torghut_dead_letters_pending" in response.content
