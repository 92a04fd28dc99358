"""Schemathesis against the served OpenAPI schema: no server errors for any input, no anonymous writes."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _served_schema():
    from django.core.wsgi import get_wsgi_application

    # Loaded at collection (the schema view reads no database); pytest 9 breaks schemathesis' lazy fixture loader.
    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


schema = _served_schema()


@pytest.fixture
def superuser_token(db, django_user_model) -> str:
    from rest_framework.authtoken.models import Token

    admin = django_user_model.objects.create_superuser(username="fuzz-admin", password="fuzz-admin-pass-123")
    return Token.objects.create(user=admin).key


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@FUZZ
def test_no_generated_request_from_a_superuser_gets_a_server_error(case, superuser_token):
    response = case.call(headers={"Authorization": f"Token {superuser_token}"})
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500, f"{case.method} {case.formatted_path} answered {response.status_code}"


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@FUZZ
def test_anonymous_callers_are_refused_by_every_operation(case):
    response = case.call()
    # A generated path value that matches no URL pattern is a 404 before authentication runs.
    refused = (401, 403, 404) if case.path_parameters else (401, 403)
    assert response.status_code in refused, f"{case.method} {case.formatted_path} answered {response.status_code} to an anonymous caller"


def test_the_served_schema_has_write_operations_to_guard(client, db):
    served = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    methods = {method.upper() for operations in served["paths"].values() for method in operations}
    assert methods & WRITE_METHODS, "no write endpoint in the schema: the anonymous-write check would be empty"
