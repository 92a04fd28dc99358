"""Django admin of governance: the kill switch (engage/resume through the services), policies
(every change audited), and read-only ledgers, evidence packages (download) and drills."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from governance.api import evidence_download_response
from governance.models import (
    DrillRun,
    EmergencyStopPolicy,
    EvidencePackage,
    KillSwitch,
    KillSwitchState,
    KillSwitchTransition,
    LaneChange,
    TriggerState,
)
from governance.selectors import kill_switch_transitions
from governance.services import (
    KILL_SWITCH_PERMISSION,
    GovernanceError,
    emergency_stop_policy_update,
    kill_switch_engage,
    kill_switch_resume,
)
from torghut.admin_base import ReadOnlyModelAdmin


class KillSwitchForm(forms.ModelForm):
    operator_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Why; recorded in the history and the audit trail.")

    class Meta:
        model = KillSwitch
        fields = ("state",)


@admin.register(KillSwitch)
class KillSwitchAdmin(admin.ModelAdmin):
    form = KillSwitchForm
    list_display = ("__str__", "state", "source", "actor", "engaged_by", "changed_at", "reason")
    readonly_fields = ("reason", "actor", "source", "engaged_by", "changed_at", "history")

    def has_add_permission(self, request):
        # Only until the first engage creates the row: there is one switch.
        return request.user.has_perm(KILL_SWITCH_PERMISSION) and not KillSwitch.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm(KILL_SWITCH_PERMISSION)

    @admin.display(description="recent transitions")
    def history(self, obj):
        rows = kill_switch_transitions(limit=20)
        return format_html_join(
            "", "<div>{} {} &rarr; {} by {} ({}): {}</div>",
            ((r["at"].strftime("%Y-%m-%d %H:%M:%S"), r["from_state"], r["to_state"], r["actor"], r["source"], r["reason"]) for r in rows),
        )

    def save_model(self, request, obj, form, change):
        # The services write the row, history, audit and Redis mirror; the form only carries intent.
        reason = form.cleaned_data["operator_reason"]
        try:
            if obj.state == KillSwitchState.ACTIVE:
                kill_switch_resume(actor=request.user, reason=reason)
            else:
                kill_switch_engage(actor=request.user, state=obj.state, reason=reason)
        except GovernanceError as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
        obj.pk = KillSwitch.SINGLETON_ID


@admin.register(KillSwitchTransition)
class KillSwitchTransitionAdmin(ReadOnlyModelAdmin):
    list_display = ("at", "from_state", "to_state", "actor", "source", "triggers", "reason")
    list_filter = ("to_state", "source")


class PolicyForm(forms.ModelForm):
    change_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Why; recorded in the audit trail.")

    class Meta:
        model = EmergencyStopPolicy
        fields = ("enabled", "threshold", "confirm_evaluations", "clear_evaluations", "warn_fraction", "unreadable_is_breach", "params")


@admin.register(EmergencyStopPolicy)
class EmergencyStopPolicyAdmin(admin.ModelAdmin):
    form = PolicyForm
    list_display = ("trigger", "enabled", "threshold", "confirm_evaluations", "clear_evaluations", "warn_fraction", "unreadable_is_breach", "updated_at")
    readonly_fields = ("trigger", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in PolicyForm.Meta.fields}
        emergency_stop_policy_update(trigger=obj.trigger, actor=request.user, reason=form.cleaned_data["change_reason"], changes=changes)


@admin.register(TriggerState)
class TriggerStateAdmin(ReadOnlyModelAdmin):
    list_display = ("trigger", "last_status", "last_value", "breach_streak", "clean_streak", "firing", "warning", "fired_at", "evaluated_at", "last_error")


@admin.register(LaneChange)
class LaneChangeAdmin(ReadOnlyModelAdmin):
    list_display = ("at", "strategy", "version", "from_lane", "to_lane", "cause", "actor", "reason")
    list_filter = ("cause", "to_lane")


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


@admin.register(DrillRun)
class DrillRunAdmin(ReadOnlyModelAdmin):
    list_display = ("started_at", "trigger", "passed", "time_to_halt_seconds", "time_to_cancel_seconds", "evidence", "error")
    list_filter = ("trigger", "passed")

from governance import admin_promotion  # noqa: E402,F401  promotion admin lives in its own module
