"""The operator page `/ops/`: one read-only, server-rendered view of the loop for teams without Grafana."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from governance.emergency.selectors import kill_switch_state
from governance.promotion.selectors import capital_ramps_status
from torghut.core.models import DeadLetter
from trading.alerts.selectors import alerts_open
from trading.orders.selectors import executions_recent
from trading.pnl.selectors import pnl_session
from trading.signals.selectors import signal_continuity_snapshot
from trading.strategies.models import Strategy


def _strategies() -> list[dict]:
    """Strategies with their lane and, for live ones, the capital-ramp step they trade at."""

    ramps = {ramp["strategy_id"]: ramp for ramp in capital_ramps_status()}
    rows = []
    for strategy in Strategy.objects.order_by("lane", "name", "version"):
        ramp = ramps.get(strategy.pk)
        rows.append(
            {
                "name": strategy.name,
                "version": strategy.version,
                "kind": strategy.kind,
                "lane": strategy.lane,
                "capital_fraction": strategy.capital_fraction,
                "enabled": strategy.enabled,
                "ramp": f"step {ramp['step'] + 1}/{len(ramp['schedule'])}: {ramp['fraction']:.0%}" if ramp else "",
            }
        )
    return rows


def _dead_letters() -> list:

    return list(DeadLetter.objects.filter(status=DeadLetter.Status.PENDING).order_by("-last_failed_at")[:20])


@require_GET
@login_required
def ops_page(request: HttpRequest) -> HttpResponse:

    context = {
        "signals": signal_continuity_snapshot(),
        "alerts": alerts_open(),
        "kill_switch": kill_switch_state(),
        "strategies": _strategies(),
        "executions": executions_recent(limit=20),
        "dead_letters": _dead_letters(),
        "pnl": pnl_session().as_dict(),
    }
    return render(request, "ops/index.html", context)
