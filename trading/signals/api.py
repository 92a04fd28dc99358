"""Trading REST API: thin views over selectors, one APIView per operation."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading import ports
from trading.alerts.api import AlertSerializer
from trading.signals.selectors import signal_continuity_snapshot


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


class UniverseSerializer(serializers.Serializer):
    source = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    symbols = serializers.IntegerField(help_text="Symbol count.")
    cache_age_seconds = serializers.FloatField(allow_null=True)


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
    OutputSerializer = TradingStatusSerializer

    @extend_schema(responses=OutputSerializer, summary="Signal ingest, continuity and emergency-stop status")
    def get(self, request: Request) -> Response:
        data = {"signals": signal_continuity_snapshot(), "emergency_stop": ports.emergency_stop_state()}
        return Response(self.OutputSerializer(data).data)


class TradingAutonomySerializer(serializers.Serializer):
    autonomy_enabled = serializers.BooleanField()
    universe_authoritative = serializers.BooleanField()
    emergency_stop = serializers.JSONField()
    signals = ContinuitySerializer()


class TradingAutonomyApi(APIView):
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
