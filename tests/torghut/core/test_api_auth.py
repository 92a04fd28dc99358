import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from knox.models import AuthToken
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

pytestmark = pytest.mark.django_db


class _GuardedView(APIView):
    read_permission = "torghut.view_deadletter"
    write_permission = "torghut.replay_deadletter"

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"written": True})


class _UnguardedView(APIView):
    def post(self, request):
        return Response({"written": True})


def _call(view, method, user=None):
    request = getattr(APIRequestFactory(), method)("/x")
    if user is not None:
        force_authenticate(request, user=user)
    return view.as_view()(request)


def test_anonymous_callers_can_neither_read_nor_write():
    assert _call(_GuardedView, "get").status_code in (401, 403)
    assert _call(_GuardedView, "post").status_code in (401, 403)


def test_readers_read_but_need_the_named_permission_to_write(user):
    assert _call(_GuardedView, "get", user).status_code == 200
    assert _call(_GuardedView, "post", user).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="replay_deadletter"))
    user = type(user).objects.get(pk=user.pk)  # drop the cached permission set
    assert _call(_GuardedView, "post", user).status_code == 200


def test_a_write_on_a_view_naming_no_permission_is_refused_even_for_superusers(admin_user):
    assert _call(_UnguardedView, "post", admin_user).status_code == 403


def test_create_api_token_prints_a_token_that_authenticates(user, capsys, client):
    call_command("create_api_token", user.username)
    key = capsys.readouterr().out.strip()
    assert client.get("/research/runs", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    call_command("create_api_token", user.username, "--rotate")
    rotated = capsys.readouterr().out.strip()
    assert rotated != key
    assert client.get("/research/runs", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert AuthToken.objects.filter(user=user).count() == 1


def test_openapi_schema_is_served_to_authenticated_users(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
