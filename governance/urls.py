"""Routes of the governance API."""
from django.urls import path

from governance import api

urlpatterns = [
    path("kill-switch", api.KillSwitchApi.as_view(), name="governance-kill-switch"),
    path("kill-switch/engage", api.KillSwitchEngageApi.as_view(), name="governance-kill-switch-engage"),
    path("kill-switch/resume", api.KillSwitchResumeApi.as_view(), name="governance-kill-switch-resume"),
    path("evidence", api.EvidenceListApi.as_view(), name="governance-evidence-list"),
    path("evidence/<int:package_id>", api.EvidenceDetailApi.as_view(), name="governance-evidence-detail"),
    path("evidence/<int:package_id>/download", api.EvidenceDownloadApi.as_view(), name="governance-evidence-download"),
    path("drills", api.DrillRunListApi.as_view(), name="governance-drill-list"),
]
