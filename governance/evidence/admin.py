"""Evidence packages in the admin: read-only, downloadable as the JSON whose sha256 they carry."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from governance.evidence.api import evidence_download_response
from governance.evidence.models import EvidencePackage
from torghut.core.admin_base import ReadOnlyModelAdmin


@admin.register(EvidencePackage)
class EvidencePackageAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "created_at", "triggers", "sha256", "previous_sha256", "missing_sources", "download")
    readonly_fields = ("created_at", "triggers", "sha256", "previous_sha256", "missing_sources", "download", "body")

    @admin.display(description="download")
    def download(self, obj):
        return format_html('<a href="{}">evidence-{}.json</a>', reverse("admin:governance_evidencepackage_download", args=[obj.pk]), obj.pk)

    def get_urls(self):
        return [
            path("<int:package_id>/download/", self.admin_site.admin_view(self.download_view), name="governance_evidencepackage_download"),
            *super().get_urls(),
        ]

    def download_view(self, request, package_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return evidence_download_response(get_object_or_404(EvidencePackage, pk=package_id))
