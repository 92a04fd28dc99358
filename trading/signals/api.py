"""Trading REST API: thin views over selectors, one APIView per operation."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from trading import ports
from trading.alerts.api import AlertSerializer
from trading.signals.selectors import HEALTH_REASONS, signal_continuity_snapshot, trading_health


class CursorSerializer(serializers.Serializer):
    at = serializers.DateTimeField(allow_null=True)
    symbol = serializers.CharField(allow_blank=True)
    seq = serializers.IntegerField()


class IngestWindowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.CharField()
    account = serializers.CharField()
    shard = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    rows_fetched = serializers.IntegerField()
    rows_accepted = serializers.IntegerField()
    rows_rejected = serializers.IntegerField()
    rejected_by_reason = serializers.DictField(child=serializers.IntegerField())
    decisions = serializers.IntegerField()
    reason = serializers.CharField()
    lag_seconds = serializers.FloatField(allow_null=True)
    latency_ms = serializers.FloatField()
    cursor_before = serializers.JSONField()
    cursor_after = serializers.JSONField()
    universe_status = serializers.CharField(allow_blank=True)
    detail = serializers.CharField(allow_blank=True)


class RejectedSymbolSerializer(serializers.Serializer):
    symbol = serializers.CharField(help_text="The rejected name as received (cut to 40 characters).")
    reason = serializers.CharField(help_text="not_a_string, blank, too_long or invalid_characters.")


class UniverseSerializer(serializers.Serializer):
    source = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    symbols = serializers.IntegerField(help_text="Symbol count.")
    cache_age_seconds = serializers.FloatField(allow_null=True)
    rejected = RejectedSymbolSerializer(many=True, help_text="Names of the last answer that failed validation (never queried).")


class ThresholdsSerializer(serializers.Serializer):
    streak = serializers.IntegerField()
    lag_seconds = serializers.FloatField()
    clear_polls = serializers.IntegerField()


class ContinuitySerializer(serializers.Serializer):
    source = serializers.CharField()
    account = serializers.CharField()
    last_reason = serializers.CharField(allow_null=True)
    last_window = IngestWindowSerializer(allow_null=True)
    lag_seconds = serializers.FloatField(allow_null=True)
    cursor = CursorSerializer(allow_null=True)
    streaks = serializers.DictField(child=serializers.IntegerField())
    thresholds = ThresholdsSerializer()
    market_open = serializers.BooleanField()
    universe = UniverseSerializer()
    continuity_state = serializers.ChoiceField(choices=["healthy", "degraded", "suppressed", "alerting"])
    open_alerts = AlertSerializer(many=True)


class TradingStatusSerializer(serializers.Serializer):
    signals = ContinuitySerializer()
    emergency_stop = serializers.JSONField(help_text="Kill-switch state, reason, since, firing triggers and recovery streaks.")


class TradingStatusApi(APIView):
    read_permission = "trading.view_ingestwindow"
    OutputSerializer = TradingStatusSerializer

    @extend_schema(responses=OutputSerializer, summary="Signal ingest, continuity and emergency-stop status")
    def get(self, request: Request) -> Response:
        data = {"signals": signal_continuity_snapshot(), "emergency_stop": ports.emergency_stop_state()}
        return Response(self.OutputSerializer(data).data)


class TradingHealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["healthy", "degraded"])
    reasons = serializers.ListField(child=serializers.ChoiceField(choices=list(HEALTH_REASONS)), help_text="Empty when healthy.")


class TradingHealthApi(APIView):
    """Trading health for load balancers and probes: anonymous, reason codes only, no figures or names."""

    # Probes carry no credentials; the answer holds no detail worth protecting.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    # Probes poll every few seconds from a few addresses: their own rate, not the anonymous API's.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "health"
    metadata_class = None  # OPTIONS is refused: an anonymous caller gets the GET and nothing else
    OutputSerializer = TradingHealthSerializer

    @extend_schema(
        auth=[],
        summary="Trading health: 200 healthy, 503 degraded with reason codes",
        responses={
            200: OpenApiResponse(TradingHealthSerializer, description="Healthy: ingest continuity, universe, ClickHouse, kill switch."),
            503: OpenApiResponse(TradingHealthSerializer, description="Degraded: `reasons` names each failing part."),
        },
    )
    def get(self, request: Request) -> Response:
        data = trading_health()
        code = status.HTTP_200_OK if data["status"] == "healthy" else status.HTTP_503_SERVICE_UNAVAILABLE
        return Response(self.OutputSerializer(data).data, status=code)


class TradingAutonomySerializer(serializers.Serializer):
    autonomy_enabled = serializers.BooleanField()
    universe_authoritative = serializers.BooleanField()
    emergency_stop = serializers.JSONField()
    signals = ContinuitySerializer()


class TradingAutonomyApi(APIView):
    read_permission = "trading.view_ingestwindow"
    OutputSerializer = TradingAutonomySerializer

    @extend_schema(responses=OutputSerializer, summary="Autonomy readiness: ingest reason telemetry and emergency-stop state")
    def get(self, request: Request) -> Response:
        snapshot = signal_continuity_snapshot()
        data = {
            "autonomy_enabled": settings.TRADING_AUTONOMY_ENABLED,
            "universe_authoritative": snapshot["universe"]["source"] == "jangar",
            "emergency_stop": ports.emergency_stop_state(),
            "signals": snapshot,
        }
        return Response(self.OutputSerializer(data).data)
