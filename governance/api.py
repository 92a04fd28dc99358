"""Governance API: read the kill switch, engage and resume it, list and download evidence packages."""
from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.models import EvidencePackage, KillSwitchState
from governance.selectors import drill_runs_recent, evidence_packages, kill_switch_state, kill_switch_transitions
from governance.services import (
    KILL_SWITCH_PERMISSION,
    GovernanceError,
    GovernancePermissionDenied,
    kill_switch_engage,
    kill_switch_resume,
)


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
    reason = serializers.CharField(max_length=2000)


class KillSwitchResumeInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class KillSwitchApi(APIView):
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


class EvidenceSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    triggers = serializers.ListField(child=serializers.CharField())
    sha256 = serializers.CharField()
    previous_sha256 = serializers.CharField()
    missing_sources = serializers.ListField(child=serializers.CharField())


class EvidenceListApi(APIView):
    @extend_schema(responses=EvidenceSummarySerializer(many=True))
    def get(self, request):
        return Response(EvidenceSummarySerializer(evidence_packages(), many=True).data)


class EvidenceDetailSerializer(EvidenceSummarySerializer):
    content = serializers.JSONField()


class EvidenceDetailApi(APIView):
    @extend_schema(responses=EvidenceDetailSerializer)
    def get(self, request, package_id: int):
        package = get_object_or_404(EvidencePackage, pk=package_id)
        return Response(EvidenceDetailSerializer({**EvidenceSummarySerializer(package).data, "content": package.content}).data)


def evidence_download_response(package: EvidencePackage) -> HttpResponse:
    """The stored bytes exactly as hashed, so `sha256sum` of the download equals the package hash."""
    response = HttpResponse(package.body.encode("utf-8"), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="evidence-{package.pk}-{package.sha256[:12]}.json"'
    response["X-Evidence-SHA256"] = package.sha256
    return response


class EvidenceDownloadApi(APIView):
    @extend_schema(responses={(200, "application/json"): bytes})
    def get(self, request, package_id: int):
        return evidence_download_response(get_object_or_404(EvidencePackage, pk=package_id))


class DrillRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    trigger = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    passed = serializers.BooleanField()
    time_to_halt_seconds = serializers.FloatField(allow_null=True)
    time_to_cancel_seconds = serializers.FloatField(allow_null=True)
    evidence_id = serializers.IntegerField(allow_null=True)
    checks = serializers.DictField(child=serializers.BooleanField())
    fault = serializers.DictField(help_text="What the drill injected and how it repaired it.")
    error = serializers.CharField()


class DrillRunListApi(APIView):
    @extend_schema(responses=DrillRunSerializer(many=True))
    def get(self, request):
        return Response(DrillRunSerializer(drill_runs_recent(limit=50), many=True).data)
