"""`/trading/alerts`: open and closed alerts; an operator acknowledges or closes one with a reason.

Refusals carry their reason: 400 for a write the rules refuse (no reason, already closed), 403 without
`trading.manage_alert`, 404 for an unknown alert.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading.alerts.models import Alert
from trading.alerts.selectors import alert_get, alerts_list
from trading.alerts.services import ALERT_PERMISSION, AlertError, AlertPermissionDenied, alert_acknowledge, alert_close_by_operator


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    reason = serializers.CharField()
    severity = serializers.ChoiceField(choices=["info", "warning", "critical"])
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    last_seen = serializers.DateTimeField()
    payload = serializers.JSONField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.CharField(allow_blank=True)
    acknowledge_reason = serializers.CharField(allow_blank=True)
    closed_by = serializers.CharField(allow_blank=True)
    close_reason = serializers.CharField(allow_blank=True)
    closing_rule = serializers.CharField()


class AlertFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["open", "closed"], required=False)
    severity = serializers.ChoiceField(choices=["info", "warning", "critical"], required=False)
    limit = serializers.IntegerField(min_value=1, max_value=1000, required=False, default=200)


class AlertListApi(APIView):
    read_permission = "trading.view_alert"
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


class AlertActionInput(serializers.Serializer):
    reason = serializers.CharField(help_text="Why; recorded on the alert and in the audit trail.")


class _AlertActionApi(APIView):
    write_permission = ALERT_PERMISSION
    InputSerializer = AlertActionInput

    def permission_denied(self, request, message=None, code=None):
        if request.user and request.user.is_authenticated:
            message = f"{request.user.username} lacks {self.write_permission}"
        super().permission_denied(request, message=message, code=code)

    def _act(self, request: Request, alert_id: int, service) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            service(alert_id=alert_id, actor=request.user, reason=data.validated_data["reason"])
        except Alert.DoesNotExist:
            return Response({"detail": f"no alert {alert_id}"}, status=status.HTTP_404_NOT_FOUND)
        except AlertPermissionDenied as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
        except AlertError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(AlertSerializer(alert_get(alert_id=alert_id)).data)


class AlertAcknowledgeApi(_AlertActionApi):
    @extend_schema(request=AlertActionInput, responses=AlertSerializer, summary="Acknowledge an open alert (it stays open)")
    def post(self, request: Request, alert_id: int) -> Response:
        return self._act(request, alert_id, alert_acknowledge)


class AlertCloseApi(_AlertActionApi):
    @extend_schema(request=AlertActionInput, responses=AlertSerializer, summary="Close an open alert with a reason")
    def post(self, request: Request, alert_id: int) -> Response:
        return self._act(request, alert_id, alert_close_by_operator)
