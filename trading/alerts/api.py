"""`/trading/alerts`: open and closed alerts."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading.alerts.selectors import alerts_list


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    reason = serializers.CharField()
    severity = serializers.ChoiceField(choices=["info", "warning", "critical"])
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    last_seen = serializers.DateTimeField()
    payload = serializers.JSONField()


class AlertFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["open", "closed"], required=False)
    severity = serializers.ChoiceField(choices=["info", "warning", "critical"], required=False)
    limit = serializers.IntegerField(min_value=1, max_value=1000, required=False, default=200)


class AlertListApi(APIView):
    FilterSerializer = AlertFilterSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=["open", "closed"], description="Only open or only closed alerts."),
            OpenApiParameter("severity", str, enum=["info", "warning", "critical"]),
            OpenApiParameter("limit", int),
        ],
        responses=AlertSerializer(many=True),
        summary="Alerts, newest first",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Response(AlertSerializer(alerts_list(**filters.validated_data), many=True).data)
