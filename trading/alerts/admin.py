"""Alerts and their Alertmanager deliveries in the admin: rows are written by services; an operator with
`trading.manage_alert` acknowledges or closes selected alerts with a reason (audited)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from torghut.core.admin_base import ReadOnlyModelAdmin
from trading.alerts.models import Alert, AlertNotification
from trading.alerts.services import ALERT_PERMISSION, AlertError, alert_acknowledge, alert_close_by_operator, alert_closing_rule


class AlertNotificationInline(admin.TabularInline):
    model = AlertNotification
    extra = 0
    can_delete = False
    readonly_fields = ("event", "status", "attempts", "last_error", "created_at", "sent_at")

    def has_add_permission(self, request, obj=None):
        return False


class AlertStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("open", "open"), ("unacknowledged", "open, not acknowledged"), ("closed", "closed"))

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(closed_at__isnull=True)
        if self.value() == "unacknowledged":
            return queryset.filter(closed_at__isnull=True, acknowledged_at__isnull=True)
        if self.value() == "closed":
            return queryset.filter(closed_at__isnull=False)
        return queryset


class AlertReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Why; recorded on the alert and in the audit trail.")


def _state(alert: Alert) -> str:
    if alert.closed_at is not None:
        return "closed"
    return "acknowledged" if alert.acknowledged_at is not None else "open"


@admin.register(Alert)
class AlertAdmin(ReadOnlyModelAdmin):
    list_display = ("key", "reason", "severity", "state", "opened_at", "last_seen", "acknowledged_by", "closed_at", "closed_by")
    list_filter = (AlertStateFilter, "severity", "reason")
    search_fields = ("key", "reason")
    readonly_fields = ("closing_rule",)
    inlines = (AlertNotificationInline,)
    actions = ("acknowledge_selected", "close_selected")

    def has_manage_permission(self, request) -> bool:
        return request.user.has_perm(ALERT_PERMISSION)

    @admin.display(description="state")
    def state(self, obj: Alert) -> str:
        return _state(obj)

    @admin.display(description="closes when")
    def closing_rule(self, obj: Alert) -> str:
        return alert_closing_rule(key=obj.key)

    def _act(self, request, queryset, *, verb: str, service):
        form = AlertReasonForm(request.POST if request.POST.get("confirm") else None)
        if form.is_bound and form.is_valid():
            for row in queryset:
                try:
                    service(alert_id=row.pk, actor=request.user, reason=form.cleaned_data["reason"])
                except AlertError as exc:
                    self.message_user(request, f"Alert #{row.pk} not {verb}d: {exc}", level=messages.ERROR)
                    continue
                self.message_user(request, f"Alert #{row.pk} ({row.key}) {verb}d.", level=messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"{verb.capitalize()} alerts",
            "verb": verb,
            "action": f"{verb}_selected",
            "form": form,
            "alerts": [{"row": row, "state": _state(row), "closing_rule": alert_closing_rule(key=row.key)} for row in queryset],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/trading/alert/act.html", context)

    @admin.action(description="Acknowledge selected alerts (a reason is required; they stay open)", permissions=["manage"])
    def acknowledge_selected(self, request, queryset):
        return self._act(request, queryset, verb="acknowledge", service=alert_acknowledge)

    @admin.action(description="Close selected alerts (a reason is required)", permissions=["manage"])
    def close_selected(self, request, queryset):
        return self._act(request, queryset, verb="close", service=alert_close_by_operator)
