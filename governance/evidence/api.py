"""`/governance/evidence`: the evidence packages written on every halt, and their download."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.evidence.models import EvidencePackage
from governance.evidence.selectors import evidence_packages


class EvidenceSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    triggers = serializers.ListField(child=serializers.CharField())
    sha256 = serializers.CharField()
    previous_sha256 = serializers.CharField()
    missing_sources = serializers.ListField(child=serializers.CharField())


class EvidenceListApi(APIView):
    read_permission = "governance.view_evidencepackage"

    @extend_schema(responses=EvidenceSummarySerializer(many=True))
    def get(self, request):
        return Response(EvidenceSummarySerializer(evidence_packages(), many=True).data)


class EvidenceDetailSerializer(EvidenceSummarySerializer):
    content = serializers.JSONField()


class EvidenceDetailApi(APIView):
    read_permission = "governance.view_evidencepackage"

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
    read_permission = "governance.view_evidencepackage"

    @extend_schema(responses={(200, "application/json"): bytes})
    def get(self, request, package_id: int):
        return evidence_download_response(get_object_or_404(EvidencePackage, pk=package_id))
