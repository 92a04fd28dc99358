"""Liveness and readiness: `/healthz` says the process is up, `/readyz` checks each dependency."""

from __future__ import annotations

import time
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from torghut.core import clickhouse


def _check_postgres(timeout: float) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = %s", [int(timeout * 1000)])
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _check_redis(timeout: float) -> dict:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
        return {"durability": _redis_durability(client)}
    finally:
        client.close()


def _redis_durability(client: redis.Redis) -> dict:
    """Report (never fail on) settings under which the broker's Redis would lose messages."""
    warnings = []
    try:
        appendonly = client.config_get("appendonly").get("appendonly")
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy")
    except redis.RedisError:
        return {"checked": False, "warnings": ["CONFIG GET refused: durability unknown"]}
    if appendonly != "yes":
        warnings.append("appendonly is off: queued tasks are lost if Redis restarts")
    if policy != "noeviction":
        warnings.append(f"maxmemory-policy is {policy}: Redis may evict queued tasks under memory pressure")
    return {"checked": True, "appendonly": appendonly, "maxmemory_policy": policy, "warnings": warnings}


def _check_clickhouse(timeout: float) -> dict:
    clickhouse.ping(timeout=timeout)
    return {}


CHECKS: dict[str, Callable[[float], dict]] = {
    "postgres": _check_postgres,
    "redis": _check_redis,
    "clickhouse": _check_clickhouse,
}


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    timeout = settings.READYZ_TIMEOUT
    results: dict[str, dict] = {}
    failed: list[str] = []
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            detail = check(timeout)
            results[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1), **detail}
        except Exception as exc:  # any failure means not ready; the body names it
            failed.append(name)
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
    body = {"status": "ok" if not failed else "unavailable", "failed": failed, "checks": results}
    return JsonResponse(body, status=503 if failed else 200)
