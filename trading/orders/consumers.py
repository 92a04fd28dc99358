"""Where ingest hands accepted signals: the strategies turn them into decisions here.

`signals_consume` runs inside the ingest transaction, before the cursor commit: the decisions it
writes commit atomically with the cursor. Orders have side effects outside Postgres, so their
submission is dispatched only after that commit (`transaction.on_commit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from django.db import transaction

from trading.orders.decisions import decisions_from_signals
from trading.orders.models import DecisionStatus
from trading.orders.tasks import submit_decision
from trading.signals.types import Signal


@dataclass(frozen=True)
class ConsumeResult:
    signals: int
    decisions: int = 0
    orders: int = 0


def signals_consume(*, signals: Sequence[Signal], account: str) -> ConsumeResult:
    """Create decisions for accepted signals (a list of `Signal` or a columnar `SignalBatch`); paper and
    live decisions are sent to the order queue after commit."""

    decisions = decisions_from_signals(signals=signals, account=account)
    orders = [d.pk for d in decisions if d.status == DecisionStatus.PLANNED]
    for decision_id in orders:
        # robust: a broker hiccup must not fail the committed ingest; reconciliation expires undispatched decisions.
        transaction.on_commit(partial(submit_decision.delay, decision_id), robust=True)
    return ConsumeResult(signals=len(signals), decisions=len(decisions), orders=len(orders))
