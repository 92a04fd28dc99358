"""Evidence packages: gather what the system saw at a halt, serialise canonically, hash, chain.

Every section comes from its owning app through a function-local import; a source that is missing
or raises is named in `missing_sources` instead of leaving a silent gap.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from governance.evidence import signing
from governance.evidence.models import EvidencePackage
from governance.killswitch.selectors import kill_switch_transitions
from research.selectors import gate_reports_latest
from torghut.core.env import REGISTRY
from torghut.core.metrics import build_registry
from torghut.core.models import AuditEvent
from trading.alerts.selectors import alerts_open
from trading.orders.selectors import executions_recent
from trading.signals.selectors import ingest_windows_recent
from trading.strategies.models import Strategy

logger = logging.getLogger(__name__)
EVIDENCE_SCHEMA = 1
INGEST_WINDOWS_LIMIT = 50
EXECUTIONS_LIMIT = 200
GATE_REPORTS_LIMIT = 20
TRANSITIONS_LIMIT = 50
# Sections every package must carry; the drill checks them.
REQUIRED_SECTIONS = (
    "triggers",
    "thresholds",
    "metric_snapshot",
    "ingest_windows",
    "executions",
    "open_alerts",
    "gate_reports",
    "strategies",
    "config_hash",
    "kill_switch",
    "kill_switch_transitions",
    "cancel_results",
    "lane_changes",
)
_CHAIN_LOCK = 7_000_701  # advisory lock id of the evidence chain
_SECRET_MARKERS = ("SECRET", "PASSWORD", "TOKEN", "AUTH")


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _finite(value: Any) -> Any:
    """JSON has no infinity or NaN: they are written as Prometheus spells them (an unbounded drawdown is `+Inf`)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def canonical_json(content: Any) -> str:
    """Sorted keys, no whitespace, valid JSON: the same content always gives the same bytes (and hash)."""
    return json.dumps(_finite(content), sort_keys=True, separators=(",", ":"), default=_json_default, ensure_ascii=False, allow_nan=False)


def config_hash(*, policies: list[dict]) -> str:
    """sha256 over every registered setting's value and the emergency-stop policies given.

    Secret values are hashed too (so a change shows) but never written into the package.
    """

    config = {name: getattr(settings, name, None) for name in sorted(REGISTRY)}
    config = {k: (hashlib.sha256(str(v).encode()).hexdigest() if any(m in k for m in _SECRET_MARKERS) else v) for k, v in config.items()}
    return hashlib.sha256(canonical_json({"settings": config, "policies": policies}).encode()).hexdigest()


def _gather(missing: dict[str, str], name: str, read: Callable[[], Any], empty: Any) -> Any:
    try:
        return json.loads(canonical_json(read()))
    except Exception as exc:  # recorded, so an incomplete package says so
        missing[name] = f"{type(exc).__name__}: {exc}"[:500]
        return empty


def _metrics() -> dict[str, float]:
    """Every torghut_* sample this process can see (multiprocess files and database collectors)."""

    samples = {}
    for family in build_registry().collect():
        for sample in family.samples:
            if sample.name.startswith("torghut_"):
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def _ingest_windows():

    return ingest_windows_recent(limit=INGEST_WINDOWS_LIMIT)


def _executions():

    return executions_recent(limit=EXECUTIONS_LIMIT)


def _open_alerts():

    return alerts_open()


def _gate_reports():

    return gate_reports_latest(limit=GATE_REPORTS_LIMIT)


def _strategies():

    return list(Strategy.objects.values("id", "name", "version", "kind", "lane", "capital_fraction", "enabled", "parameters"))


def evidence_package_write(
    *,
    triggers: list[str],
    measurements: list[dict],
    inputs: dict,
    cancel_results: list[dict],
    lane_changes: list[dict],
    policies: Callable[[], list[dict]],
    kill_switch: Callable[[], dict],
    extra: dict | None = None,
) -> EvidencePackage:
    """Write the next package of the chain, under an advisory lock so two halts cannot fork it.

    The caller (the emergency stop) hands in the readers of its own state: the policies in force and the
    kill switch with its triggers; a reader that fails is named in `missing_sources`, never fatal.
    """

    missing: dict[str, str] = dict(inputs.get("unreadable") or {})
    content: dict[str, Any] = {
        "schema": EVIDENCE_SCHEMA,
        "triggers": triggers,
        "thresholds": _gather(missing, "policies", policies, []),
        "measurements": measurements,
        "metric_snapshot": {"inputs": json.loads(canonical_json(inputs)), "metrics": _gather(missing, "metrics", _metrics, {})},
        "ingest_windows": _gather(missing, "ingest_windows", _ingest_windows, []),
        "executions": _gather(missing, "executions", _executions, []),
        "open_alerts": _gather(missing, "open_alerts", _open_alerts, []),
        "gate_reports": _gather(missing, "gate_reports", _gate_reports, []),
        "strategies": _gather(missing, "strategies", _strategies, []),
        "config_hash": _gather(missing, "config_hash", lambda: config_hash(policies=policies()), ""),
        "kill_switch": _gather(missing, "kill_switch", kill_switch, {}),
        "kill_switch_transitions": _gather(
            missing, "kill_switch_transitions", lambda: kill_switch_transitions(limit=TRANSITIONS_LIMIT), []
        ),
        "cancel_results": json.loads(canonical_json(cancel_results)),
        "lane_changes": json.loads(canonical_json(lane_changes)),
        **(extra or {}),
    }
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        previous, previous_hmac = EvidencePackage.objects.order_by("-id").values_list("sha256", "hmac").first() or ("", "")
        now = timezone.now()
        key_id, key = signing.signing_key()
        content.update(
            created_at=now.isoformat(), previous_sha256=previous, previous_hmac=previous_hmac, key_id=key_id, missing_sources=missing
        )
        body = canonical_json(content)
        package = EvidencePackage.objects.create(
            created_at=now,
            triggers=list(triggers),
            body=body,
            sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(),
            previous_sha256=previous,
            missing_sources=sorted(missing),
            hmac=signing.body_mac(key=key, body=body),
            key_id=key_id,
        )
        # A second record of each hash, so rewriting the newest package (no successor links it) shows too.
        AuditEvent.objects.create(
            actor="emergency_stop",
            action="evidence.write",
            object_type="EvidencePackage",
            object_id=str(package.pk),
            new={"sha256": package.sha256, "previous_sha256": previous, "hmac": package.hmac},
        )
        # Inside the transaction: the insert is its last step, so the anchor can only run ahead on a failed commit.
        _anchor_write(package)
        return package


def _anchor_write(package: EvidencePackage) -> None:
    try:
        signing.anchor_write(package_id=package.pk, mac=package.hmac)
    except redis.RedisError:
        # verify_evidence names the stale anchor; the audit log still records this head.
        logger.warning("evidence anchor not written to Redis for package %s", package.pk, exc_info=True)


def evidence_package_missing_sections(package: EvidencePackage) -> list[str]:
    """Sections absent from the body, plus the sources it records as missing."""
    content = json.loads(package.body)
    absent = [name for name in REQUIRED_SECTIONS if name not in content]
    return absent + [f"source:{name}" for name in sorted(content.get("missing_sources") or {})]
