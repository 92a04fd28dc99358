"""Trading REST API: thin views over selectors, one APIView per operation."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading import selectors


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


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    reason = serializers.CharField()
    severity = serializers.ChoiceField(choices=["info", "warning", "critical"])
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    last_seen = serializers.DateTimeField()
    payload = serializers.JSONField()


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


def _emergency_stop_state() -> dict:
    """Kill-switch state, firing triggers, since when, and recovery streaks, as governance reports them."""
    from governance.selectors import kill_switch_state

    return dict(kill_switch_state())


class TradingStatusSerializer(serializers.Serializer):
    signals = ContinuitySerializer()
    emergency_stop = serializers.JSONField(help_text="Kill-switch state, reason, since, firing triggers and recovery streaks.")


class TradingStatusApi(APIView):
    OutputSerializer = TradingStatusSerializer

    @extend_schema(responses=OutputSerializer, summary="Signal ingest, continuity and emergency-stop status")
    def get(self, request: Request) -> Response:
        data = {"signals": selectors.signal_continuity_snapshot(), "emergency_stop": _emergency_stop_state()}
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
        from django.conf import settings

        snapshot = selectors.signal_continuity_snapshot()
        data = {
            "autonomy_enabled": settings.TRADING_AUTONOMY_ENABLED,
            "universe_authoritative": snapshot["universe"]["source"] == "jangar",
            "emergency_stop": _emergency_stop_state(),
            "signals": snapshot,
        }
        return Response(self.OutputSerializer(data).data)


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
        return Response(AlertSerializer(selectors.alerts_list(**filters.validated_data), many=True).data)


class StrategyPnlSerializer(serializers.Serializer):
    strategy = serializers.CharField(help_text="name@version, or `unattributed` for fills without a decision.")
    pnl = serializers.FloatField()
    realized_cash = serializers.FloatField()
    marked_value = serializers.FloatField()
    executions = serializers.IntegerField()
    gate_coverage = serializers.FloatField()


class RollingPnlSerializer(serializers.Serializer):
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    mark_source = serializers.ChoiceField(choices=["signals", "signals_and_last_fill", "last_fill"])
    total = serializers.FloatField()
    allocated_capital = serializers.FloatField()
    drawdown_ratio = serializers.FloatField()
    executions = serializers.IntegerField()
    gate_coverage = serializers.FloatField(help_text="Share of executions whose strategy version has a passing gate report.")
    by_strategy = StrategyPnlSerializer(many=True)


class RollingPnlApi(APIView):
    OutputSerializer = RollingPnlSerializer

    @extend_schema(responses=OutputSerializer, summary="Rolling 24 h PnL per strategy and in total, with gate coverage")
    def get(self, request: Request) -> Response:
        from trading.pnl import pnl_rolling_daily

        return Response(self.OutputSerializer(pnl_rolling_daily().as_dict()).data)
