"""The operator page `/ops/`: one read-only, server-rendered view of the loop for teams without Grafana."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from governance.emergency.measures import DEFAULT_POLICIES
from governance.emergency.models import Trigger
from governance.emergency.selectors import emergency_stop_policies, kill_switch_state
from governance.killswitch.selectors import kill_switch_transitions
from governance.promotion.selectors import capital_ramps_status
from torghut.console.charts import gauge_chart, series_chart, timeline_chart
from torghut.core.models import DeadLetter
from trading.alerts.selectors import alerts_open
from trading.orders.selectors import execution_fallback_ratio, executions_recent
from trading.pnl.selectors import pnl_session
from trading.signals.selectors import ingest_windows_recent, signal_continuity_snapshot
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


CHART_WINDOWS = 120  # ingest polls drawn (the newest, all cursors)
TIMELINE_HOURS = 24


def _policy(trigger: str) -> dict:
    """The emergency-stop policy of `trigger` as stored, else its default: the limits the charts draw."""
    stored = {row["trigger"]: row for row in emergency_stop_policies()}
    return stored.get(trigger) or {
        "threshold": DEFAULT_POLICIES[trigger]["threshold"],
        "params": DEFAULT_POLICIES[trigger].get("params", {}),
    }


def _charts(*, pnl: dict, kill_switch: dict) -> dict[str, str]:
    """SVG charts of lag, signals per poll, fallback ratio, drawdown and the kill-switch timeline.
    Each figure comes from the selector the emergency stop reads, against that trigger's limit."""
    windows = list(reversed(ingest_windows_recent(limit=CHART_WINDOWS)))
    at = [datetime.fromisoformat(w["started_at"]) for w in windows]
    lag_policy, fallback_policy = _policy(Trigger.SIGNAL_LAG), _policy(Trigger.FALLBACK_RATIO)
    fallback, orders = execution_fallback_ratio(window_seconds=int((fallback_policy.get("params") or {}).get("window_seconds", 1800)))
    now = timezone.now()
    start = now - timedelta(hours=TIMELINE_HOURS)
    transitions = [t for t in reversed(kill_switch_transitions(limit=500)) if t["at"] >= start]
    current = kill_switch["state"]
    charts = {
        "lag": series_chart(
            title="signal lag (s)",
            points=[(a, w["lag_seconds"]) for a, w in zip(at, windows, strict=True)],
            unit="s",
            limit=float(lag_policy["threshold"]),
        ),
        "signals": series_chart(
            title="signals accepted per ingest poll",
            points=[(a, w["rows_accepted"]) for a, w in zip(at, windows, strict=True)],
            unit="rows",
            bars=True,
        ),
        "fallback": gauge_chart(
            title=f"execution fallback ratio ({orders} orders)", value=fallback, limit=float(fallback_policy["threshold"])
        ),
        "drawdown": gauge_chart(
            title="session drawdown (share of allocated capital)",
            value=pnl["drawdown_ratio"],
            limit=float(_policy(Trigger.PNL_DRAWDOWN)["threshold"]),
        ),
        "kill_switch": timeline_chart(
            title="kill switch, last 24 h",
            transitions=transitions,
            start=start,
            end=now,
            initial=transitions[0]["from_state"] if transitions else current,
        ),
    }
    return {name: mark_safe(svg) for name, svg in charts.items()}  # noqa: S308  (built by charts.py, every text escaped)


@require_GET
@login_required
def ops_page(request: HttpRequest) -> HttpResponse:

    pnl, kill_switch = pnl_session().as_dict(), kill_switch_state()
    context = {
        "charts": _charts(pnl=pnl, kill_switch=kill_switch),
        "signals": signal_continuity_snapshot(),
        "alerts": alerts_open(),
        "kill_switch": kill_switch,
        "strategies": _strategies(),
        "executions": executions_recent(limit=20),
        "dead_letters": _dead_letters(),
        "pnl": pnl,
    }
    return render(request, "ops/index.html", context)
