"""Where the kill-switch state is read and mirrored: Redis for the order path, Postgres as truth.

Reads are bounded by GOVERNANCE_KILL_SWITCH_READ_TIMEOUT; a caller that can read neither store gets
`None` and must fail closed.
"""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from governance.killswitch.models import KillSwitch, KillSwitchState

VALID_STATES = frozenset(s.value for s in KillSwitchState)
_clients: dict[tuple[str, float], redis.Redis] = {}


def _client() -> redis.Redis:
    # One pooled client per (url, timeout): the order path must not pay a connection per check.
    key = (settings.REDIS_URL, float(settings.GOVERNANCE_KILL_SWITCH_READ_TIMEOUT))
    client = _clients.get(key)
    if client is None:
        client = redis.Redis.from_url(key[0], socket_timeout=key[1], socket_connect_timeout=key[1], retry_on_timeout=False)
        _clients[key] = client
    return client


def _key() -> str:
    return settings.GOVERNANCE_KILL_SWITCH_REDIS_KEY


def mirror_read() -> str | None:
    """The mirrored state, or None when the key is absent or holds garbage. Raises RedisError."""
    raw = _client().get(_key())
    if raw is None:
        return None
    value = raw.decode("ascii", "replace")
    return value if value in VALID_STATES else None


def mirror_write(state: str) -> bool:
    """Mirror `state`; on failure drop the key so readers fall through to Postgres. True if mirrored."""
    try:
        _client().set(_key(), state)
        return True
    except redis.RedisError:
        try:
            _client().delete(_key())
        except redis.RedisError:
            pass
        return False


def mirror_clear() -> None:
    _client().delete(_key())


def database_read() -> KillSwitch | None:
    """The persistent row (None if never engaged), read under a statement timeout. Raises DatabaseError.

    The timeouts are set transaction-locally and restored afterwards, so a caller's own transaction
    (an order submission) keeps its limits.
    """
    timeout_ms = str(max(1, int(float(settings.GOVERNANCE_KILL_SWITCH_READ_TIMEOUT) * 1000)))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'),"
                " set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true)",
                [timeout_ms, timeout_ms],
            )
            statement_timeout, lock_timeout, _, _ = cursor.fetchone()
            row = KillSwitch.objects.filter(pk=KillSwitch.SINGLETON_ID).first()
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true)",
                [statement_timeout, lock_timeout],
            )
        return row


def current_state() -> tuple[str | None, str]:
    """(state, where it was read). State None means neither Redis nor Postgres could answer."""
    try:
        state = mirror_read()
        if state is not None:
            return state, "redis"
    except redis.RedisError:
        pass
    try:
        row = database_read()
    except DatabaseError:
        return None, "unreadable"
    # No row: the switch was never engaged since install, which is `active`; DELETE is refused by a trigger.
    return (row.state if row is not None else KillSwitchState.ACTIVE.value), "postgres"
