"""The operator page `/ops/`: one read-only, server-rendered view of the loop for teams without Grafana."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


def _strategies() -> list:
    from trading.models import Strategy

    return list(Strategy.objects.order_by("lane", "name", "version"))


def _dead_letters() -> list:
    from torghut.models import DeadLetter

    return list(DeadLetter.objects.filter(status=DeadLetter.Status.PENDING).order_by("-last_failed_at")[:20])


@require_GET
@login_required
def ops_page(request: HttpRequest) -> HttpResponse:
    from governance.selectors import kill_switch_state
    from trading.pnl import pnl_rolling_daily
    from trading.selectors import alerts_open, executions_recent, signal_continuity_snapshot

    context = {
        "signals": signal_continuity_snapshot(),
        "alerts": alerts_open(),
        "kill_switch": kill_switch_state(),
        "strategies": _strategies(),
        "executions": executions_recent(limit=20),
        "dead_letters": _dead_letters(),
        "pnl": pnl_rolling_daily().as_dict(),
    }
    return render(request, "ops/index.html", context)
