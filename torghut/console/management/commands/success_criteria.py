"""`manage.py success_criteria`: a time-compressed healthy run and the roadmap's three success figures."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from torghut.console.success import THROUGHPUT_GOAL, success_report, success_run


class Command(BaseCommand):
    help = (
        "Replay HOURS of healthy market time (simulator rows, real ingest polls at market-time instants, inline simulated "
        "orders) and print: share of 5-minute windows with signals (goal >= 99.9%), share of orders with provenance "
        "(100%), live promotions without evidence and approval (0). Exits non-zero when a goal is missed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=4.0, help="Market time to replay.")
        parser.add_argument("--step", type=int, default=30, help="Seconds of market time between ingest polls.")
        parser.add_argument("--symbols", type=int, default=8, help="Simulated symbols.")
        parser.add_argument("--tick", type=int, default=1, help="Seconds of market time between two rows of one symbol.")
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, **options):

        if options["hours"] <= 0 or options["step"] <= 0 or options["symbols"] <= 0 or options["tick"] <= 0:
            raise CommandError("--hours, --step, --symbols and --tick must be positive")
        run = success_run(
            hours=options["hours"],
            step_seconds=options["step"],
            symbol_count=options["symbols"],
            tick_seconds=options["tick"],
            progress=lambda line: self.stderr.write(line),
        )
        report = success_report(source=run.source, account=run.account, start=run.start, end=run.end)
        if options["json"]:
            self.stdout.write(json.dumps({**report.as_dict(), "polls": run.polls, "rows_written": run.rows_written}))
        else:
            self.stdout.write(f"healthy run: {report.hours:g} h of market time, {run.polls} polls, {run.rows_written:,} rows")
            self.stdout.write(
                f"5-minute windows with signals: {report.windows_with_signals}/{report.windows} = "
                f"{report.throughput_share:.2%} (goal >= {THROUGHPUT_GOAL:.1%})"
            )
            self.stdout.write(
                f"orders with provenance: {report.orders_with_provenance}/{report.orders} = {report.provenance_share:.2%} (goal 100%)"
            )
            self.stdout.write(
                f"live promotions without evidence and approval: {report.live_promotions_unapproved} of {report.live_promotions} (goal 0)"
            )
            self.stdout.write(f"success criterion: {'MET' if report.met else 'NOT MET'}")
        if not report.met:
            raise CommandError("success criterion not met")
