"""Promotion API: requests (list, create, approve, reject), lane history at a moment, capital ramps.

Refusals carry their reason: 400 for a request the rules refuse (with the checkpoint failures),
403 when the caller may not do it (missing permission, not an approver, four eyes).
"""

from __future__ import annotations

from datetime import UTC

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.errors import GovernanceError, GovernancePermissionDenied
from governance.lanes.selectors import lane_history_at
from governance.promotion import services as promotion
from governance.promotion.models import PromotionRequest
from governance.promotion.selectors import capital_ramps_status, promotion_request_dict, promotion_requests_list
from torghut.core.inputs import BigIntegerField, ReasonField, StrictDateTimeField
from torghut.core.security import REASON_MAX_LENGTH


def _refusal(exc: GovernanceError) -> Response:
    code = status.HTTP_403_FORBIDDEN if isinstance(exc, GovernancePermissionDenied) else status.HTTP_400_BAD_REQUEST
    return Response({"detail": str(exc)}, status=code)


class _NamesItsPermission:
    """A refused write says which permission it needs instead of DRF's generic sentence."""

    def permission_denied(self, request, message=None, code=None):
        if request.user and request.user.is_authenticated and getattr(self, "write_permission", None):
            message = f"{request.user.username} lacks {self.write_permission}"
        super().permission_denied(request, message=message, code=code)


class PromotionRequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    strategy_id = serializers.IntegerField()
    version = serializers.CharField()
    from_lane = serializers.CharField()
    to_lane = serializers.CharField()
    requester = serializers.CharField()
    reason = serializers.CharField()
    research_run_ids = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField()
    approvals_required = serializers.IntegerField()
    approvals = serializers.ListField(child=serializers.DictField())
    checkpoint_at_request = serializers.DictField()
    checkpoint_at_approval = serializers.DictField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    applied_at = serializers.DateTimeField(allow_null=True)
    lane_change_id = serializers.IntegerField(allow_null=True)


class PromotionRequestFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pending", "approved", "rejected", "expired", "applied"], required=False)
    strategy_id = BigIntegerField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=100)


class PromotionRequestListApi(APIView):
    read_permission = "governance.view_promotionrequest"

    @extend_schema(parameters=[PromotionRequestFilter], responses=PromotionRequestOutput(many=True))
    def get(self, request):
        filters = PromotionRequestFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = promotion_requests_list(**filters.validated_data)
        return Response(PromotionRequestOutput(rows, many=True).data)


class PromotionRequestCreateInput(serializers.Serializer):
    strategy_id = BigIntegerField()
    to_lane = serializers.CharField()
    # Optional on a request (the checkpoint is its evidence), bounded when given, as the service says.
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=REASON_MAX_LENGTH)
    research_run_ids = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class PromotionRequestCreateApi(_NamesItsPermission, APIView):
    write_permission = promotion.REQUEST_PERMISSION

    @extend_schema(request=PromotionRequestCreateInput, responses={201: PromotionRequestOutput})
    def post(self, request):
        data = PromotionRequestCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            created = promotion.promotion_request_create(requester=request.user, **data.validated_data)
        except GovernanceError as exc:
            return _refusal(exc)
        return Response(PromotionRequestOutput(promotion_request_dict(created)).data, status=status.HTTP_201_CREATED)


class PromotionRequestDetailApi(APIView):
    read_permission = "governance.view_promotionrequest"

    @extend_schema(responses=PromotionRequestOutput)
    def get(self, request, request_id: int):

        row = PromotionRequest.objects.filter(pk=request_id).first()
        if row is None:
            return Response({"detail": f"no promotion request {request_id}"}, status=status.HTTP_404_NOT_FOUND)
        return Response(PromotionRequestOutput(promotion_request_dict(row)).data)


class PromotionDecisionInput(serializers.Serializer):
    reason = ReasonField()


class PromotionRequestApproveApi(_NamesItsPermission, APIView):
    write_permission = promotion.APPROVE_PERMISSION

    @extend_schema(request=PromotionDecisionInput, responses=PromotionRequestOutput)
    def post(self, request, request_id: int):
        data = PromotionDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            row = promotion.promotion_request_approve(request_id=request_id, approver=request.user, reason=data.validated_data["reason"])
        except GovernanceError as exc:
            return _refusal(exc)
        return Response(PromotionRequestOutput(promotion_request_dict(row)).data)


class PromotionRequestRejectApi(_NamesItsPermission, APIView):
    write_permission = promotion.APPROVE_PERMISSION

    @extend_schema(request=PromotionDecisionInput, responses=PromotionRequestOutput)
    def post(self, request, request_id: int):
        data = PromotionDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            row = promotion.promotion_request_reject(request_id=request_id, approver=request.user, reason=data.validated_data["reason"])
        except GovernanceError as exc:
            return _refusal(exc)
        return Response(PromotionRequestOutput(promotion_request_dict(row)).data)


class LaneHistoryOutput(serializers.Serializer):
    strategy_id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.CharField()
    lane = serializers.CharField()
    since = serializers.DateTimeField()
    lane_change_id = serializers.IntegerField(allow_null=True)


class LaneHistoryInput(serializers.Serializer):
    at = StrictDateTimeField(required=False, help_text="ISO 8601 timestamp (default: now); naive is UTC.", default_timezone=UTC)


class LaneHistoryApi(APIView):
    read_permission = "governance.view_lanechange"

    @extend_schema(parameters=[LaneHistoryInput], responses=LaneHistoryOutput(many=True))
    def get(self, request):
        raw = request.query_params.get("at")
        # An unencoded `+` of an offset arrives as a space: read it back as the `+` it was.
        data = LaneHistoryInput(data={"at": raw.replace(" ", "+")} if raw else {})
        if not data.is_valid():
            detail = f"`at` must be an ISO 8601 timestamp with a valid offset, got {raw!r}"
            return Response({"detail": detail, **data.errors}, status=status.HTTP_400_BAD_REQUEST)
        at = data.validated_data.get("at") or timezone.now()
        rows = lane_history_at(at=at)
        return Response({"at": at, "strategies": LaneHistoryOutput(rows, many=True).data})


class CapitalRampOutput(serializers.Serializer):
    id = serializers.IntegerField()
    strategy_id = serializers.IntegerField()
    version = serializers.CharField()
    request_id = serializers.IntegerField()
    status = serializers.CharField()
    schedule = serializers.ListField(child=serializers.FloatField())
    step = serializers.IntegerField()
    fraction = serializers.FloatField()
    started_at = serializers.DateTimeField()
    last_day = serializers.DateField(allow_null=True)
    ledger = serializers.ListField(child=serializers.DictField())


class CapitalRampStatusApi(APIView):
    read_permission = "governance.view_capitalramp"

    @extend_schema(
        parameters=[OpenApiParameter("all", bool, description="Include stopped ramps")],
        responses=CapitalRampOutput(many=True),
    )
    def get(self, request):
        active_only = request.query_params.get("all", "").lower() not in {"1", "true", "yes"}
        return Response(CapitalRampOutput(capital_ramps_status(active_only=active_only), many=True).data)
