"""`/trading/pnl`: the session PnL the emergency stop and the capital ramp act on."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


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
        from trading.pnl.selectors import pnl_rolling_daily

        return Response(self.OutputSerializer(pnl_rolling_daily().as_dict()).data)
