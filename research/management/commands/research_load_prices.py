from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from research.clickhouse_ddl import signal_table_ddl
from research.prices import SYMBOLS, prices_load
from torghut.core import clickhouse


class Command(BaseCommand):
    help = "Load the real daily prices shipped in bokeh-sampledata into ClickHouse as signal rows with indicators."

    def add_arguments(self, parser):
        parser.add_argument("--table", default=None, help="Target table (default RESEARCH_PRICES_TABLE); created if missing.")
        parser.add_argument("--symbols", default=",".join(SYMBOLS), help=f"Comma-separated subset of {', '.join(SYMBOLS)}.")

    def handle(self, *args, **options):
        table = options["table"] or settings.RESEARCH_PRICES_TABLE
        symbols = tuple(s.strip().upper() for s in options["symbols"].split(",") if s.strip())
        try:
            clickhouse.ensure_database()
            clickhouse.execute("research_prices_ddl", signal_table_ddl(table))
            total = 0
            for symbol in symbols:
                count = prices_load(table=table, symbols=(symbol,))[symbol]
                total += count
                self.stdout.write(f"{symbol}: {count} daily bars loaded into {table}")
        except (clickhouse.ClickHouseError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{total} signal rows loaded into {table}")
