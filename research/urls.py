"""Routes of the research API."""

from django.urls import path

from research import api

urlpatterns = [
    path("runs", api.RunListApi.as_view(), name="research-runs"),
    path("runs/<str:run_id>", api.RunDetailApi.as_view(), name="research-run-detail"),
    path("runs/<str:run_id>/evidence", api.RunEvidenceApi.as_view(), name="research-run-evidence"),
    path("runs/<str:run_id>/pictures/<str:kind>", api.RunPictureApi.as_view(), name="research-run-picture"),
]
