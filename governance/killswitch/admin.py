"""Django admin of governance: the kill switch (engage/resume through the services), policies
(every change audited), and read-only ledgers, evidence packages (download) and drills."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html_join

from governance.errors import GovernanceError
from governance.killswitch.models import KillSwitch, KillSwitchState, KillSwitchTransition
from governance.killswitch.selectors import kill_switch_transitions
from governance.killswitch.services import KILL_SWITCH_PERMISSION, kill_switch_engage, kill_switch_resume
from torghut.core.admin_base import ReadOnlyModelAdmin


class KillSwitchForm(forms.ModelForm):
    operator_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Why; recorded in the history and the audit trail."
    )

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
            "",
            "<div>{} {} &rarr; {} by {} ({}): {}</div>",
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
