"""`/trading/pnl`: the session PnL the emergency stop and the capital ramp act on."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading.pnl.selectors import pnl_session


class StrategyPnlSerializer(serializers.Serializer):
    strategy = serializers.CharField(help_text="name@version, or `unattributed` for fills without a decision.")
    pnl = serializers.FloatField()
    realized_cash = serializers.FloatField()
    marked_value = serializers.FloatField()
    executions = serializers.IntegerField()
    gate_coverage = serializers.FloatField()


class SessionPnlSerializer(serializers.Serializer):
    session_start = serializers.DateTimeField(help_text="Open of the current NYSE session (of the last one while the market is closed).")
    window_start = serializers.DateTimeField(help_text="Same as `session_start`.")
    window_end = serializers.DateTimeField()
    mark_source = serializers.ChoiceField(choices=["signals", "signals_and_last_fill", "last_fill"])
    total = serializers.FloatField()
    allocated_capital = serializers.FloatField()
    drawdown_ratio = serializers.FloatField(
        allow_null=True, help_text="Session loss over allocated capital; null when there is a loss and no allocated capital (unbounded)."
    )
    executions = serializers.IntegerField()
    gate_coverage = serializers.FloatField(help_text="Share of executions whose strategy version has a passing gate report.")
    by_strategy = StrategyPnlSerializer(many=True)


class SessionPnlApi(APIView):  # name kept for trading/urls.py; it serves the session PnL
    read_permission = "trading.view_execution"
    OutputSerializer = SessionPnlSerializer

    @extend_schema(responses=OutputSerializer, summary="Session PnL per strategy and in total, with drawdown and gate coverage")
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(pnl_session().as_dict()).data)
