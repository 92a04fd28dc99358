"""Where ingest hands accepted signals: the strategies (decisions issue) plug in here.

`signals_consume` runs inside the ingest transaction, before the cursor commit: work it writes to
Postgres commits atomically with the cursor. Anything with side effects outside Postgres (orders)
must be dispatched after commit (`delay_on_commit` / `transaction.on_commit`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trading.signals.types import Signal


@dataclass(frozen=True)
class ConsumeResult:
    signals: int
    decisions: int = 0


def signals_consume(*, signals: Sequence[Signal], account: str) -> ConsumeResult:
    """Hand accepted signals to the strategies. Until the decisions issue lands it only counts them."""
    return ConsumeResult(signals=len(signals))
