"""Django admin of promotion: requests with approve / reject actions (a reason is required on a
confirmation page that shows the checkpoint), the audited checkpoint policy, approvals and ramps."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from governance.errors import GovernanceError
from governance.promotion.models import Approval, CapitalRamp, CapitalRampStep, CheckpointPolicy, PromotionRequest, PromotionStatus
from governance.promotion.selectors import promotion_request_approvals_count
from governance.promotion.services import (
    APPROVE_PERMISSION,
    CHECKPOINT_POLICY_FIELDS,
    checkpoint_policy_update,
    promotion_request_approve,
    promotion_request_reject,
)
from research.display import llm_review_html, run_pictures_html
from research.selectors import research_run_get
from torghut.core.admin_base import ReadOnlyModelAdmin


class DecisionForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), help_text="Why; stored with the approval and in the audit trail."
    )


def _checkpoint_html(checkpoint: dict):
    if not checkpoint:
        return "not evaluated"
    rules = checkpoint.get("rules") or []
    if not rules:
        return checkpoint.get("note", "passed" if checkpoint.get("passed") else "failed")
    return format_html_join(
        "",
        "<div class='{}'>{} {}</div>",
        (("checkpoint-pass" if r["passed"] else "checkpoint-fail", "✔" if r["passed"] else "✘", r["message"]) for r in rules),
    )


@admin.register(PromotionRequest)
class PromotionRequestAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "strategy", "version", "lanes", "requester", "status", "checkpoint_passed", "approvals_given", "expires_at")
    list_filter = ("status", "to_lane")
    search_fields = ("requester", "strategy__name", "version")
    actions = ("approve_selected", "reject_selected")
    readonly_fields = (
        "strategy",
        "version",
        "from_lane",
        "to_lane",
        "requester",
        "reason",
        "research_run_ids",
        "research_evidence",
        "status",
        "approvals_required",
        "approvals_list",
        "checkpoint_request",
        "checkpoint_approval",
        "created_at",
        "expires_at",
        "decided_at",
        "applied_at",
        "lane_change",
    )
    exclude = ("checkpoint_at_request", "checkpoint_at_approval")

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm(APPROVE_PERMISSION)

    @admin.display(description="move")
    def lanes(self, obj: PromotionRequest) -> str:
        return f"{obj.from_lane} → {obj.to_lane}"

    @admin.display(description="checkpoint", boolean=True)
    def checkpoint_passed(self, obj: PromotionRequest) -> bool:
        latest = obj.checkpoint_at_approval or obj.checkpoint_at_request
        return bool(latest.get("passed"))

    @admin.display(description="approvals")
    def approvals_given(self, obj: PromotionRequest) -> str:
        given = promotion_request_approvals_count(obj)
        return f"{given}/{obj.approvals_required}"

    @admin.display(description="approvals")
    def approvals_list(self, obj: PromotionRequest):
        return (
            format_html_join(
                "",
                "<div>{} by {} at {}: {}</div>",
                (
                    (a.decision, a.approver.username, a.at.strftime("%Y-%m-%d %H:%M:%S"), a.reason)
                    for a in obj.approvals.select_related("approver")
                ),
            )
            or "none"
        )

    @admin.display(description="cited research runs")
    def research_evidence(self, obj: PromotionRequest):
        # What the approver weighs beside the checkpoint: each cited run's charts and LLM verdict.
        runs = [run for run in (research_run_get(run_id=rid) for rid in obj.research_run_ids or []) if run is not None]
        return (
            format_html_join(
                "",
                "<div class='research-run'><h4>{} ({}, {})</h4><div>LLM reviewer: {}</div>{}</div>",
                ((run.run_id, run.status, run.recommendation, llm_review_html(run), run_pictures_html(run)) for run in runs),
            )
            or "none"
        )

    @admin.display(description="checkpoint at request")
    def checkpoint_request(self, obj: PromotionRequest):
        return _checkpoint_html(obj.checkpoint_at_request)

    @admin.display(description="checkpoint at approval")
    def checkpoint_approval(self, obj: PromotionRequest):
        return _checkpoint_html(obj.checkpoint_at_approval)

    def _decide(self, request, queryset, *, decision: str):
        form = DecisionForm(request.POST if request.POST.get("confirm") else None)
        if form.is_bound and form.is_valid():
            service = promotion_request_approve if decision == "approve" else promotion_request_reject
            for row in queryset:
                try:
                    result = service(request_id=row.pk, approver=request.user, reason=form.cleaned_data["reason"])
                except GovernanceError as exc:
                    self.message_user(request, f"Request #{row.pk} not {decision}d: {exc}", level=messages.ERROR)
                    continue
                self.message_user(request, f"Request #{row.pk} {decision}d: now {result.status}.", level=messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"{decision.capitalize()} promotion requests",
            "decision": decision,
            "action": f"{decision}_selected",
            "form": form,
            "requests": [
                {
                    "row": row,
                    "checkpoint": _checkpoint_html(row.checkpoint_at_approval or row.checkpoint_at_request),
                    "pending": row.status == PromotionStatus.PENDING,
                }
                for row in queryset
            ],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/governance/promotionrequest/decide.html", context)

    @admin.action(description="Approve selected requests (a reason is required)", permissions=["approve"])
    def approve_selected(self, request, queryset):
        return self._decide(request, queryset, decision="approve")

    @admin.action(description="Reject selected requests (a reason is required)", permissions=["approve"])
    def reject_selected(self, request, queryset):
        return self._decide(request, queryset, decision="reject")


class CheckpointPolicyForm(forms.ModelForm):
    change_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Why; recorded in the audit trail.")

    class Meta:
        model = CheckpointPolicy
        fields = CHECKPOINT_POLICY_FIELDS


@admin.register(CheckpointPolicy)
class CheckpointPolicyAdmin(admin.ModelAdmin):
    form = CheckpointPolicyForm
    list_display = (
        "__str__",
        "min_paper_runs",
        "min_shadow_hours",
        "min_gate_non_error_ratio",
        "drill_max_age_hours",
        "ramp_schedule",
        "updated_by",
        "updated_at",
    )
    readonly_fields = ("updated_by", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The service writes the row and the audit event; the form only carries the intent.
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in CHECKPOINT_POLICY_FIELDS}
        try:
            checkpoint_policy_update(actor=request.user, changes=changes, reason=form.cleaned_data["change_reason"])
        except GovernanceError as exc:
            self.message_user(request, str(exc), level=messages.ERROR)


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyModelAdmin):
    list_display = ("at", "request", "approver", "decision", "reason")
    list_filter = ("decision",)


class CapitalRampStepInline(admin.TabularInline):
    model = CapitalRampStep
    fields = ("at", "trading_day", "cause", "from_step", "to_step", "from_fraction", "to_fraction", "detail")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CapitalRamp)
class CapitalRampAdmin(ReadOnlyModelAdmin):
    list_display = ("strategy", "version", "status", "step", "current_fraction", "started_at", "last_day")
    list_filter = ("status",)
    readonly_fields = ("request", "strategy", "version", "schedule", "step", "status", "started_at", "last_day")
    inlines = (CapitalRampStepInline,)

    @admin.display(description="fraction of target")
    def current_fraction(self, obj: CapitalRamp) -> str:
        return format_html("{}%", round(obj.fraction * 100))
