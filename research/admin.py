import json

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from research.display import llm_review_html, run_pictures_html
from research.models import GatePolicy, ResearchRun
from research.selectors import research_run_folds, research_run_stress
from research.services import gate_policy_create, gate_policy_update, gate_thresholds_validate
from torghut.core.admin_base import ReadOnlyModelAdmin
from torghut.core.models import AuditEvent

# Stored JSON shown through the views below instead of raw.
_RUN_RAW_FIELDS = ("gate_report", "equity_curve", "llm_review")


@admin.register(ResearchRun)
class ResearchRunAdmin(ReadOnlyModelAdmin):
    """Runs are evidence: visible, never edited or deleted from admin."""

    list_display = (
        "run_id",
        "strategy_name",
        "strategy_version",
        "status",
        "recommendation",
        "trades",
        "net_pnl",
        "window_start",
        "window_end",
        "policy_name",
        "policy_version",
        "started_at",
    )
    list_filter = ("status", "recommendation", "trigger", "target_lane", "strategy_name")
    search_fields = ("run_id", "strategy_name", "gate_report_trace_id", "recommendation_trace_id")
    date_hierarchy = "started_at"
    exclude = _RUN_RAW_FIELDS
    readonly_fields = [f.name for f in ResearchRun._meta.fields if f.name not in _RUN_RAW_FIELDS] + [
        "gate_report_view",
        "pictures_view",
        "folds_view",
        "stress_view",
        "llm_review_view",
    ]

    @admin.display(description="pictures")
    def pictures_view(self, obj: ResearchRun):
        return run_pictures_html(obj)

    @admin.display(description="walk-forward folds")
    def folds_view(self, obj: ResearchRun):
        rows = research_run_folds(run=obj)
        return (
            format_html_join(
                "",
                "<div>fold {} ({}) {} .. {}: {} trades, net {}, Sharpe {}, drawdown {}, hit rate {}</div>",
                (
                    (r["fold"], r["mode"], r["start"], r["end"], r["trades"], r["net_pnl"], r["sharpe"], r["max_drawdown"], r["hit_rate"])
                    for r in rows
                ),
            )
            or "-"
        )

    @admin.display(description="stress")
    def stress_view(self, obj: ResearchRun):
        rows = research_run_stress(run=obj)
        return (
            format_html_join(
                "",
                "<div>{}: commission {} bps, slippage {} bps, latency {} bar(s): {} trades, net {}</div>",
                ((r["case"], r["commission_bps"], r["slippage_bps"], r["latency_bars"], r["trades"], r["net_pnl"]) for r in rows),
            )
            or "-"
        )

    @admin.display(description="LLM reviewer")
    def llm_review_view(self, obj: ResearchRun):
        return llm_review_html(obj)

    @admin.display(description="gate report")
    def gate_report_view(self, obj: ResearchRun):
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", json.dumps(obj.gate_report, indent=2, sort_keys=True))


class GatePolicyForm(forms.ModelForm):
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Why (kept in the audit trail).")

    class Meta:
        model = GatePolicy
        fields = ("name", "thresholds", "active")

    def clean_thresholds(self):
        try:
            return gate_thresholds_validate(self.cleaned_data["thresholds"] or {})
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


@admin.register(GatePolicy)
class GatePolicyAdmin(admin.ModelAdmin):
    """Edits go through the services: each one bumps the version and writes an AuditEvent."""

    form = GatePolicyForm
    list_display = ("name", "version", "active", "updated_by", "updated_at")
    readonly_fields = ("version", "updated_by", "updated_at", "audit_trail")

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "name") if obj else self.readonly_fields

    @admin.display(description="audit trail")
    def audit_trail(self, obj: GatePolicy):
        events = AuditEvent.objects.filter(object_type="GatePolicy", object_id=str(obj.pk)).order_by("-at")[:50]
        return (
            format_html_join(
                "",
                "<p>{} {} {}: v{} → v{} {}</p>",
                (
                    (
                        e.at.strftime("%Y-%m-%d %H:%M:%S"),
                        e.actor,
                        e.action,
                        (e.old or {}).get("version", "-"),
                        (e.new or {}).get("version", "-"),
                        e.reason,
                    )
                    for e in events
                ),
            )
            or "-"
        )

    def save_model(self, request, obj, form, change):
        data, actor = form.cleaned_data, request.user.get_username()
        if change:
            saved = gate_policy_update(
                policy_id=obj.pk, thresholds=data["thresholds"], active=data["active"], actor=actor, reason=data.get("reason", "")
            )
        else:
            saved = gate_policy_create(
                name=data["name"], thresholds=data["thresholds"], active=data["active"], actor=actor, reason=data.get("reason", "")
            )
        obj.pk, obj.version = saved.pk, saved.version

    def has_delete_permission(self, request, obj=None):
        return False
