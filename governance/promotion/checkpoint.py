"""The pre-live checkpoint: gather the evidence for one strategy version, then judge it against the policy.

Gathering reads other apps through their selectors; an input that cannot be read fails its rule
(fail closed) with the error named. Judging is a pure function of the policy and the inputs, so every
rule's message carries the figures that decided it, e.g. `min_paper_runs: 1 < 3`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.utils import timezone

from governance.drills.selectors import last_passing_drill_at
from governance.lanes.models import LaneChange
from research.selectors import gate_non_error_ratio, passed_paper_runs
from trading.alerts.selectors import alerts_open

RULES = (
    "min_paper_runs",
    "min_shadow_hours",
    "min_shadow_decisions",
    "min_gate_non_error_ratio",
    "drill_max_age_hours",
    "no_open_critical_alert",
)


@dataclass(frozen=True)
class CheckpointInputs:
    """Evidence about one strategy version. None means the input could not be read (see `errors`),
    except `drill_age_hours`, where None with no error means no drill ever passed."""

    paper_runs: int | None
    shadow_hours: float | None
    shadow_decisions: int | None
    gate_non_error_ratio: float | None
    drill_age_hours: float | None
    critical_alerts: int | None
    errors: dict[str, str] = field(default_factory=dict)


def _policy_dict(policy) -> dict[str, Any]:
    return {
        "min_paper_runs": policy.min_paper_runs,
        "min_shadow_hours": policy.min_shadow_hours,
        "min_shadow_decisions": policy.min_shadow_decisions,
        "min_gate_non_error_ratio": policy.min_gate_non_error_ratio,
        "drill_max_age_hours": policy.drill_max_age_hours,
        "forbid_open_critical_alert": policy.forbid_open_critical_alert,
    }


def _fmt(value: float) -> str:
    return f"{value:g}" if isinstance(value, int) else f"{round(float(value), 4):g}"


def _minimum(rule: str, value, threshold, error: str | None) -> dict[str, Any]:
    if threshold <= 0:
        # A zero minimum is how an operator switches a rule off; the policy edit is audited.
        return {"rule": rule, "passed": True, "value": value, "threshold": threshold, "message": f"{rule}: not enforced by policy"}
    if value is None:
        return {
            "rule": rule,
            "passed": False,
            "value": None,
            "threshold": threshold,
            "message": f"{rule}: unreadable ({error or 'no value'})",
        }
    passed = value >= threshold
    op = ">=" if passed else "<"
    return {
        "rule": rule,
        "passed": passed,
        "value": value,
        "threshold": threshold,
        "message": f"{rule}: {_fmt(value)} {op} {_fmt(threshold)}",
    }


def checkpoint_evaluate(*, policy, inputs: CheckpointInputs, now: datetime | None = None) -> dict[str, Any]:
    """Judge `inputs` against `policy`; returns the JSON stored with the request."""
    errors = inputs.errors
    rules = [
        _minimum("min_paper_runs", inputs.paper_runs, policy.min_paper_runs, errors.get("paper_runs")),
        _minimum("min_shadow_hours", inputs.shadow_hours, policy.min_shadow_hours, errors.get("shadow_hours")),
        _minimum("min_shadow_decisions", inputs.shadow_decisions, policy.min_shadow_decisions, errors.get("shadow_decisions")),
        _minimum(
            "min_gate_non_error_ratio", inputs.gate_non_error_ratio, policy.min_gate_non_error_ratio, errors.get("gate_non_error_ratio")
        ),
    ]
    limit = policy.drill_max_age_hours
    if "drill_age_hours" in errors:
        rules.append(
            {
                "rule": "drill_max_age_hours",
                "passed": False,
                "value": None,
                "threshold": limit,
                "message": f"drill_max_age_hours: unreadable ({errors['drill_age_hours']})",
            }
        )
    elif inputs.drill_age_hours is None:
        rules.append(
            {
                "rule": "drill_max_age_hours",
                "passed": False,
                "value": None,
                "threshold": limit,
                "message": "drill_max_age_hours: no passing drill",
            }
        )
    else:
        age = inputs.drill_age_hours
        passed = age <= limit
        rules.append(
            {
                "rule": "drill_max_age_hours",
                "passed": passed,
                "value": age,
                "threshold": limit,
                "message": f"drill_max_age_hours: {_fmt(age)} {'<=' if passed else '>'} {_fmt(limit)}",
            }
        )
    if not policy.forbid_open_critical_alert:
        rules.append(
            {
                "rule": "no_open_critical_alert",
                "passed": True,
                "value": inputs.critical_alerts,
                "threshold": None,
                "message": "no_open_critical_alert: not enforced by policy",
            }
        )
    elif inputs.critical_alerts is None:
        rules.append(
            {
                "rule": "no_open_critical_alert",
                "passed": False,
                "value": None,
                "threshold": 0,
                "message": f"no_open_critical_alert: unreadable ({errors.get('critical_alerts', 'no value')})",
            }
        )
    else:
        count = inputs.critical_alerts
        rules.append(
            {
                "rule": "no_open_critical_alert",
                "passed": count == 0,
                "value": count,
                "threshold": 0,
                "message": f"no_open_critical_alert: {count} open" if count else "no_open_critical_alert: 0 open",
            }
        )
    failures = [r["message"] for r in rules if not r["passed"]]
    return {
        "passed": not failures,
        "failures": failures,
        "rules": rules,
        "policy": _policy_dict(policy),
        "inputs": asdict(inputs),
        "evaluated_at": (now or timezone.now()).isoformat(),
    }


def checkpoint_not_applicable(*, to_lane: str, now: datetime | None = None) -> dict[str, Any]:
    """What is stored for moves other than to live, which the pre-live checkpoint does not gate."""
    return {
        "passed": True,
        "failures": [],
        "rules": [],
        "note": f"the pre-live checkpoint gates moves to live, not to {to_lane}",
        "evaluated_at": (now or timezone.now()).isoformat(),
    }


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _shadow_since(strategy, now: datetime) -> datetime | None:
    """When this version's current stay in shadow began, or None when it is not in shadow."""

    if strategy.lane != "shadow":
        return None
    change = LaneChange.objects.filter(strategy_id=strategy.pk, to_lane="shadow", version=strategy.version).order_by("-at", "-id").first()
    return change.at if change else strategy.created_at


def checkpoint_inputs_gather(*, strategy, now: datetime | None = None) -> CheckpointInputs:
    """Read the evidence for `strategy` at its current version; unreadable inputs are recorded, not raised."""

    now = now or timezone.now()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}

    try:
        values["paper_runs"] = int(passed_paper_runs(strategy_id=strategy.pk, version=strategy.version))
    except Exception as exc:  # research lane unreadable: the rule fails and names the error
        errors["paper_runs"] = _error(exc)
    try:
        values["gate_non_error_ratio"] = float(gate_non_error_ratio(strategy_id=strategy.pk, version=strategy.version))
    except Exception as exc:
        errors["gate_non_error_ratio"] = _error(exc)

    since = _shadow_since(strategy, now)
    values["shadow_hours"] = 0.0 if since is None else max(0.0, (now - since).total_seconds() / 3600.0)
    if since is None:
        values["shadow_decisions"] = 0
    else:
        try:
            decision_model = apps.get_model("trading", "Decision")
            values["shadow_decisions"] = decision_model.objects.filter(
                strategy_id=strategy.pk, strategy_version=strategy.version, lane="shadow", decided_at__gte=since
            ).count()
        except Exception as exc:
            errors["shadow_decisions"] = _error(exc)

    try:
        passed_at = last_passing_drill_at()
        values["drill_age_hours"] = None if passed_at is None else max(0.0, (now - passed_at).total_seconds() / 3600.0)
    except Exception as exc:
        errors["drill_age_hours"] = _error(exc)

    try:
        values["critical_alerts"] = len(alerts_open(severity="critical"))
    except Exception as exc:
        errors["critical_alerts"] = _error(exc)

    return CheckpointInputs(
        paper_runs=values.get("paper_runs"),
        shadow_hours=values.get("shadow_hours"),
        shadow_decisions=values.get("shadow_decisions"),
        gate_non_error_ratio=values.get("gate_non_error_ratio"),
        drill_age_hours=values.get("drill_age_hours"),
        critical_alerts=values.get("critical_alerts"),
        errors=errors,
    )
