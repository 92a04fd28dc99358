"""Hypothesis over the query strings of the GET list endpoints: whatever a caller sends, the answer is never a 5xx."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LIST_ENDPOINTS = [
    "/trading/decisions",
    "/trading/executions",
    "/trading/alerts",
    "/research/runs",
    "/governance/evidence",
    "/governance/drills",
    "/governance/promotion-requests",
    "/governance/lane-history",
    "/governance/capital-ramps",
]
PARAMETERS = [
    "symbol", "strategy", "version", "adapter", "route_tag", "status", "recommendation", "state", "severity",
    "since", "until", "at", "limit", "offset", "cursor", "strategy_id", "all",
]  # fmt: skip
# Bounded (25 examples per endpoint, no deadline, no example database) so the whole file runs in seconds.
FUZZ = settings(
    max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

timestamps = st.builds(
    "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}{}{:02d}:{:02d}".format,
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 61),
    st.sampled_from(["+", "-", " "]),
    st.integers(0, 99),
    st.integers(0, 99),
)
nested_cursors = st.integers(1, 3000).map(lambda depth: base64.urlsafe_b64encode(b"[" * depth + b"]" * depth).decode())
values = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.integers(-(10**30), 10**30).map(str),
    timestamps,
    nested_cursors,
    st.sampled_from(["", "\x00", "²", "NaN", "1e999", "true", "-0", "paper", "halted", "pending", "open"]),
)
queries = st.dictionaries(st.one_of(st.sampled_from(PARAMETERS), st.text(max_size=8)), values, max_size=5)
raw_queries = st.lists(
    st.one_of(st.sampled_from(["%00", "%FF", "%C2%B2", "%", "=", "&", "+", "%2B"]), st.text("a=&%0179", max_size=4)), max_size=12
)


@pytest.fixture
def superuser_client(django_user_model) -> APIClient:
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_superuser(username="fuzz-queries", password="fuzz-queries-pass-1"))
    return client


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
@FUZZ
@given(query=queries)
def test_no_query_string_gets_a_server_error(superuser_client, path, query):
    response = superuser_client.get(path + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items()))
    assert response.status_code < 500, (path, query, response.content[:300])


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
@FUZZ
@given(pieces=raw_queries)
def test_no_raw_percent_encoding_gets_a_server_error(superuser_client, path, pieces):
    response = superuser_client.get(path + "?" + "".join(pieces))
    assert response.status_code < 500, (path, pieces, response.content[:300])
