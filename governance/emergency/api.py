"""Governance API: read the kill switch, engage and resume it, list and download evidence packages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.emergency.selectors import kill_switch_state
from governance.errors import GovernanceError, GovernancePermissionDenied
from governance.killswitch.models import KillSwitchState
from governance.killswitch.selectors import kill_switch_transitions
from governance.killswitch.services import KILL_SWITCH_PERMISSION, kill_switch_engage, kill_switch_resume
from torghut.core.inputs import ReasonField


class TriggerStateSerializer(serializers.Serializer):
    trigger = serializers.CharField()
    status = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    breach_streak = serializers.IntegerField()
    clean_streak = serializers.IntegerField(help_text="Recovery streak: consecutive clean evaluations.")
    firing = serializers.BooleanField()
    warning = serializers.BooleanField()
    fired_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField()
    evaluated_at = serializers.DateTimeField(allow_null=True)
    confirm_evaluations = serializers.IntegerField(allow_null=True, help_text="Breaching evaluations that halt.")
    clear_evaluations = serializers.IntegerField(allow_null=True, help_text="Clean evaluations that clear a lag/staleness trigger.")


class TransitionSerializer(serializers.Serializer):
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    reason = serializers.CharField()
    actor = serializers.CharField()
    source = serializers.CharField()
    triggers = serializers.ListField(child=serializers.CharField())
    at = serializers.DateTimeField()


class KillSwitchOutputSerializer(serializers.Serializer):
    state = serializers.CharField()
    readable = serializers.BooleanField()
    read_from = serializers.CharField()
    reason = serializers.CharField()
    actor = serializers.CharField()
    source = serializers.CharField()
    engaged_by = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True)
    firing = serializers.ListField(child=serializers.CharField())
    triggers = TriggerStateSerializer(many=True)
    transitions = TransitionSerializer(many=True)


def _kill_switch_body() -> dict:
    body = kill_switch_state()
    try:
        body["transitions"] = kill_switch_transitions(limit=20)
    except Exception:  # the state (fail-closed) is still worth showing when history cannot be read
        body["transitions"] = []
    return KillSwitchOutputSerializer(body).data


class KillSwitchEngageInputSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=[KillSwitchState.HALTED.value, KillSwitchState.REDUCING.value])
    reason = ReasonField()


class KillSwitchResumeInputSerializer(serializers.Serializer):
    reason = ReasonField()


class KillSwitchApi(APIView):
    read_permission = "governance.view_killswitch"

    @extend_schema(responses=KillSwitchOutputSerializer)
    def get(self, request):
        return Response(_kill_switch_body())


class KillSwitchEngageApi(APIView):
    write_permission = KILL_SWITCH_PERMISSION

    @extend_schema(request=KillSwitchEngageInputSerializer, responses=KillSwitchOutputSerializer)
    def post(self, request):
        data = KillSwitchEngageInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _apply(lambda: kill_switch_engage(actor=request.user, **data.validated_data))


class KillSwitchResumeApi(APIView):
    write_permission = KILL_SWITCH_PERMISSION

    @extend_schema(request=KillSwitchResumeInputSerializer, responses=KillSwitchOutputSerializer)
    def post(self, request):
        data = KillSwitchResumeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _apply(lambda: kill_switch_resume(actor=request.user, reason=data.validated_data["reason"]))


def _apply(action) -> Response:
    try:
        action()
    except GovernancePermissionDenied as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    except GovernanceError as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    return Response(_kill_switch_body())
