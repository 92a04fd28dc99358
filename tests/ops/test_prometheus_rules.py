"""The alert rules parse (`promtool check rules`) and fire exactly on the series meant to fire them."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "ops" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "ops" / "prometheus" / "alerts_test.yml"
PROMTOOL = shutil.which("promtool")


@pytest.fixture(scope="module")
def promtool() -> str:
    assert PROMTOOL, "promtool missing: scripts/bootstrap.sh installs Debian's prometheus package"
    return PROMTOOL


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=RULES.parent, capture_output=True, text=True, timeout=60)


def test_alert_rules_pass_promtool_check(promtool):
    result = _run(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_alert_rule_unit_tests_pass(promtool):
    result = _run(promtool, "test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_rule_test_expecting_the_wrong_outcome_fails(promtool, tmp_path):
    shutil.copy(RULES, tmp_path / "alerts.yml")
    wrong = RULE_TESTS.read_text().replace("exp_alerts: []", "exp_alerts: [{exp_labels: {severity: critical}}]", 1)
    (tmp_path / "wrong_test.yml").write_text(wrong)
    result = subprocess.run([promtool, "test", "rules", "wrong_test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0


def test_the_roadmap_phase_a_alerts_are_defined():
    text = RULES.read_text()
    for alert in (
        "TorghutCursorAheadOfStream",
        "TorghutNoSignalsInWindow",
        "TorghutFallbackRatioOverBudget",
        "TorghutProvenanceCoverageBelowOne",
        "TorghutKillSwitchHalted",
        "TorghutDeadLettersPending",
        "TorghutDrawdownWarning",
    ):
        assert f"alert: {alert}" in text


def _rule_names() -> list[str]:
    return [rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def test_every_alert_rule_has_a_promtool_case_in_which_it_fires():
    cases = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    firing = {check["alertname"] for case in cases for check in case["alert_rule_test"] if check.get("exp_alerts")}
    assert set(_rule_names()) - firing == set()


def test_the_operator_alerts_of_issue_17_are_defined_each_with_a_severity():
    rules = {rule["alert"]: rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]}
    wanted = {
        "TorghutSignalLagOverLimit": "critical",
        "TorghutSignalContinuityAlertActive": "warning",
        "TorghutSignalRowsRejected": "warning",
        "TorghutIngestClickHouseErrors": "warning",
        "TorghutKillSwitchHalted": "critical",
        "TorghutKillSwitchReducing": "warning",
        "TorghutEmergencyStopFired": "critical",
        "TorghutDeadLettersPending": "warning",
        "TorghutDeadLettersGrowing": "warning",
        "TorghutWorkerHeartbeatMissing": "critical",
        "TorghutBeatDown": "critical",
        "TorghutRedisDown": "critical",
        "TorghutResearchFailureStreak": "warning",
        "TorghutFallbackRatioOverBudget": "warning",
        "TorghutDrawdownWarning": "warning",
    }
    assert {name: rules[name]["labels"]["severity"] for name in wanted if name in rules} == wanted
