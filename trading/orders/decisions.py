"""Strategies turn accepted signals into `Decision` rows, inside the caller's (ingest) transaction."""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from trading import ports
from trading.orders.adapters.router import planned_adapter
from trading.orders.adapters.simulated import simulated_fill_price
from trading.orders.models import Decision, DecisionStatus, OrderType, Side, SignalMemory
from trading.signals.types import Signal, SignalBatch
from trading.strategies.kinds import BUY, HOLD, STRATEGY_KINDS, strategy_kind
from trading.strategies.models import Lane, Strategy

logger = logging.getLogger(__name__)
DECIDING_LANES = (Lane.PAPER, Lane.SHADOW, Lane.LIVE)
_SIGNAL_FIELDS = tuple(f.name for f in fields(Signal))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def decision_hash_for(*, account: str, strategy: Strategy, signal: Signal) -> str:
    """Deterministic id of one strategy's decision on one signal; also the broker client order id."""
    key = f"{account}|{strategy.name}|{strategy.version}|{signal.symbol}|{signal.event_ts.isoformat()}|{signal.seq}"
    return "tg" + hashlib.sha256(key.encode()).hexdigest()[:38]


def _signal_json(signal: Signal) -> dict:
    # Every field is a scalar: no deep copy (asdict) needed.
    data = {name: getattr(signal, name) for name in _SIGNAL_FIELDS}
    data["event_ts"] = signal.event_ts.isoformat()
    return data


def _signal_from_json(data: dict) -> Signal:
    return Signal(**{**data, "event_ts": datetime.fromisoformat(data["event_ts"])})


def _quantity(*, strategy: Strategy, price: float) -> int:
    notional = float(strategy.parameters.get("order_notional", settings.TRADING_ORDER_NOTIONAL))
    if strategy.capital_fraction > 0:
        capital = settings.TRADING_ACCOUNT_CAPITAL * float(strategy.capital_fraction)
        if strategy.lane == "live":
            # A live strategy may use only the share of its capital that its ramp step allows.
            capital *= ports.capital_multiplier(strategy_id=strategy.pk)
        notional = min(notional, capital)
    return int(notional // price)


def _plan(*, strategy: Strategy, account: str, prev: Signal | None, signal: Signal, side: int, now: datetime) -> Decision | None:
    if not math.isfinite(signal.price) or signal.price <= 0:
        return None
    qty = _quantity(strategy=strategy, price=signal.price)
    if qty < 1:
        return None
    side_name = Side.BUY if side == BUY else Side.SELL
    price = Decimal(str(signal.price)).quantize(Decimal("0.000001"))
    kind = strategy_kind(strategy.kind)
    decision = Decision(
        strategy=strategy,
        strategy_version=strategy.version,
        lane=strategy.lane,
        account=account,
        symbol=signal.symbol,
        side=side_name,
        quantity=Decimal(qty),
        order_type=OrderType.MARKET,
        price=price,
        rationale={
            "kind": strategy.kind,
            "parameters": strategy.parameters,
            "indicators": kind.rationale(prev, signal),
            "signal": {"source": signal.source, "window_size": signal.window_size},
        },
        signal_symbol=signal.symbol,
        signal_event_ts=signal.event_ts,
        signal_seq=signal.seq,
        decision_hash=decision_hash_for(account=account, strategy=strategy, signal=signal),
        decided_at=now,
    )
    if strategy.lane == Lane.SHADOW:
        # Shadow records what would have happened; it never reaches an adapter.
        decision.status = DecisionStatus.SHADOW
        decision.shadow_fill_price = simulated_fill_price(
            side=side_name, reference_price=price, slippage_bps=settings.TRADING_SIMULATED_SLIPPAGE_BPS
        )
    else:
        # The route is part of the plan: the order gate fills simulator orders itself (trading.orders.risk).
        decision.expected_adapter = planned_adapter(parameters=strategy.parameters, lane=strategy.lane)
    return decision


def decisions_from_signals(*, signals: Sequence[Signal], account: str) -> list[Decision]:
    """Run every enabled paper/shadow/live strategy over `signals`; return the decisions created now.

    `signals` may be a list of `Signal` or a columnar `SignalBatch` (what ingest hands over); both
    give the same decisions. Signals at or before the last one consumed for their symbol are replays
    and are skipped; the unique `decision_hash` is the second guard, so replaying a batch creates
    nothing twice.
    """
    if not signals:
        return []
    batch = signals if isinstance(signals, SignalBatch) else SignalBatch.from_signals(signals)
    with transaction.atomic():
        return _decide(batch=batch, account=account)


def _fresh_rows(batch: SignalBatch, memories: dict[str, SignalMemory]) -> SignalBatch:
    """The batch in (symbol, event_ts, seq) order without replays: rows at or before their symbol's
    memory, and repeats of a key already in the batch."""
    order = np.lexsort((batch.seqs, batch.ts_us, batch.symbols))
    symbols, ts_us, seqs = batch.symbols[order], batch.ts_us[order], batch.seqs[order]
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = (symbols[1:] != symbols[:-1]) | (ts_us[1:] != ts_us[:-1]) | (seqs[1:] != seqs[:-1])
    if memories:
        known, inverse = np.unique(symbols, return_inverse=True)
        floor = np.full((len(known), 2), np.iinfo(np.int64).min, dtype=np.int64)
        for i, symbol in enumerate(known.tolist()):
            if symbol in memories:
                memory = memories[symbol]
                floor[i] = ((memory.event_ts - _EPOCH) // _US, memory.seq)
        floor_ts, floor_seq = floor[inverse, 0], floor[inverse, 1]
        keep &= (ts_us > floor_ts) | ((ts_us == floor_ts) & (seqs > floor_seq))
    return batch.take(order[keep])


def _sides(strategies: list[Strategy], fresh: SignalBatch, prev_by_symbol: dict[str, Signal]) -> np.ndarray:
    """Each strategy's side for each fresh row (strategies x rows), from the vectorised form of its
    kind. A symbol's remembered signal goes in front of its rows so the first row has its `prev`."""
    carried = [prev_by_symbol[s] for s in np.unique(fresh.symbols).tolist() if s in prev_by_symbol]
    head = SignalBatch.from_signals(carried)
    needed = {"symbol"}.union(*(strategy_kind(s.kind).columns for s in strategies))
    joined = {name: np.concatenate((head.column(name), fresh.column(name))) for name in needed}
    # Stable by symbol: each remembered signal lands right before its symbol's rows, which stay in order.
    order = np.argsort(joined["symbol"], kind="stable")
    cols = {name: values[order] for name, values in joined.items()}
    is_fresh = order >= len(head)
    sides = np.zeros((len(strategies), len(fresh)), dtype=np.int8)
    for row, strategy in enumerate(strategies):
        sides[row] = strategy_kind(strategy.kind).decide_vectorised(cols, strategy.parameters)[is_fresh]
    return sides


def _decide(*, batch: SignalBatch, account: str) -> list[Decision]:
    strategies = []
    for strategy in Strategy.objects.filter(enabled=True, lane__in=DECIDING_LANES).order_by("id"):
        if strategy.kind in STRATEGY_KINDS:
            strategies.append(strategy)
        else:
            # One misconfigured strategy must not stall ingest for all the others.
            logger.error("strategy %s has unknown kind %r; skipped", strategy, strategy.kind)
    symbols = np.unique(batch.symbols).tolist()
    memories = {m.symbol: m for m in SignalMemory.objects.select_for_update().filter(account=account, symbol__in=symbols)}
    prev_by_symbol = {sym: _signal_from_json(m.values) for sym, m in memories.items()}
    fresh = _fresh_rows(batch, memories)
    if not len(fresh):
        return []
    now = timezone.now()
    planned: list[Decision] = []
    if strategies:
        sides = _sides(strategies, fresh, prev_by_symbol)
        # Only rows some strategy acts on become `Signal` objects, in row order then strategy order.
        for row in np.flatnonzero(sides.any(axis=0)).tolist():
            signal = fresh[row]
            prev = fresh[row - 1] if row and fresh.symbols[row - 1] == fresh.symbols[row] else prev_by_symbol.get(signal.symbol)
            for index, strategy in enumerate(strategies):
                side = int(sides[index, row])
                if side != HOLD:
                    decision = _plan(strategy=strategy, account=account, prev=prev, signal=signal, side=side, now=now)
                    if decision is not None:
                        planned.append(decision)
    last_rows = np.flatnonzero(np.append(fresh.symbols[1:] != fresh.symbols[:-1], True)).tolist()
    latest = [fresh[row] for row in last_rows]
    SignalMemory.objects.bulk_create(
        [SignalMemory(account=account, symbol=s.symbol, event_ts=s.event_ts, seq=s.seq, values=_signal_json(s)) for s in latest],
        update_conflicts=True,
        unique_fields=["account", "symbol"],
        update_fields=["event_ts", "seq", "values", "updated_at"],
    )
    if not planned:
        return []
    existing = set(Decision.objects.filter(decision_hash__in=[d.decision_hash for d in planned]).values_list("decision_hash", flat=True))
    fresh_decisions = [d for d in planned if d.decision_hash not in existing]
    return Decision.objects.bulk_create(fresh_decisions)
