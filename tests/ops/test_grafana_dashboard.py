"""Every Grafana panel query parses (promtool) and names only metrics torghut defines."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "ops" / "grafana" / "torghut.json"
PROMQL_WORDS = {
    "sum",
    "max",
    "min",
    "avg",
    "count",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "rate",
    "irate",
    "increase",
    "histogram_quantile",
    "le",
    "offset",
    "bool",
    "topk",
    "bottomk",
    "abs",
    "clamp_min",
    "clamp_max",
    "delta",
    "deriv",
    "time",
    "vector",
    "scalar",
    "label_replace",
    "absent",
}


def panel_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel.get("targets", [])]


def metric_names(expr: str) -> set[str]:
    """Metric names of a PromQL expression: identifiers that are not functions, keywords, labels or strings."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_matchers = re.sub(r"\{[^}]*\}", "", without_strings)
    without_groupings = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", without_matchers)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_groupings)
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_ranges))
    return {name for name in names if name not in PROMQL_WORDS}


def test_the_dashboard_covers_what_operators_watch():
    titles = " | ".join(title for title, _ in panel_queries()).lower()
    for subject in (
        "ingest latency",
        "signal lag",
        "decision to fill",
        "fallback ratio",
        "errors by category",
        "session pnl",
        "session drawdown",
        "gate coverage",
        "kill switch",
        "alert",
    ):
        assert subject in titles, subject


def test_every_panel_query_parses(tmp_path):
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: scripts/bootstrap.sh installs Debian's prometheus package"
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [{"record": f"torghut:dashboard:q{i}", "expr": expr} for i, (_, expr) in enumerate(panel_queries())],
            }
        ]
    }
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(json.dumps(rules))  # JSON is YAML
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_query_would_be_caught(tmp_path):
    promtool = shutil.which("promtool")
    path = tmp_path / "bad.yml"
    path.write_text(json.dumps({"groups": [{"name": "x", "rules": [{"record": "x:y", "expr": "sum by (le (rate(x[5m]))"}]}]}))
    assert subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, timeout=60).returncode != 0


@pytest.mark.parametrize(
    "expr,names",
    [
        (
            "histogram_quantile(0.99, sum by (le, adapter) (rate(torghut_decision_to_fill_seconds_bucket[5m])))",
            {"torghut_decision_to_fill_seconds_bucket"},
        ),
        (
            'max(torghut_signal_reason_streak{reason="cursor_ahead_of_stream"}) >= 2 and on() max(up)',
            {"torghut_signal_reason_streak", "up"},
        ),
    ],
)
def test_metric_name_extraction(expr, names):
    assert metric_names(expr) == names
