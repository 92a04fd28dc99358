"""Reads of evidence packages, and the check that their hash chain is unbroken."""

from __future__ import annotations

import hashlib
import json

from governance.evidence.models import EvidencePackage
from torghut.core.models import AuditEvent

# Promotion reads (lane history, ramps) live in their own module; these are the ones other apps call.


def evidence_packages() -> list[EvidencePackage]:
    return list(EvidencePackage.objects.defer("body").order_by("-id"))


def evidence_chain_verify() -> list[str]:
    """Problems found walking the evidence chain oldest first; empty when every package is intact."""

    problems: list[str] = []
    recorded = {
        event.object_id: (event.new or {}).get("sha256")
        for event in AuditEvent.objects.filter(action="evidence.write", object_type="EvidencePackage").only("object_id", "new")
    }
    previous = ""
    for package in EvidencePackage.objects.order_by("id").iterator():
        if recorded.get(str(package.pk)) != package.sha256:
            problems.append(f"package {package.pk}: sha256 differs from the one recorded when it was written")
        digest = hashlib.sha256(package.body.encode("utf-8")).hexdigest()
        if digest != package.sha256:
            problems.append(f"package {package.pk}: body sha256 {digest} does not match stored {package.sha256}")
        try:
            embedded = json.loads(package.body).get("previous_sha256", None)
        except (ValueError, AttributeError):
            problems.append(f"package {package.pk}: body is not a JSON object")
            embedded = None
        if package.previous_sha256 != previous:
            problems.append(f"package {package.pk}: previous_sha256 {package.previous_sha256!r} does not match the chain ({previous!r})")
        if embedded is not None and embedded != package.previous_sha256:
            problems.append(f"package {package.pk}: embedded previous_sha256 differs from the stored one")
        previous = package.sha256
    return problems
