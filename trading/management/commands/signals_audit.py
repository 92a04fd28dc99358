"""`manage.py signals_audit --since ISO [--until ISO] [--repair]`."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from trading.signals.audit import signals_audit


def _when(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"not an ISO timestamp: {text!r}") from exc
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


class Command(BaseCommand):
    help = "Compare ClickHouse signal rows per symbol and minute with the rows ingest processed; --repair re-ingests gaps."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", required=True, type=_when, help="Start of the audited event time (ISO, UTC if no zone).")
        parser.add_argument("--until", type=_when, help="End (default: as far as every cursor has settled).")
        parser.add_argument("--repair", action="store_true", help="Re-ingest every gap found.")

    def handle(self, *args, since: datetime, until: datetime | None, repair: bool, **options) -> None:
        run = signals_audit(since=since, until=until, repair=repair)
        for gap in run.gaps:
            self.stdout.write(f"{gap['minute']} {gap['symbol']}: clickhouse {gap['clickhouse']}, processed {gap['processed']}")
        summary = (
            f"audit {run.since.isoformat()}..{run.until.isoformat()}: {run.minutes_checked} symbol-minutes, {run.missing_rows} missing"
        )
        if repair:
            summary += f", {run.repaired_rows} re-ingested"
        self.stdout.write(self.style.WARNING(summary) if run.missing_rows and not repair else self.style.SUCCESS(summary))
