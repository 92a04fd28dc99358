"""Routes of the governance API."""

from django.urls import path

from governance.drills import api as drills_api
from governance.emergency import api
from governance.evidence import api as evidence_api
from governance.promotion import api as api_promotion

urlpatterns = [
    path("kill-switch", api.KillSwitchApi.as_view(), name="governance-kill-switch"),
    path("kill-switch/engage", api.KillSwitchEngageApi.as_view(), name="governance-kill-switch-engage"),
    path("kill-switch/resume", api.KillSwitchResumeApi.as_view(), name="governance-kill-switch-resume"),
    path("evidence", evidence_api.EvidenceListApi.as_view(), name="governance-evidence-list"),
    path("evidence/<int:package_id>", evidence_api.EvidenceDetailApi.as_view(), name="governance-evidence-detail"),
    path("evidence/<int:package_id>/download", evidence_api.EvidenceDownloadApi.as_view(), name="governance-evidence-download"),
    path("drills", drills_api.DrillRunListApi.as_view(), name="governance-drill-list"),
    path("promotion-requests", api_promotion.PromotionRequestListApi.as_view(), name="governance-promotion-list"),
    path("promotion-requests/create", api_promotion.PromotionRequestCreateApi.as_view(), name="governance-promotion-create"),
    path("promotion-requests/<int:request_id>", api_promotion.PromotionRequestDetailApi.as_view(), name="governance-promotion-detail"),
    path(
        "promotion-requests/<int:request_id>/approve",
        api_promotion.PromotionRequestApproveApi.as_view(),
        name="governance-promotion-approve",
    ),
    path(
        "promotion-requests/<int:request_id>/reject", api_promotion.PromotionRequestRejectApi.as_view(), name="governance-promotion-reject"
    ),
    path("lane-history", api_promotion.LaneHistoryApi.as_view(), name="governance-lane-history"),
    path("capital-ramps", api_promotion.CapitalRampStatusApi.as_view(), name="governance-capital-ramps"),
]
