"""Dead letters (inspect, replay, discard) and the audit trail in the admin."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html

from torghut.core.admin_base import ReadOnlyModelAdmin
from torghut.core.deadletters import dead_letter_discard, dead_letter_replay
from torghut.core.models import AuditEvent, DeadLetter


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyModelAdmin):
    list_display = ("task_name", "task_id", "status", "exception_class", "retries", "last_failed_at", "spooled", "resolved_by")
    list_filter = ("status", "task_name", "queue", "spooled")
    search_fields = ("task_id", "task_name", "exception_message")
    date_hierarchy = "last_failed_at"
    actions = ("replay_selected", "discard_selected")
    readonly_fields = [f.name for f in DeadLetter._meta.fields if f.name != "traceback"] + ["traceback_view"]
    exclude = ("traceback",)

    @admin.display(description="traceback")
    def traceback_view(self, obj: DeadLetter):
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", obj.traceback)

    def _may_resolve(self, request) -> bool:
        return request.user.has_perm("torghut.replay_deadletter")

    @admin.action(description="Replay selected dead letters (each runs once)")
    def replay_selected(self, request, queryset):
        if not self._may_resolve(request):
            self.message_user(request, "You need the 'replay dead letters' permission.", level=messages.ERROR)
            return
        replayed = 0
        for letter in queryset.filter(status=DeadLetter.Status.PENDING):
            try:
                dead_letter_replay(dead_letter_id=letter.pk, actor=request.user)
                replayed += 1
            except Exception as exc:  # broker down: tell the operator, keep the letter pending
                self.message_user(request, f"{letter.task_id}: replay failed: {exc}", level=messages.ERROR)
        self.message_user(request, f"Replayed {replayed} dead letter(s); letters not pending were left alone.")

    @admin.action(description="Discard selected dead letters")
    def discard_selected(self, request, queryset):
        if not self._may_resolve(request):
            self.message_user(request, "You need the 'replay dead letters' permission.", level=messages.ERROR)
            return
        for letter in queryset.filter(status=DeadLetter.Status.PENDING):
            dead_letter_discard(dead_letter_id=letter.pk, actor=request.user, note="discarded in admin")
        self.message_user(request, "Discarded the pending letters among the selection.")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id", "reason")
    list_filter = ("action", "object_type")
    search_fields = ("actor", "object_id", "reason")
    readonly_fields = ("actor", "action", "object_type", "object_id", "old", "new", "reason", "at")
