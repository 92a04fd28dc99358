"""Research REST API: runs (list with filters, detail with the gate report, folds, stress and review), a run's
evidence, and its charts (SVG downloads)."""

from __future__ import annotations

import re

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from research import selectors
from research.models import ResearchRun, ResearchRunPicture
from torghut.core.inputs import BigIntegerField, StrictDateTimeField

RUN_ID = re.compile(r"[0-9a-f]{24}")  # the shape the `researchrun_run_id_hex24` constraint enforces


class RunFilterSerializer(serializers.Serializer):
    strategy = serializers.CharField(required=False)
    version = serializers.CharField(required=False)
    status = serializers.ChoiceField(choices=ResearchRun.Status.choices, required=False)
    recommendation = serializers.ChoiceField(choices=ResearchRun.Recommendation.choices, required=False)
    since = StrictDateTimeField(required=False)
    until = StrictDateTimeField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=50)
    offset = BigIntegerField(required=False, min_value=0, default=0)


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


class FoldSerializer(serializers.Serializer):
    fold = serializers.IntegerField()
    mode = serializers.ChoiceField(choices=["rolling", "anchored"])
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    trades = serializers.IntegerField()
    net_pnl = serializers.FloatField()
    sharpe = serializers.FloatField(allow_null=True)
    max_drawdown = serializers.FloatField()
    hit_rate = serializers.FloatField(allow_null=True)


class StressSerializer(serializers.Serializer):
    case = serializers.CharField()
    commission_bps = serializers.FloatField()
    slippage_bps = serializers.FloatField()
    latency_bars = serializers.IntegerField()
    trades = serializers.IntegerField()
    net_pnl = serializers.FloatField()
    max_drawdown = serializers.FloatField()


class LlmReviewSerializer(serializers.Serializer):
    """Empty when the reviewer is off; otherwise `evaluated` with a verdict, or `not_evaluated` with the reason."""

    status = serializers.ChoiceField(choices=["evaluated", "not_evaluated"], required=False)
    verdict = serializers.ChoiceField(choices=["approve", "concerns", "veto"], required=False)
    rationale = serializers.CharField(required=False)
    risks = serializers.ListField(child=serializers.CharField(), required=False)
    reason = serializers.CharField(required=False)
    model = serializers.CharField(required=False)
    prompt_version = serializers.CharField(required=False)
    prompt_sha256 = serializers.CharField(required=False)
    reviewed_gate_report_trace_id = serializers.CharField(required=False)
    latency_ms = serializers.FloatField(required=False)


class PictureLinkSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ResearchRunPicture.Kind.choices)
    media_type = serializers.CharField()
    sha256 = serializers.CharField()
    url = serializers.CharField()


def _picture_links(run: ResearchRun) -> list[dict]:
    return [
        {"kind": p.kind, "media_type": p.media_type, "sha256": p.sha256, "url": f"/research/runs/{run.run_id}/pictures/{p.kind}"}
        for p in selectors.research_run_pictures(run=run)
    ]


class RunDetailSerializer(RunSummarySerializer):
    folds = serializers.SerializerMethodField()
    stress = serializers.SerializerMethodField()
    llm_review = LlmReviewSerializer()
    pictures = serializers.SerializerMethodField()

    class Meta(RunSummarySerializer.Meta):
        fields = [
            *RunSummarySerializer.Meta.fields,
            "parameters",
            "gate_report",
            "folds",
            "stress",
            "llm_review",
            "llm_review_trace_id",
            "pictures",
        ]

    @extend_schema_field(FoldSerializer(many=True))
    def get_folds(self, run: ResearchRun) -> list[dict]:
        return FoldSerializer(selectors.research_run_folds(run=run), many=True).data

    @extend_schema_field(StressSerializer(many=True))
    def get_stress(self, run: ResearchRun) -> list[dict]:
        return StressSerializer(selectors.research_run_stress(run=run), many=True).data

    @extend_schema_field(PictureLinkSerializer(many=True))
    def get_pictures(self, run: ResearchRun) -> list[dict]:
        return _picture_links(run)


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
    folds = FoldSerializer(many=True)
    stress = StressSerializer(many=True)
    llm_review = LlmReviewSerializer()
    llm_review_trace_id = serializers.CharField(allow_blank=True)
    pictures = serializers.JSONField()


def _run_or_404(run_id: str) -> ResearchRun:
    # Only the id shape a run can have reaches the database (a NUL byte there is a 500, not a miss).
    run = selectors.research_run_get(run_id=run_id) if RUN_ID.fullmatch(run_id) else None
    if run is None:
        raise Http404(f"no research run {run_id}")
    return run


class RunListApi(APIView):
    read_permission = "research.view_researchrun"

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
    read_permission = "research.view_researchrun"

    @extend_schema(responses=RunDetailSerializer)
    def get(self, request, run_id: str):
        return Response(RunDetailSerializer(_run_or_404(run_id)).data)


class RunEvidenceApi(APIView):
    read_permission = "research.view_researchrun"

    @extend_schema(responses=EvidenceOutputSerializer)
    def get(self, request, run_id: str):
        evidence = selectors.research_run_evidence(run=_run_or_404(run_id))
        return Response(EvidenceOutputSerializer(evidence).data)


class RunPictureApi(APIView):
    read_permission = "research.view_researchrun"

    @extend_schema(
        operation_id="research_runs_picture",
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=[k for k, _ in ResearchRunPicture.Kind.choices])],
        responses={(200, "image/svg+xml"): OpenApiTypes.BINARY},
    )
    def get(self, request, run_id: str, kind: str):
        run = _run_or_404(run_id)
        picture = selectors.research_run_picture(run=run, kind=kind) if kind in ResearchRunPicture.Kind.values else None
        if picture is None:
            raise Http404(f"no {kind} picture for research run {run_id}")
        response = HttpResponse(picture.content, content_type=picture.media_type)
        response["Content-Disposition"] = f'attachment; filename="{run_id}-{kind}.svg"'
        response["ETag"] = f'"{picture.sha256}"'
        return response
