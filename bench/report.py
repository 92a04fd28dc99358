"""One line per measured figure, collected by `make bench` into a single table.

Every bench script calls `record(...)` for each figure it measures against its same-run baseline;
records go to the JSON-lines file named by BENCH_RESULTS (set by scripts/bench.sh).
"""

from __future__ import annotations

import json
import os


def record(
    *, bench: str, figure: str, value: float, unit: str, baseline: str, baseline_value: float, ratio: float, target: str, ok: bool
) -> None:
    line = {
        "bench": bench,
        "figure": figure,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "baseline_value": baseline_value,
        "ratio": ratio,
        "target": target,
        "ok": ok,
    }
    path = os.environ.get("BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")


def table(path: str) -> str:
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    out = ["| bench | figure | value | baseline (same run) | ratio | target | met |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        out.append(
            f"| {r['bench']} | {r['figure']} | {r['value']:,.3f} {r['unit']} | {r['baseline']}: {r['baseline_value']:,.3f} {r['unit']} "
            f"| {r['ratio']:.2f}x | {r['target']} | {'yes' if r['ok'] else 'NO'} |"
        )
    return "\n".join(out)


if __name__ == "__main__":
    import sys

    print(table(sys.argv[1]))
