"""Factories shared by the test suite."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone


def user_create(*, username: str, approver: bool = False, staff: bool = False, perms: tuple[str, ...] = ()):
    """A user, optionally in the `approvers` group and with extra permissions (`app.codename`)."""
    from django.contrib.auth.models import Permission

    from governance.promotion import approvers_group_ensure

    user = get_user_model().objects.create_user(username=username, password=f"{username}-pass-123", is_staff=staff)
    if approver:
        user.groups.add(approvers_group_ensure())
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return get_user_model().objects.get(pk=user.pk)


def strategy_live_create(*, name: str = "macd", version: str = "1", kind: str = "macd_rsi", **fields):
    """A live strategy, made live the only way Postgres allows: through an approved, applied request.

    The factory records the checkpoint as passed instead of producing its evidence (research runs,
    shadow hours, a drill); everything from the approval on is the real apply path.
    """
    from governance.models import Approval, ApprovalDecision, PromotionRequest
    from governance.promotion import _promotion_request_apply
    from trading.models import Strategy

    strategy = Strategy.objects.create(name=name, version=version, kind=kind, lane="shadow", **fields)
    requester = get_user_model().objects.filter(username="factory-requester").first() or user_create(username="factory-requester")
    approver = get_user_model().objects.filter(username="factory-approver").first() or user_create(username="factory-approver", approver=True)
    now = timezone.now()
    with transaction.atomic():
        request = PromotionRequest.objects.create(
            strategy=strategy, version=version, from_lane="shadow", to_lane="live", requester=requester.username,
            checkpoint_at_request={"passed": True, "note": "test factory"},
            checkpoint_at_approval={"passed": True, "note": "test factory"},
            expires_at=now + timezone.timedelta(hours=1),
        )
        Approval.objects.create(request=request, approver=approver, decision=ApprovalDecision.APPROVE, reason="test factory")
        _promotion_request_apply(request=request, actor=approver.username, now=now)
    strategy.refresh_from_db()
    return strategy
