"""Research REST API: runs (list with filters, detail with the gate report) and a run's evidence."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from research import selectors
from research.models import ResearchRun


class RunFilterSerializer(serializers.Serializer):
    strategy = serializers.CharField(required=False)
    version = serializers.CharField(required=False)
    status = serializers.ChoiceField(choices=ResearchRun.Status.choices, required=False)
    recommendation = serializers.ChoiceField(choices=ResearchRun.Recommendation.choices, required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=50)
    offset = serializers.IntegerField(required=False, min_value=0, default=0)


class RunSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = ResearchRun
        fields = [
            "run_id",
            "status",
            "trigger",
            "strategy_id",
            "strategy_name",
            "strategy_version",
            "strategy_kind",
            "window_start",
            "window_end",
            "source_table",
            "target_lane",
            "policy_name",
            "policy_version",
            "signals",
            "decisions",
            "trades",
            "net_pnl",
            "max_drawdown",
            "turnover",
            "win_rate",
            "errors",
            "recommendation",
            "gate_report_trace_id",
            "recommendation_trace_id",
            "failure_reason",
            "started_at",
            "finished_at",
        ]


class RunDetailSerializer(RunSummarySerializer):
    class Meta(RunSummarySerializer.Meta):
        fields = [*RunSummarySerializer.Meta.fields, "parameters", "gate_report"]


class RunListOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = RunSummarySerializer(many=True)


class EvidenceOutputSerializer(serializers.Serializer):
    run_id = serializers.CharField()
    status = serializers.CharField()
    recommendation = serializers.CharField()
    gate_report = serializers.JSONField()
    gate_report_trace_id = serializers.CharField()
    recommendation_trace_id = serializers.CharField()
    metrics = serializers.JSONField()
    dataset = serializers.JSONField()
    policy = serializers.JSONField()
    strategy = serializers.JSONField()
    target_lane = serializers.CharField()
    failure_reason = serializers.CharField(allow_blank=True)
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


def _run_or_404(run_id: str) -> ResearchRun:
    run = selectors.research_run_get(run_id=run_id)
    if run is None:
        raise Http404(f"no research run {run_id}")
    return run


class RunListApi(APIView):
    @extend_schema(operation_id="research_runs_list", parameters=[RunFilterSerializer], responses=RunListOutputSerializer)
    def get(self, request):
        filters = RunFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        params = dict(filters.validated_data)
        limit, offset = params.pop("limit"), params.pop("offset")
        runs = selectors.research_runs(**params)
        page = runs[offset : offset + limit]
        return Response({"count": runs.count(), "results": RunSummarySerializer(page, many=True).data})


class RunDetailApi(APIView):
    @extend_schema(responses=RunDetailSerializer)
    def get(self, request, run_id: str):
        return Response(RunDetailSerializer(_run_or_404(run_id)).data)


class RunEvidenceApi(APIView):
    @extend_schema(responses=EvidenceOutputSerializer)
    def get(self, request, run_id: str):
        evidence = selectors.research_run_evidence(run=_run_or_404(run_id))
        return Response(EvidenceOutputSerializer(evidence).data)
