"""Reads of evidence packages, and the check that their hash chain is unbroken."""

from __future__ import annotations

import hashlib
import hmac
import json

import redis

from governance.evidence import signing
from governance.evidence.models import EvidencePackage
from torghut.core.models import AuditEvent

# Promotion reads (lane history, ramps) live in their own module; these are the ones other apps call.


def evidence_packages() -> list[EvidencePackage]:
    return list(EvidencePackage.objects.defer("body").order_by("-id"))


def evidence_chain_verify() -> list[str]:
    """Problems found walking the evidence chain oldest first; empty when every package is intact.

    Each signed package must carry a valid HMAC under a known key and embed its predecessor's hash and HMAC;
    the newest must be the head anchored in Redis and in the audit log. Unsigned packages (written before
    signing) are accepted by sha256 only, and only before the first signed one.
    """

    problems: list[str] = []
    recorded: dict[str, dict] = {
        event.object_id: event.new or {}
        for event in AuditEvent.objects.filter(action="evidence.write", object_type="EvidencePackage").only("object_id", "new")
    }
    keys = signing.verification_keys()
    previous, previous_hmac, signed_seen, newest = "", "", False, None
    seen: set[str] = set()
    for package in EvidencePackage.objects.order_by("id").iterator():
        seen.add(str(package.pk))
        if recorded.get(str(package.pk), {}).get("sha256") != package.sha256:
            problems.append(f"package {package.pk}: sha256 differs from the one recorded when it was written")
        digest = hashlib.sha256(package.body.encode("utf-8")).hexdigest()
        if digest != package.sha256:
            problems.append(f"package {package.pk}: body sha256 {digest} does not match stored {package.sha256}")
        try:
            content = json.loads(package.body)
            embedded = content.get("previous_sha256", None)
        except (ValueError, AttributeError):
            problems.append(f"package {package.pk}: body is not a JSON object")
            content, embedded = {}, None
        if package.previous_sha256 != previous:
            problems.append(f"package {package.pk}: previous_sha256 {package.previous_sha256!r} does not match the chain ({previous!r})")
        if embedded is not None and embedded != package.previous_sha256:
            problems.append(f"package {package.pk}: embedded previous_sha256 differs from the stored one")
        if package.hmac or signed_seen:
            signed_seen = True
            problems.extend(_signature_problems(package=package, content=content, keys=keys, previous_hmac=previous_hmac))
        previous, previous_hmac, newest = package.sha256, package.hmac, package
    problems.extend(_anchor_problems(newest=newest, recorded=recorded, seen=seen))
    return problems


def _signature_problems(*, package: EvidencePackage, content: dict, keys: dict[str, bytes], previous_hmac: str) -> list[str]:
    key = keys.get(package.key_id)
    if key is None:
        return [f"package {package.pk}: unsigned, or signed with unknown key {package.key_id!r}"]
    problems = []
    if not hmac.compare_digest(signing.body_mac(key=key, body=package.body), package.hmac):
        problems.append(f"package {package.pk}: HMAC does not match its body (altered, or signed without the key)")
    if content.get("previous_hmac") != previous_hmac or content.get("key_id") != package.key_id:
        problems.append(f"package {package.pk}: does not follow the package before it (reordered or re-linked)")
    return problems


def _anchor_problems(*, newest: EvidencePackage | None, recorded: dict[str, dict], seen: set[str]) -> list[str]:
    problems = [f"package {pk}: recorded in the audit log but missing from the table" for pk in sorted(set(recorded) - seen, key=int)]
    if newest is None or not newest.hmac:
        return problems
    try:
        anchor = signing.anchor_read()
    except redis.RedisError as exc:
        return [*problems, f"chain head anchor unreadable in Redis: {exc}"]
    if anchor is None:
        problems.append("no chain head anchored in Redis")
    elif anchor.get("id") != newest.pk or anchor.get("hmac") != newest.hmac:
        problems.append(f"newest package {newest.pk} is not the chain head anchored in Redis (package {anchor.get('id')})")
    return problems
