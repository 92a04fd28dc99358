"""The columnar hand-off (`SignalBatch`) decides exactly as the per-row `Signal` list does."""

from __future__ import annotations

import random

import numpy as np
import pytest
from django.db import transaction

from tests.factories import make_strategy
from tests.signals import make_signal
from trading.orders.consumers import signals_consume
from trading.orders.models import Decision, SignalMemory
from trading.signals.types import INDICATORS, Signal, SignalBatch
from trading.strategies.kinds import HOLD, strategy_kind

pytestmark = pytest.mark.django_db

SYMBOLS = ("AAPL", "MSFT", "NVDA")


def _noisy_signals(seed: int, *, start: int, count: int) -> list[Signal]:
    """Signals whose MACD histogram and price wander across zero and the bands, so both kinds act often."""
    rng = random.Random(seed)
    signals = []
    for i in range(start, start + count):
        price = 100 + rng.uniform(-3, 3)
        signals.append(
            make_signal(
                rng.choice(SYMBOLS),
                i=i,
                price=price,
                macd_hist=rng.uniform(-1, 1),
                rsi14=rng.uniform(20, 80),
                boll_lower=price + rng.uniform(-2, 1),
                boll_upper=price + rng.uniform(-1, 2),
            )
        )
    return signals


def _columnar(signals: list[Signal]) -> SignalBatch:
    """The batch ingest would build: plain columns, no `Signal` objects behind it."""
    built = SignalBatch.from_signals(signals)
    return SignalBatch(
        symbols=built.symbols,
        ts_us=built.ts_us,
        seqs=built.seqs,
        sources=built.sources.astype(str),
        window_sizes=built.window_sizes.astype(str),
        prices=built.prices,
        indicators=built.indicators,
    )


def _consume(signals, account):
    with transaction.atomic():
        return signals_consume(signals=signals, account=account)


def _made(account: str) -> list[tuple]:
    return [
        (d.strategy_id, d.symbol, d.side, d.quantity, d.price, d.status, d.signal_event_ts, d.signal_seq, d.rationale, d.shadow_fill_price)
        for d in Decision.objects.filter(account=account).order_by("id")
    ]


def _reference(strategies, batches: list[list[Signal]]) -> list[tuple]:
    """One signal at a time with each kind's `decide`: skip replays, carry the previous signal per symbol."""
    out, prev, last = [], {}, {}
    for batch in batches:
        for signal in sorted(batch, key=lambda s: (s.symbol, s.event_ts, s.seq)):
            if signal.symbol in last and (signal.event_ts, signal.seq) <= last[signal.symbol]:
                continue
            for strategy in strategies:
                side = strategy_kind(strategy.kind).decide(prev.get(signal.symbol), signal, strategy.parameters)
                if side != HOLD:
                    out.append((strategy.id, signal.symbol, "buy" if side > 0 else "sell", signal.seq))
            prev[signal.symbol], last[signal.symbol] = signal, (signal.event_ts, signal.seq)
    return out


def test_columnar_and_per_row_hand_offs_make_identical_decisions_across_batches_with_replays():
    strategies = [make_strategy(name="macd"), make_strategy(name="boll", kind="bollinger_reversion", lane="shadow")]
    first = _noisy_signals(1, start=0, count=300)
    # The second batch repeats part of the first (a replay) and a key twice within itself.
    second = first[250:] + _noisy_signals(2, start=300, count=300) + [first[-1]]
    for batch in (first, second):
        rows = _consume(batch, "rows")
        cols = _consume(_columnar(batch), "cols")
        assert (rows.signals, rows.decisions, rows.orders) == (cols.signals, cols.decisions, cols.orders)

    made = _made("rows")
    assert made == _made("cols")
    assert len(made) > 20, "the noisy signals should make both strategies act many times"
    assert [(m[0], m[1], m[2], m[7]) for m in made] == _reference(strategies, [first, second])
    memories = {m.symbol: (m.event_ts, m.seq, m.values) for m in SignalMemory.objects.filter(account="rows")}
    assert memories == {m.symbol: (m.event_ts, m.seq, m.values) for m in SignalMemory.objects.filter(account="cols")}


def test_replaying_a_columnar_batch_as_signals_creates_nothing_twice():
    make_strategy()
    signals = _noisy_signals(3, start=0, count=200)
    made = _consume(_columnar(signals), "paper").decisions
    assert made > 0
    assert _consume(signals, "paper").decisions == 0
    SignalMemory.objects.all().delete()
    assert _consume(_columnar(signals), "paper").decisions == 0
    assert Decision.objects.count() == made


def test_a_batch_row_materialises_as_the_signal_its_columns_came_from():
    signals = _noisy_signals(4, start=0, count=5)
    batch = _columnar(signals)
    assert list(batch) == signals
    assert batch[-1] == signals[-1] and list(batch[1:3]) == signals[1:3]
    assert type(batch[0].source) is str and type(batch[0].seq) is int
    assert batch.column("macd_hist").tolist() == [s.macd_hist for s in signals]
    assert set(batch.columns()) == {"symbol", "price", *INDICATORS}
    with pytest.raises(IndexError):
        batch[5]


def test_an_empty_batch_is_falsy_and_decides_nothing():
    make_strategy()
    empty = SignalBatch.empty()
    assert not empty and len(empty) == 0 and empty.indicators.shape == (0, len(INDICATORS))
    assert _consume(empty, "paper").decisions == 0
    assert np.asarray(empty.ts_us).dtype == np.int64
