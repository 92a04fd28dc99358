"""The symbol universe: jangar (authoritative) with a shared cache, or a static list for research/paper.

A jangar answer is used for TRADING_UNIVERSE_CACHE_SECONDS. When jangar fails, a cache up to
TRADING_UNIVERSE_STALE_MAX_SECONDS old is reused (`degraded`); older, the universe is `unavailable`
and ingest fails closed (no signals reach the strategies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from trading.signals.models import UniverseSnapshot, UniverseStatus

JANGAR = "jangar"
STATIC = "static"


class UniverseError(Exception):
    """jangar could not be read or answered something that is not a symbol list."""


@dataclass(frozen=True)
class Universe:
    source: str
    status: str
    reason: str
    symbols: frozenset[str] = field(default_factory=frozenset)
    fetched_at: datetime | None = None

    @property
    def usable(self) -> bool:
        return self.status != UniverseStatus.UNAVAILABLE

    def cache_age_seconds(self, now: datetime) -> float | None:
        return None if self.fetched_at is None else max(0.0, (now - self.fetched_at).total_seconds())


def universe_source() -> str:
    source = settings.TRADING_UNIVERSE_SOURCE.strip().lower()
    if source not in {JANGAR, STATIC}:
        raise ImproperlyConfigured(f"TRADING_UNIVERSE_SOURCE must be jangar or static, got {settings.TRADING_UNIVERSE_SOURCE!r}")
    return source


def universe_assert_authoritative() -> None:
    """Refuse live or autonomous trading on a static universe (static lists stay out of the hot path)."""
    if settings.TRADING_AUTONOMY_ENABLED and universe_source() != JANGAR:
        raise ImproperlyConfigured(
            "TRADING_AUTONOMY_ENABLED=1 needs TRADING_UNIVERSE_SOURCE=jangar: a static universe is for research and paper only"
        )


def parse_symbols(payload: object) -> list[str]:
    """Accept `{"symbols": [...]}` or a bare list; symbols are upper-cased, blanks dropped, order kept."""
    items = payload.get("symbols") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise UniverseError("jangar answer has no symbol list")
    symbols: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise UniverseError(f"jangar symbol {item!r} is not a string")
        cleaned = item.strip().upper()
        if cleaned and cleaned not in symbols:
            symbols.append(cleaned)
    return symbols


def jangar_fetch() -> list[str]:
    url = settings.JANGAR_SYMBOLS_URL
    if not url:
        raise UniverseError("JANGAR_SYMBOLS_URL is not set")
    timeout = settings.JANGAR_TIMEOUT_SECONDS
    try:
        response = requests.get(url, timeout=(timeout, timeout), headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise UniverseError(f"jangar unreachable: {type(exc).__name__}") from exc
    if response.status_code != 200:
        raise UniverseError(f"jangar answered HTTP {response.status_code}")
    try:
        return parse_symbols(response.json())
    except ValueError as exc:
        raise UniverseError("jangar answer is not JSON") from exc


def _snapshot(snapshot: UniverseSnapshot) -> Universe:
    return Universe(
        source=snapshot.source,
        status=snapshot.status,
        reason=snapshot.reason,
        symbols=frozenset(snapshot.symbols) if snapshot.status != UniverseStatus.UNAVAILABLE else frozenset(),
        fetched_at=snapshot.fetched_at,
    )


def universe_resolve(*, now: datetime | None = None) -> Universe:
    """The universe to ingest with now: cached, refreshed from jangar, degraded, or unavailable."""
    now = now or timezone.now()
    source = universe_source()
    if source == STATIC:
        symbols = [s.strip().upper() for s in settings.TRADING_UNIVERSE_STATIC_SYMBOLS if s.strip()]
        status = UniverseStatus.STATIC if symbols else UniverseStatus.UNAVAILABLE
        reason = "" if symbols else "TRADING_UNIVERSE_STATIC_SYMBOLS is empty"
        UniverseSnapshot.objects.update_or_create(
            source=STATIC, defaults={"symbols": symbols, "fetched_at": now, "checked_at": now, "status": status, "reason": reason}
        )
        return Universe(source=STATIC, status=status, reason=reason, symbols=frozenset(symbols), fetched_at=now)

    snapshot = UniverseSnapshot.objects.filter(source=JANGAR).first()
    if (
        snapshot is not None
        and snapshot.status == UniverseStatus.OK
        and snapshot.fetched_at is not None
        and (now - snapshot.fetched_at).total_seconds() < settings.TRADING_UNIVERSE_CACHE_SECONDS
    ):
        return _snapshot(snapshot)
    if (
        snapshot is not None
        and snapshot.status in (UniverseStatus.DEGRADED, UniverseStatus.UNAVAILABLE)
        and snapshot.checked_at is not None
        and (now - snapshot.checked_at).total_seconds() < settings.JANGAR_RETRY_SECONDS
    ):
        # jangar failed moments ago: do not stall every poll on it again, reuse that verdict.
        return _verdict_reused(snapshot=snapshot, now=now)
    try:
        symbols = jangar_fetch()
        if not symbols:
            raise UniverseError("jangar returned an empty universe")
    except UniverseError as exc:
        return _universe_record_failure(now=now, reason=str(exc))
    with transaction.atomic():
        snapshot, _ = UniverseSnapshot.objects.update_or_create(
            source=JANGAR, defaults={"symbols": symbols, "fetched_at": now, "checked_at": now, "status": UniverseStatus.OK, "reason": ""}
        )
    return _snapshot(snapshot)


def _verdict_reused(*, snapshot: UniverseSnapshot, now: datetime) -> Universe:
    age = None if snapshot.fetched_at is None else (now - snapshot.fetched_at).total_seconds()
    if snapshot.status == UniverseStatus.DEGRADED and (age is None or age > settings.TRADING_UNIVERSE_STALE_MAX_SECONDS):
        # The cache aged out while we were not asking: fail closed now.
        return _universe_record_failure(now=now, reason="jangar still failing")
    return _snapshot(snapshot)


def _universe_record_failure(*, now: datetime, reason: str) -> Universe:
    with transaction.atomic():
        snapshot, _ = UniverseSnapshot.objects.select_for_update().get_or_create(source=JANGAR)
        age = None if snapshot.fetched_at is None else (now - snapshot.fetched_at).total_seconds()
        if age is not None and age <= settings.TRADING_UNIVERSE_STALE_MAX_SECONDS and snapshot.symbols:
            snapshot.status = UniverseStatus.DEGRADED
            snapshot.reason = f"{reason}; using cache {int(age)}s old"
        else:
            snapshot.status = UniverseStatus.UNAVAILABLE
            snapshot.reason = reason if age is None else f"{reason}; cache {int(age)}s old is too old"
        snapshot.checked_at = now
        snapshot.save(update_fields=["status", "reason", "checked_at"])
    return _snapshot(snapshot)


def universe_status_snapshot(*, now: datetime | None = None) -> dict:
    """What the API shows about the universe, read from the shared snapshot (no jangar call)."""
    now = now or timezone.now()
    try:
        source = universe_source()
    except ImproperlyConfigured as exc:
        return {
            "source": settings.TRADING_UNIVERSE_SOURCE,
            "status": UniverseStatus.UNAVAILABLE,
            "reason": str(exc),
            "symbols": 0,
            "cache_age_seconds": None,
        }
    snapshot = UniverseSnapshot.objects.filter(source=source).first()
    if snapshot is None:
        return {"source": source, "status": UniverseStatus.UNAVAILABLE, "reason": "not read yet", "symbols": 0, "cache_age_seconds": None}
    universe = _snapshot(snapshot)
    return {
        "source": source,
        "status": snapshot.status,
        "reason": snapshot.reason,
        "symbols": len(universe.symbols),
        "cache_age_seconds": universe.cache_age_seconds(now),
    }
