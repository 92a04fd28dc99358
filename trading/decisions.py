"""Strategies turn accepted signals into `Decision` rows, inside the caller's (ingest) transaction."""
from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from trading.adapters.simulated import simulated_fill_price
from trading.models import Decision, SignalMemory, Strategy
from trading.models.execution import DecisionStatus, OrderType, Side
from trading.models.strategy import Lane
from trading.signals.types import Signal
from trading.strategies import BUY, HOLD, STRATEGY_KINDS, strategy_kind

logger = logging.getLogger(__name__)

DECIDING_LANES = (Lane.PAPER, Lane.SHADOW, Lane.LIVE)


def decision_hash_for(*, account: str, strategy: Strategy, signal: Signal) -> str:
    """Deterministic id of one strategy's decision on one signal; also the broker client order id."""
    key = f"{account}|{strategy.name}|{strategy.version}|{signal.symbol}|{signal.event_ts.isoformat()}|{signal.seq}"
    return "tg" + hashlib.sha256(key.encode()).hexdigest()[:38]


def _signal_json(signal: Signal) -> dict:
    data = asdict(signal)
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
            from governance.selectors import strategy_capital_multiplier

            capital *= strategy_capital_multiplier(strategy_id=strategy.pk)
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
        strategy=strategy, strategy_version=strategy.version, lane=strategy.lane, account=account, symbol=signal.symbol,
        side=side_name, quantity=Decimal(qty), order_type=OrderType.MARKET, price=price,
        rationale={"kind": strategy.kind, "parameters": strategy.parameters, "indicators": kind.rationale(prev, signal),
                   "signal": {"source": signal.source, "window_size": signal.window_size}},
        signal_symbol=signal.symbol, signal_event_ts=signal.event_ts, signal_seq=signal.seq,
        decision_hash=decision_hash_for(account=account, strategy=strategy, signal=signal), decided_at=now,
    )
    if strategy.lane == Lane.SHADOW:
        # Shadow records what would have happened; it never reaches an adapter.
        decision.status = DecisionStatus.SHADOW
        decision.shadow_fill_price = simulated_fill_price(side=side_name, reference_price=price, slippage_bps=settings.TRADING_SIMULATED_SLIPPAGE_BPS)
    return decision


def decisions_from_signals(*, signals: Sequence[Signal], account: str) -> list[Decision]:
    """Run every enabled paper/shadow/live strategy over `signals`; return the decisions created now.

    Signals at or before the last one consumed for their symbol are replays and are skipped; the
    unique `decision_hash` is the second guard, so replaying a batch creates nothing twice.
    """
    if not signals:
        return []
    with transaction.atomic():
        return _decide(signals=signals, account=account)


def _decide(*, signals: Sequence[Signal], account: str) -> list[Decision]:
    strategies = []
    for strategy in Strategy.objects.filter(enabled=True, lane__in=DECIDING_LANES).order_by("id"):
        if strategy.kind in STRATEGY_KINDS:
            strategies.append(strategy)
        else:
            # One misconfigured strategy must not stall ingest for all the others.
            logger.error("strategy %s has unknown kind %r; skipped", strategy, strategy.kind)
    symbols = sorted({s.symbol for s in signals})
    memories = {m.symbol: m for m in SignalMemory.objects.select_for_update().filter(account=account, symbol__in=symbols)}
    prev_by_symbol = {sym: _signal_from_json(m.values) for sym, m in memories.items()}
    last_key = {sym: (m.event_ts, m.seq) for sym, m in memories.items()}
    now = timezone.now()
    planned: list[Decision] = []
    for signal in sorted(signals, key=lambda s: (s.symbol, s.event_ts, s.seq)):
        if signal.symbol in last_key and (signal.event_ts, signal.seq) <= last_key[signal.symbol]:
            continue
        prev = prev_by_symbol.get(signal.symbol)
        for strategy in strategies:
            side = strategy_kind(strategy.kind).decide(prev, signal, strategy.parameters)
            if side != HOLD:
                decision = _plan(strategy=strategy, account=account, prev=prev, signal=signal, side=side, now=now)
                if decision is not None:
                    planned.append(decision)
        prev_by_symbol[signal.symbol] = signal
        last_key[signal.symbol] = (signal.event_ts, signal.seq)
    for symbol in symbols:
        if symbol not in last_key:
            continue
        SignalMemory.objects.update_or_create(
            account=account, symbol=symbol,
            defaults={"event_ts": last_key[symbol][0], "seq": last_key[symbol][1], "values": _signal_json(prev_by_symbol[symbol])},
        )
    existing = set(Decision.objects.filter(decision_hash__in=[d.decision_hash for d in planned]).values_list("decision_hash", flat=True))
    fresh = [d for d in planned if d.decision_hash not in existing]
    return Decision.objects.bulk_create(fresh)
