"""Read API of decisions and executions: filters, keyset cursor pagination, limit <= 500."""

from __future__ import annotations

import base64
import binascii
import json

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from torghut.core.inputs import PG_BIGINT_MAX, StrictDateTimeField
from trading.orders.adapters import ADAPTER_NAMES
from trading.orders.models import DecisionStatus, ExecutionStatus, RouteTag
from trading.orders.selectors import ListFilters, decisions_list, executions_list

MAX_LIMIT = 500
MAX_CURSOR_LENGTH = 64  # an issued cursor is ~30 characters; a longer one is not ours


def cursor_encode(before_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": before_id}).encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        before = data["before"]
    except (binascii.Error, ValueError, TypeError, KeyError, RecursionError) as exc:
        raise serializers.ValidationError("not a cursor this API issued") from exc
    if not isinstance(before, int) or isinstance(before, bool) or not 1 <= before <= PG_BIGINT_MAX:
        raise serializers.ValidationError("not a cursor this API issued")
    return before


class _FilterInput(serializers.Serializer):
    symbol = serializers.RegexField(r"^[A-Za-z0-9.\-/]{1,32}$", required=False)
    strategy = serializers.CharField(required=False, max_length=150)
    adapter = serializers.ChoiceField(choices=ADAPTER_NAMES, required=False)
    route_tag = serializers.ChoiceField(choices=RouteTag.choices, required=False)
    since = StrictDateTimeField(required=False)
    until = StrictDateTimeField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=100)
    cursor = serializers.CharField(required=False, max_length=MAX_CURSOR_LENGTH)

    def validate_cursor(self, value: str) -> int:
        return cursor_decode(value)

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["unknown filter"] for name in unknown})
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": ["must be after since"]})
        return attrs


class DecisionFilterInput(_FilterInput):
    status = serializers.ChoiceField(choices=DecisionStatus.choices, required=False)


class ExecutionFilterInput(_FilterInput):
    status = serializers.ChoiceField(choices=ExecutionStatus.choices, required=False)


class ExecutionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    decision_id = serializers.IntegerField(allow_null=True)
    client_order_id = serializers.CharField()
    broker_order_id = serializers.CharField()
    account = serializers.CharField()
    symbol = serializers.CharField()
    side = serializers.CharField()
    expected_adapter = serializers.CharField()
    actual_adapter = serializers.CharField()
    fallback_reason = serializers.CharField()
    fallback_count = serializers.IntegerField()
    route_tag = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=20, decimal_places=6)
    filled_quantity = serializers.DecimalField(max_digits=20, decimal_places=6)
    avg_fill_price = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    status = serializers.CharField()
    error_category = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    filled_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class DecisionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    strategy_id = serializers.IntegerField()
    strategy = serializers.CharField(source="strategy.name")
    strategy_version = serializers.CharField()
    lane = serializers.CharField()
    account = serializers.CharField()
    symbol = serializers.CharField()
    side = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=20, decimal_places=6)
    order_type = serializers.CharField()
    price = serializers.DecimalField(max_digits=20, decimal_places=6)
    rationale = serializers.JSONField()
    signal_key = serializers.SerializerMethodField()
    decision_hash = serializers.CharField()
    status = serializers.CharField()
    reject_reason = serializers.CharField()
    expected_adapter = serializers.CharField()
    shadow_fill_price = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    decided_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    execution_id = serializers.SerializerMethodField()

    def get_signal_key(self, obj) -> dict:
        return {"symbol": obj.signal_symbol, "event_ts": obj.signal_event_ts.isoformat(), "seq": obj.signal_seq}

    def get_execution_id(self, obj) -> int | None:
        execution = getattr(obj, "execution", None)  # the reverse one-to-one raises an AttributeError when absent
        return execution.id if execution else None


class DecisionPageOutput(serializers.Serializer):
    results = DecisionOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    next = serializers.URLField(allow_null=True)


class ExecutionPageOutput(serializers.Serializer):
    results = ExecutionOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    next = serializers.URLField(allow_null=True)


def _filtered_page(request: Request, input_class, select, output_class) -> Response:
    params = {key: request.query_params.get(key) for key in request.query_params}
    data = input_class(data=params)
    if not data.is_valid():
        raise ValidationError(data.errors)
    v = data.validated_data
    filters = ListFilters(
        symbol=v.get("symbol", ""),
        strategy=v.get("strategy", ""),
        status=v.get("status", ""),
        adapter=v.get("adapter", ""),
        route_tag=v.get("route_tag", ""),
        since=v.get("since"),
        until=v.get("until"),
    )
    rows, next_before = select(filters=filters, before_id=v.get("cursor"), limit=v["limit"])
    next_cursor = cursor_encode(next_before) if next_before else None
    next_url = None
    if next_cursor:
        query = request.query_params.copy()
        query["cursor"] = next_cursor
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return Response({"results": output_class(rows, many=True).data, "next_cursor": next_cursor, "next": next_url})


class DecisionListApi(APIView):
    read_permission = "trading.view_decision"
    """Decisions, newest first. Filters: symbol, strategy (id, name or name@version), status, adapter,
    route_tag, since, until; `limit` <= 500; `cursor` from the previous page's `next_cursor`."""

    @extend_schema(parameters=[DecisionFilterInput], responses=DecisionPageOutput)
    def get(self, request: Request) -> Response:
        return _filtered_page(request, DecisionFilterInput, decisions_list, DecisionOutput)


class ExecutionListApi(APIView):
    read_permission = "trading.view_execution"
    """Executions with provenance, newest first. Same filters as decisions; `adapter` is the actual one."""

    @extend_schema(parameters=[ExecutionFilterInput], responses=ExecutionPageOutput)
    def get(self, request: Request) -> Response:
        return _filtered_page(request, ExecutionFilterInput, executions_list, ExecutionOutput)
