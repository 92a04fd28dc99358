"""The roadmap's success criterion, measured on a time-compressed healthy run.

`success_run` replays `hours` of market time in steps: before each step's ingest poll it writes that
step's simulator rows into a scratch signal table, then runs the real ingest poll at the step's
instant (decisions, risk checks and simulated orders run inline). `success_report` then measures the
three figures: the share of 5-minute windows with non-zero signal throughput, the share of submitted
orders with an execution row carrying provenance, and live promotions lacking evidence or approval.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from celery import current_app as app
from django.db.models import F, FloatField, Sum
from django.db.models.expressions import Func
from django.db.models.functions import Floor
from django.test import override_settings
from django.utils import timezone

from governance.lanes.models import LaneChange
from governance.promotion.models import PromotionRequest
from governance.promotion.selectors import promotion_request_approvals_count
from torghut.core import clickhouse
from torghut.devstack.simulator import MarketSimulator
from trading.orders.models import Decision
from trading.signals import source as signal_source
from trading.signals.ingest import signals_ingest
from trading.signals.models import IngestWindow
from trading.signals.types import INDICATORS
from trading.strategies.models import Strategy

WINDOW_SECONDS = 300
THROUGHPUT_GOAL = 0.999


@dataclass(frozen=True)
class SuccessReport:
    hours: float
    windows: int
    windows_with_signals: int
    throughput_share: float
    orders: int
    orders_with_provenance: int
    provenance_share: float
    live_promotions: int
    live_promotions_unapproved: int

    @property
    def met(self) -> bool:
        return (
            self.throughput_share >= THROUGHPUT_GOAL
            and self.orders > 0
            and self.provenance_share == 1.0
            and self.live_promotions_unapproved == 0
        )

    def as_dict(self) -> dict:
        return {**asdict(self), "met": self.met}


def live_promotions_unapproved() -> tuple[int, int]:
    """(live promotions, those without evidence and approval), over the whole lane ledger.

    A move to `live` counts as approved only when an applied promotion request points at its ledger
    row, its checkpoint evidence at approval passed, and it carries at least the approvals it required
    from people other than its requester.
    """

    moves = list(LaneChange.objects.filter(to_lane="live").values_list("id", flat=True))
    if not moves:
        return 0, 0
    approved = set()
    requests = PromotionRequest.objects.filter(lane_change_id__in=moves, status="applied").prefetch_related("approvals__approver")
    for request in requests:
        evidence = (request.checkpoint_at_approval or {}).get("passed") is True
        if evidence and promotion_request_approvals_count(request) >= request.approvals_required:
            approved.add(request.lane_change_id)
    return len(moves), len(moves) - len(approved)


def _epoch_of(field: str):

    return Func(F(field), function="EXTRACT", template="EXTRACT(EPOCH FROM %(expressions)s)", output_field=FloatField())


def success_report(*, source: str, account: str, start: datetime, end: datetime) -> SuccessReport:
    """Measure the success criterion over [start, end) for one ingest source and trading account."""

    start_epoch = int(start.timestamp())
    buckets = max(1, -(-int((end - start).total_seconds()) // WINDOW_SECONDS))
    per_bucket = (
        IngestWindow.objects.filter(source=source, account=account, started_at__gte=start, started_at__lt=end)
        .annotate(bucket=Floor((_epoch_of("started_at") - start_epoch) / WINDOW_SECONDS))
        .values("bucket")
        .annotate(accepted=Sum("rows_accepted"))
    )
    with_signals = sum(1 for row in per_bucket if row["accepted"])
    submitted = Decision.objects.filter(account=account, submitted_at__isnull=False)
    with_provenance = (
        submitted.filter(execution__isnull=False, execution__route_tag__in=["live", "reconciled"])
        .exclude(execution__expected_adapter="")
        .exclude(execution__actual_adapter="")
    )
    orders, covered = submitted.count(), with_provenance.count()
    live, unapproved = live_promotions_unapproved()
    return SuccessReport(
        hours=(end - start).total_seconds() / 3600,
        windows=buckets,
        windows_with_signals=with_signals,
        throughput_share=with_signals / buckets,
        orders=orders,
        orders_with_provenance=covered,
        provenance_share=covered / orders if orders else 0.0,
        live_promotions=live,
        live_promotions_unapproved=unapproved,
    )


@dataclass(frozen=True)
class SuccessRun:
    source: str
    account: str
    start: datetime
    end: datetime
    polls: int
    rows_written: int


def success_run(
    *,
    hours: float = 4.0,
    step_seconds: int = 30,
    symbol_count: int = 8,
    tick_seconds: int = 1,
    end: datetime | None = None,
    seed: int = 11,
    progress: Callable[[str], None] | None = None,
) -> SuccessRun:
    """Replay `hours` of healthy market time ending at `end` (default now) through ingest and the order path.

    Every symbol gets one row per `tick_seconds` of market time; one ingest poll runs per `step_seconds`.

    Uses a scratch signal table (dropped afterwards), its own cursor source and trading account, and a
    paper strategy `success-<run>` that is disabled when the run ends.
    """

    run = uuid.uuid4().hex[:10]
    table, source, account = f"ta_signals_success_{run}", f"success-{run}", f"success-{run}"
    names = [f"SC{i:02d}" for i in range(symbol_count)]
    end = (end or timezone.now()).astimezone(UTC).replace(microsecond=0)
    start = end - timedelta(seconds=int(hours * 3600))
    steps = int((end - start).total_seconds()) // step_seconds
    simulator = MarketSimulator(symbols=names, seed=seed)
    insert = f"INSERT INTO {clickhouse.quote_identifier(table)} (symbol, event_ts, seq, ingest_ts, source, window_size, {', '.join(INDICATORS)}) VALUES"
    clickhouse.ensure_database()
    for statement in signal_source.ddl_statements(table):
        clickhouse.execute("success_ddl", statement)
    strategy = Strategy.objects.create(
        name=f"success-{run}", version="1", kind="macd_rsi", lane="paper", capital_fraction="0.05", parameters={"adapter": "simulated"}
    )
    eager = app.conf.task_always_eager
    # The order submission dispatched after each ingest commit runs inline, in market-time order.
    app.conf.task_always_eager = True
    written = 0
    try:
        with override_settings(
            TRADING_SIGNAL_TABLE=table,
            TRADING_UNIVERSE_SOURCE="static",
            TRADING_UNIVERSE_STATIC_SYMBOLS=names,
            TRADING_INGEST_SHARDS=1,
            TRADING_SIGNAL_PROBE_CACHE_SECONDS=0,
            TRADING_EXECUTION_ADAPTER="simulated",
            TRADING_EXECUTION_FALLBACK_CHAIN=[],
            TRADING_MAX_ORDERS_PER_SECOND=1_000_000,
        ):
            for k in range(1, steps + 1):
                at = start + timedelta(seconds=k * step_seconds)
                rows = []
                for second in range(step_seconds - tick_seconds, -1, -tick_seconds):
                    rows += simulator.tick(at=at - timedelta(seconds=second))
                clickhouse.execute("success_insert", insert, rows)
                written += len(rows)
                signal_source.probe_forget()
                signals_ingest(source=source, account=account, now=at)
                if progress and k % max(1, steps // 8) == 0:
                    progress(f"{at:%H:%M} market time: {k}/{steps} polls, {written:,} rows")
    finally:
        app.conf.task_always_eager = eager
        Strategy.objects.filter(pk=strategy.pk).update(enabled=False)
        clickhouse.execute("success_drop", f"DROP TABLE IF EXISTS {clickhouse.quote_identifier(table)}")
    return SuccessRun(source=source, account=account, start=start, end=end, polls=steps, rows_written=written)
