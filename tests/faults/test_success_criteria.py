"""The roadmap's success criterion on a time-compressed 4-hour healthy run, printed by `manage.py success_criteria`."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def test_a_compressed_four_hour_healthy_run_meets_the_success_criterion(capsys):
    call_command("success_criteria", "--hours", "4", "--step", "120", "--tick", "5", "--symbols", "4", "--json")
    report = json.loads(capsys.readouterr().out)

    assert report["windows"] == 48
    assert report["throughput_share"] >= 0.999
    assert report["orders"] > 0 and report["provenance_share"] == 1.0
    assert report["live_promotions_unapproved"] == 0
    assert report["met"] is True


def test_a_gap_in_the_stream_a_missing_execution_and_an_unapproved_live_move_each_fail_it():
    from django.utils import timezone

    from governance.lanes.models import LaneChange
    from tests.factories import strategy_live_create
    from torghut.console.success import success_report, success_run
    from trading.orders.models import Decision, Execution
    from trading.signals.models import IngestWindow
    from trading.strategies.models import Strategy

    run = success_run(hours=1, step_seconds=60, tick_seconds=5, symbol_count=4)
    healthy = success_report(source=run.source, account=run.account, start=run.start, end=run.end)
    assert healthy.met

    # Two quiet polls (no rows) make one 5-minute window empty.
    gap = run.start + timedelta(minutes=20)
    IngestWindow.objects.filter(source=run.source, started_at__gte=gap, started_at__lt=gap + timedelta(minutes=5)).update(rows_accepted=0)
    assert success_report(source=run.source, account=run.account, start=run.start, end=run.end).throughput_share == 11 / 12

    decision = Decision.objects.filter(account=run.account, execution__isnull=False).first()
    Execution.objects.filter(decision=decision).delete()
    assert success_report(source=run.source, account=run.account, start=run.start, end=run.end).provenance_share < 1.0

    # A promotion through an applied, approved request with passed checkpoint evidence counts as approved ...
    strategy_live_create(name="approved")
    report = success_report(source=run.source, account=run.account, start=run.start, end=run.end)
    assert (report.live_promotions, report.live_promotions_unapproved) == (1, 0)
    # ... a live move in the ledger with no such request does not (Postgres keeps the strategy row out
    # of `live` without one, so only the ledger can show it).
    other = Strategy.objects.create(name="unapproved", version="1", kind="macd_rsi", lane="shadow")
    LaneChange.objects.create(
        strategy=other, version="1", from_lane="shadow", to_lane="live", at=timezone.now(), cause="request", actor="someone"
    )
    report = success_report(source=run.source, account=run.account, start=run.start, end=run.end)
    assert (report.live_promotions, report.live_promotions_unapproved) == (2, 1) and not report.met
    with pytest.raises(CommandError):
        call_command("success_criteria", "--hours", "0.25", "--step", "60", "--tick", "5", "--symbols", "4")
