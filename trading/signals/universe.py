"""The symbol universe: jangar (authoritative) with a shared cache, or a static list for research/paper.

A jangar answer is used for TRADING_UNIVERSE_CACHE_SECONDS. When jangar fails, a cache up to
TRADING_UNIVERSE_STALE_MAX_SECONDS old is reused (`degraded`); older, the universe is `unavailable`
and ingest fails closed (no signals reach the strategies).

Every name, from jangar or the static list, is upper-cased and must match SYMBOL_PATTERN: a letter, then up
to 14 letters, digits, `.` or `-` (`BRK.B`, `BF-B`; the longest US listing suffixes fit in 15). Anything else
(`AAPL;DROP`, `INVALID!`, a number) is rejected with a reason, counted in
`torghut_universe_symbols_rejected_total{source,reason}`, recorded on the UniverseSnapshot (`rejected`) and
never reaches a query; the valid names of the same answer are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from torghut.core.metrics import Counter, counter_labels_init
from trading.signals.models import UniverseSnapshot, UniverseStatus

JANGAR = "jangar"
STATIC = "static"

SYMBOL_PATTERN = re.compile(r"^[A-Z][A-Z0-9.\-]{0,14}$")
SYMBOL_MAX_LENGTH = 15
# Rejection reasons of one universe name.
NOT_A_STRING = "not_a_string"
BLANK = "blank"
TOO_LONG = "too_long"
INVALID_CHARACTERS = "invalid_characters"
REJECT_REASONS = (NOT_A_STRING, BLANK, TOO_LONG, INVALID_CHARACTERS)
# A rejected name is stored cut to this length, and at most this many are kept per snapshot (counts stay exact).
REJECTED_SHOWN_CHARS = 40
REJECTED_KEPT = 100

SYMBOLS_REJECTED = Counter(
    "torghut_universe_symbols_rejected_total",
    "Universe names rejected by validation (never queried), by source and reason.",
    ["source", "reason"],
)
counter_labels_init(SYMBOLS_REJECTED, ({"source": src, "reason": r} for src in (JANGAR, STATIC) for r in REJECT_REASONS))


class UniverseError(Exception):
    """jangar could not be read or answered something that is not a symbol list."""


@dataclass(frozen=True)
class Universe:
    source: str
    status: str
    reason: str
    symbols: frozenset[str] = field(default_factory=frozenset)
    fetched_at: datetime | None = None
    rejected: tuple[dict, ...] = ()

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


@dataclass(frozen=True)
class SymbolList:
    """The valid names of one answer (upper-cased, de-duplicated, order kept) and the rejected ones."""

    symbols: list[str]
    rejected: list[dict]


def symbol_reject_reason(name: object) -> str | None:
    """Why `name` (already stripped and upper-cased when it is a string) is not a symbol, or None."""
    if not isinstance(name, str):
        return NOT_A_STRING
    if not name:
        return BLANK
    if len(name) > SYMBOL_MAX_LENGTH:
        return TOO_LONG
    if not SYMBOL_PATTERN.fullmatch(name):
        return INVALID_CHARACTERS
    return None


def symbols_validate(items: list) -> SymbolList:
    """Split names into valid symbols and rejects ({symbol, reason}); one bad name never spoils the others."""
    symbols: list[str] = []
    rejected: list[dict] = []
    for item in items:
        name = item.strip().upper() if isinstance(item, str) else item
        reason = symbol_reject_reason(name)
        if reason is None:
            if name not in symbols:
                symbols.append(name)
        else:
            rejected.append({"symbol": (name if isinstance(name, str) else repr(name))[:REJECTED_SHOWN_CHARS], "reason": reason})
    return SymbolList(symbols=symbols, rejected=rejected)


def _rejects_count(*, source: str, rejected: list[dict]) -> None:
    for item in rejected:
        SYMBOLS_REJECTED.labels(source=source, reason=item["reason"]).inc()


def parse_symbols(payload: object) -> SymbolList:
    """Accept `{"symbols": [...]}` or a bare list; names are validated (see the module docstring)."""
    items = payload.get("symbols") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise UniverseError("jangar answer has no symbol list")
    return symbols_validate(items)


def jangar_fetch() -> SymbolList:
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
        rejected=tuple(snapshot.rejected or ()),
    )


def universe_resolve(*, now: datetime | None = None) -> Universe:
    """The universe to ingest with now: cached, refreshed from jangar, degraded, or unavailable."""
    now = now or timezone.now()
    source = universe_source()
    if source == STATIC:
        return _static_resolve(now=now)

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
        answer = jangar_fetch()
    except UniverseError as exc:
        return _universe_record_failure(now=now, reason=str(exc))
    _rejects_count(source=JANGAR, rejected=answer.rejected)
    rejected = answer.rejected[:REJECTED_KEPT]
    if not answer.symbols:
        why = (
            f"jangar returned no valid symbol ({len(answer.rejected)} rejected)" if answer.rejected else "jangar returned an empty universe"
        )
        return _universe_record_failure(now=now, reason=why, rejected=rejected)
    reason = f"{len(answer.rejected)} invalid symbol(s) rejected" if answer.rejected else ""
    with transaction.atomic():
        snapshot, _ = UniverseSnapshot.objects.update_or_create(
            source=JANGAR,
            defaults={
                "symbols": answer.symbols,
                "fetched_at": now,
                "checked_at": now,
                "status": UniverseStatus.OK,
                "reason": reason,
                "rejected": rejected,
            },
        )
    return _snapshot(snapshot)


def _static_resolve(*, now: datetime) -> Universe:
    answer = symbols_validate([s for s in settings.TRADING_UNIVERSE_STATIC_SYMBOLS if s.strip()])
    rejected = answer.rejected[:REJECTED_KEPT]
    status = UniverseStatus.STATIC if answer.symbols else UniverseStatus.UNAVAILABLE
    if answer.symbols:
        reason = f"{len(answer.rejected)} invalid symbol(s) rejected" if answer.rejected else ""
    else:
        reason = "TRADING_UNIVERSE_STATIC_SYMBOLS has no valid symbol" if answer.rejected else "TRADING_UNIVERSE_STATIC_SYMBOLS is empty"
    with transaction.atomic():
        previous = UniverseSnapshot.objects.select_for_update().filter(source=STATIC).values_list("rejected", flat=True).first()
        # The static list is re-read every poll: count its rejects once per change of the list, not per poll.
        if previous != rejected:
            _rejects_count(source=STATIC, rejected=answer.rejected)
        UniverseSnapshot.objects.update_or_create(
            source=STATIC,
            defaults={
                "symbols": answer.symbols,
                "fetched_at": now,
                "checked_at": now,
                "status": status,
                "reason": reason,
                "rejected": rejected,
            },
        )
    return Universe(
        source=STATIC, status=status, reason=reason, symbols=frozenset(answer.symbols), fetched_at=now, rejected=tuple(rejected)
    )


def _verdict_reused(*, snapshot: UniverseSnapshot, now: datetime) -> Universe:
    age = None if snapshot.fetched_at is None else (now - snapshot.fetched_at).total_seconds()
    if snapshot.status == UniverseStatus.DEGRADED and (age is None or age > settings.TRADING_UNIVERSE_STALE_MAX_SECONDS):
        # The cache aged out while we were not asking: fail closed now.
        return _universe_record_failure(now=now, reason="jangar still failing")
    return _snapshot(snapshot)


def _universe_record_failure(*, now: datetime, reason: str, rejected: list[dict] | None = None) -> Universe:
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
        fields = ["status", "reason", "checked_at"]
        if rejected is not None:
            snapshot.rejected = rejected
            fields.append("rejected")
        snapshot.save(update_fields=fields)
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
            "rejected": [],
        }
    snapshot = UniverseSnapshot.objects.filter(source=source).first()
    if snapshot is None:
        return {
            "source": source,
            "status": UniverseStatus.UNAVAILABLE,
            "reason": "not read yet",
            "symbols": 0,
            "cache_age_seconds": None,
            "rejected": [],
        }
    universe = _snapshot(snapshot)
    return {
        "source": source,
        "status": snapshot.status,
        "reason": snapshot.reason,
        "symbols": len(universe.symbols),
        "cache_age_seconds": universe.cache_age_seconds(now),
        "rejected": list(universe.rejected),
    }
