"""The evidence chain's signature and its anchor outside Postgres.

Each package body is signed with HMAC-SHA256 under GOVERNANCE_EVIDENCE_HMAC_KEY (settings, never the database),
and embeds the previous package's signature, so a writer of the table who lacks the key can neither edit,
reorder nor re-sign packages. The newest signed head (id, mac) is also kept in Redis and in the audit log, so
deleting the newest package shows. Retired keys (GOVERNANCE_EVIDENCE_HMAC_OLD_KEYS, `id:secret`) still verify
the packages they signed.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import redis
from django.conf import settings

ANCHOR_TIMEOUT_SECONDS = 1.0


def signing_key() -> tuple[str, bytes]:
    """(key id, secret) that signs new packages."""
    return settings.GOVERNANCE_EVIDENCE_HMAC_KEY_ID, settings.GOVERNANCE_EVIDENCE_HMAC_KEY.encode("utf-8")


def verification_keys() -> dict[str, bytes]:
    """Every key id a package may name: the current key and the retired ones."""
    keys = {}
    for entry in settings.GOVERNANCE_EVIDENCE_HMAC_OLD_KEYS:
        key_id, _, secret = entry.partition(":")
        if key_id and secret:
            keys[key_id] = secret.encode("utf-8")
    current_id, current = signing_key()
    keys[current_id] = current
    return keys


def body_mac(*, key: bytes, body: str) -> str:
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=ANCHOR_TIMEOUT_SECONDS, socket_connect_timeout=ANCHOR_TIMEOUT_SECONDS)


def anchor_write(*, package_id: int, mac: str) -> None:
    """Record the chain head in Redis (after the package committed). Raises RedisError."""
    _client().set(settings.GOVERNANCE_EVIDENCE_ANCHOR_REDIS_KEY, json.dumps({"id": package_id, "hmac": mac}))


def anchor_read() -> dict | None:
    """The head recorded in Redis, or None when none is. Raises RedisError."""
    raw = _client().get(settings.GOVERNANCE_EVIDENCE_ANCHOR_REDIS_KEY)
    return None if raw is None else json.loads(raw)
