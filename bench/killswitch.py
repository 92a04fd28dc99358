"""Kill-switch benchmarks, each against a baseline measured in the same run.

1. Mirror check (`kill_switch_order_policy`, the switch read from its Redis mirror, what status readers ask) against a bare Redis GET
   of the same key: target <= 1.5x. The order path itself reads the switch inside its gate statement
   (`trading_order_gate`), at no round trip of its own; bench/execution.py measures that path.
2. Time from the start of the confirming evaluation to the halt being visible to the order gate:
   target <= one evaluation interval + 1 s.

Runs on a throwaway test database and its own Redis key, so a running system is not touched.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "torghut.settings")
os.environ.setdefault("TORGHUT_TESTING", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from bench.report import record  # noqa: E402

ROUNDS = 5
CALLS = 2_000


def _timed(fn, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - started) / calls


def bench_mirror_check() -> float:
    from governance.killswitch import mirror as killswitch
    from governance.killswitch.selectors import kill_switch_order_policy

    client = killswitch._client()
    key = settings.GOVERNANCE_KILL_SWITCH_REDIS_KEY
    client.set(key, "active")
    check = kill_switch_order_policy
    bare = lambda: client.get(key)  # noqa: E731
    _timed(check, 200), _timed(bare, 200)  # warm the pool and the code paths
    bare_times, check_times = [], []
    for _ in range(ROUNDS):  # interleaved rounds so both see the same machine load
        bare_times.append(_timed(bare, CALLS))
        check_times.append(_timed(check, CALLS))
    bare_us, check_us = statistics.median(bare_times) * 1e6, statistics.median(check_times) * 1e6
    ratio = check_us / bare_us
    print(
        f"mirror check: {check_us:.1f} us/call; bare Redis GET (baseline): {bare_us:.1f} us/call; "
        f"ratio {ratio:.2f}x (target <= 1.5x) {'OK' if ratio <= 1.5 else 'OVER TARGET'}"
    )
    record(
        bench="killswitch",
        figure="mirror check (status readers)",
        value=check_us,
        unit="us/call",
        baseline="bare Redis GET",
        baseline_value=bare_us,
        ratio=ratio,
        target="<= 1.5x",
        ok=ratio <= 1.5,
    )
    return ratio


def bench_time_to_halt() -> float:
    from governance.emergency.measures import EmergencyInputs
    from governance.emergency.services import emergency_stop_evaluate
    from governance.killswitch.selectors import kill_switch_gate_policy

    breach = EmergencyInputs(
        signal_lag_seconds=1.0,
        market_open=True,
        streaks={},
        universe_status="unavailable",
        research_failure_streak=0,
        fallback_ratio=0.0,
        fallback_orders=0,
        pnl_total=0.0,
        allocated_capital=1.0,
    )
    emergency_stop_evaluate(inputs=breach)
    started = time.perf_counter()
    emergency_stop_evaluate(inputs=breach)
    elapsed = time.perf_counter() - started
    assert kill_switch_gate_policy().allows == "none"
    budget = settings.GOVERNANCE_EMERGENCY_STOP_INTERVAL + 1.0
    print(
        f"confirming evaluation to halt visible (incl. cancel, demote, evidence): {elapsed:.3f} s; "
        f"budget {budget:.1f} s (interval + 1 s) {'OK' if elapsed <= budget else 'OVER TARGET'}"
    )
    record(
        bench="killswitch",
        figure="confirming evaluation to halt",
        value=elapsed,
        unit="s",
        baseline="evaluation interval + 1 s",
        baseline_value=budget,
        ratio=elapsed / budget,
        target="<= 1.0x of budget",
        ok=elapsed <= budget,
    )
    return elapsed


def main() -> None:
    settings.GOVERNANCE_KILL_SWITCH_REDIS_KEY = "torghut:bench:kill_switch"
    original = connection.settings_dict["NAME"]
    # Its own name, so a test session on the same server keeps its test database.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_killswitch_{original}"
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        bench_mirror_check()
        bench_time_to_halt()
    finally:
        from governance.killswitch import mirror as killswitch

        killswitch.mirror_clear()
        connection.creation.destroy_test_db(original, verbosity=0)
    print(f"(throwaway database {test_db} dropped)")


if __name__ == "__main__":
    main()
