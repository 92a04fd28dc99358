"""`/governance/drills`: the recent rollback drills and what each measured."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.drills.selectors import drill_runs_recent


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
    read_permission = "governance.view_drillrun"

    @extend_schema(responses=DrillRunSerializer(many=True))
    def get(self, request):
        return Response(DrillRunSerializer(drill_runs_recent(limit=50), many=True).data)
