"""Paper simulation throughput against the raw columnar fetch of the same rows (target >= 0.5x).

Generates 1M signal rows (50 symbols x 20,000 seconds) server-side in a scratch ClickHouse table,
then times, best of 3: the raw fetch of the window (the same query the simulation issues) and the
whole paper simulation (fetch + strategy + fill model) for every strategy kind; the strategy and fill
model alone on the fetched arrays are printed too. Fetch timings vary with machine load, so the two
whole-run figures can cross; the compute-only time shows what the simulation adds.

Then the full gate pipeline (fetch, replay, walk-forward folds, three stress replays, bootstrap, deflated
Sharpe, gates) on the same 1M signals against a plain replay (fetch + replay) (target <= 3x). The pictures
are drawn by their own task after the run is written; their time is printed beside it.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "torghut.settings")

import django  # noqa: E402

django.setup()

from bench.report import record  # noqa: E402
from research.clickhouse_ddl import signal_table_ddl  # noqa: E402
from research.gates import GateContext, gates_evaluate  # noqa: E402
from research.models import DEFAULT_THRESHOLDS  # noqa: E402
from research.pictures import drawdown_svg, equity_svg, folds_svg  # noqa: E402
from research.robustness import robustness_evaluate  # noqa: E402
from research.simulation import PRICE_COLUMNS, FillModel, paper_replay, paper_simulate, simulate, window_columns  # noqa: E402
from torghut.core import clickhouse  # noqa: E402
from trading.signals.types import INDICATORS  # noqa: E402
from trading.strategies.kinds import STRATEGY_KINDS  # noqa: E402

ROWS, SYMBOLS, START_EPOCH = 1_000_000, 50, 1_772_000_000
TARGET = 0.5
PIPELINE_TARGET = 3.0


def _pipeline(*, table: str, start: datetime, end: datetime, kind, fill: FillModel) -> int:
    """Everything a research run computes after its fetch, as `research_run_execute` does (no Postgres)."""
    cols, result = paper_replay(table=table, start=start, end=end, kind=kind, params={}, fill=fill)
    robust = robustness_evaluate(
        cols, result=result, kind=kind, params={}, fill=fill, start=start, end=end, thresholds=DEFAULT_THRESHOLDS, trials=3
    )
    ctx = GateContext(
        result=result,
        window_start=start,
        window_end=end,
        expected_symbols=set(result.symbols),
        now=end,
        last_drill_at=lambda: end,
        robustness=robust,
    )
    return robust, len(gates_evaluate(ctx=ctx, thresholds=DEFAULT_THRESHOLDS))


def _pictures(robust, *, capital: float) -> None:
    folds = [{"fold": f.fold, "net_pnl": f.net_pnl, "mode": robust.fold_mode} for f in robust.folds]
    equity_svg(curve=robust.equity_curve, title="bench")
    drawdown_svg(curve=robust.equity_curve, capital=capital, title="bench")
    folds_svg(folds=folds, title="bench")


def _generate(table: str) -> None:
    values = {name: "0.0" for name in INDICATORS}
    step = f"intDiv(number, {SYMBOLS})"
    values.update(
        macd_hist=f"sin({step} / 5.0 + number % {SYMBOLS})",
        rsi14="50 + 30 * sin(number / 13.0)",
        vwap_w5m=f"100 + 10 * sin({step} / 50.0 + number % {SYMBOLS})",
        boll_mid=f"100 + 10 * sin({step} / 50.0 + number % {SYMBOLS})",
        boll_upper=f"100.5 + 10 * sin({step} / 45.0 + number % {SYMBOLS})",
        boll_lower=f"99.5 + 10 * sin({step} / 55.0 + number % {SYMBOLS})",
    )
    clickhouse.execute(
        "bench_generate",
        f"INSERT INTO {clickhouse.quote_identifier(table)} SELECT concat('S', toString(number % {SYMBOLS})), "
        f"toDateTime({START_EPOCH} + {step}), number, now(), 'bench', 'PT1S', "
        + ", ".join(values[name] for name in INDICATORS)
        + f" FROM system.numbers LIMIT {ROWS}",
    )


def _best(fn, repeats: int = 3) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - started)
    return best, value


def main() -> int:
    clickhouse.ensure_database()
    table = f"research_bench_{os.getpid()}"
    clickhouse.execute("bench_ddl", signal_table_ddl(table))
    start = datetime.fromtimestamp(START_EPOCH, tz=UTC)
    end = start + timedelta(seconds=ROWS // SYMBOLS)
    fill = FillModel(slippage_bps=5.0, fee_bps=1.0, notional=10_000.0, capital=100_000.0)
    worst = float("inf")
    try:
        _generate(table)
        for key, kind in sorted(STRATEGY_KINDS.items()):
            columns = tuple(c for c in kind.columns if c != "price") + PRICE_COLUMNS
            fetch_s, cols = _best(lambda: window_columns(table=table, start=start, end=end, columns=columns))
            sim_s, result = _best(lambda: paper_simulate(table=table, start=start, end=end, kind=kind, params={}, fill=fill))
            compute_s, _ = _best(lambda: simulate(cols, kind=kind, params={}, fill=fill))
            rows = len(cols["symbol"])
            ratio = fetch_s / sim_s
            worst = min(worst, ratio)
            print(
                f"{key:<22} rows={rows:,}  raw fetch {rows / fetch_s:,.0f} rows/s ({fetch_s:.3f}s)  "
                f"simulation {result.signals / sim_s:,.0f} signals/s ({sim_s:.3f}s)  ratio {ratio:.2f}x  "
                f"(strategy + fills alone {compute_s:.3f}s)  "
                f"fills={result.trades:,} net_pnl={result.net_pnl:,.2f}"
            )
            record(
                bench="research",
                figure=f"paper simulation, {key}, {rows:,} signals",
                value=result.signals / sim_s,
                unit="signals/s",
                baseline="raw fetch of the same rows",
                baseline_value=rows / fetch_s,
                ratio=ratio,
                target=f">= {TARGET}x",
                ok=ratio >= TARGET,
            )
        kind = STRATEGY_KINDS["macd_rsi"]
        plain_s, plain = _best(lambda: paper_simulate(table=table, start=start, end=end, kind=kind, params={}, fill=fill))
        full_s, (robust, _) = _best(lambda: _pipeline(table=table, start=start, end=end, kind=kind, fill=fill))
        pictures_s, _ = _best(lambda: _pictures(robust, capital=fill.capital))
        pipeline_ratio = full_s / plain_s
        print(
            f"gate pipeline (macd_rsi, {plain.signals:,} signals, {plain.trades:,} fills): plain replay {plain_s:.3f}s, "
            f"full pipeline {full_s:.3f}s, ratio {pipeline_ratio:.2f}x (target <= {PIPELINE_TARGET}x); "
            f"pictures (own task) {pictures_s:.3f}s"
        )
        record(
            bench="research",
            figure=f"full gate pipeline (folds, stress, bootstrap, DSR, gates, pictures), {plain.signals:,} signals",
            value=full_s,
            unit="s",
            baseline="plain replay (fetch + simulate) of the same signals",
            baseline_value=plain_s,
            ratio=pipeline_ratio,
            target=f"<= {PIPELINE_TARGET}x",
            ok=pipeline_ratio <= PIPELINE_TARGET,
        )
    finally:
        clickhouse.execute("bench_drop", f"DROP TABLE IF EXISTS {clickhouse.quote_identifier(table)}")
    verdict = "meets" if worst >= TARGET else "MISSES"
    print(f"research simulation: worst ratio {worst:.2f}x vs raw fetch ({verdict} target >= {TARGET}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
