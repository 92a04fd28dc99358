"""`manage.py backfill_execution_provenance [--load FILE.csv] [--batch-size N]`."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from trading.orders.backfill import execution_import_load_csv, execution_provenance_backfill


class Command(BaseCommand):
    help = "Fill provenance on historical orders: import rows become executions tagged `backfill` (idempotent, batched)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--load", type=Path, help="First COPY this CSV of historical orders into the import table.")
        parser.add_argument("--batch-size", type=int, default=50_000, help="Import rows per batch (each batch commits).")

    def handle(self, *args, load: Path | None, batch_size: int, **options) -> None:

        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if load is not None:
            if not load.is_file():
                raise CommandError(f"no such file: {load}")
            self.stdout.write(f"loaded {execution_import_load_csv(path=load)} historical rows from {load}")
        result = execution_provenance_backfill(batch_size=batch_size, progress=self.stdout.write)
        self.stdout.write(
            self.style.SUCCESS(
                f"backfill done: {result.inserted} executions created from {result.scanned} historical rows "
                f"in {result.batches} batches, {result.seconds:.2f}s ({result.rows_per_second:.0f} rows/s); "
                f"{result.scanned - result.inserted} already present or not mappable"
            )
        )
