"""Emergency-stop policies (thresholds as data, every change audited) and trigger states in the admin."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from governance.emergency.models import EmergencyStopPolicy, TriggerState
from governance.emergency.services import emergency_stop_policy_update
from torghut.core.admin_base import ReadOnlyModelAdmin


class PolicyForm(forms.ModelForm):
    change_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Why; recorded in the audit trail.")

    class Meta:
        model = EmergencyStopPolicy
        fields = ("enabled", "threshold", "confirm_evaluations", "clear_evaluations", "warn_fraction", "unreadable_is_breach", "params")


@admin.register(EmergencyStopPolicy)
class EmergencyStopPolicyAdmin(admin.ModelAdmin):
    form = PolicyForm
    list_display = (
        "trigger",
        "enabled",
        "threshold",
        "confirm_evaluations",
        "clear_evaluations",
        "warn_fraction",
        "unreadable_is_breach",
        "updated_at",
    )
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
    list_display = (
        "trigger",
        "last_status",
        "last_value",
        "breach_streak",
        "clean_streak",
        "firing",
        "warning",
        "fired_at",
        "evaluated_at",
        "last_error",
    )
