"""`manage.py simulate_market`: write simulated TA rows to ClickHouse and serve a jangar stand-in."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from torghut.core import clickhouse
from torghut.devstack.simulator import MODES, PROFILES, MarketSimulator, now_utc, serve_control
from trading.signals.source import VALUE_COLUMNS


class Command(BaseCommand):
    help = (
        "Write realistic TA rows for a symbol universe to the signal table and serve GET /api/torghut/symbols "
        "(jangar-compatible) plus /control?mode=normal|pause|future|malformed|jangar_down on loopback."
    )

    def add_arguments(self, parser):
        parser.add_argument("--symbols", default=",".join(PROFILES), help="Comma-separated universe.")
        parser.add_argument("--rate", type=float, default=1.0, help="Rows per second per symbol.")
        parser.add_argument("--mode", choices=MODES, default="normal", help="Starting mode (switch live via /control).")
        parser.add_argument("--host", default="127.0.0.1", help="Address of the symbols/control server (loopback).")
        parser.add_argument("--port", type=int, default=None, help="Port of the symbols/control server (default SIMULATOR_PORT).")
        parser.add_argument("--no-serve", action="store_true", help="Only write rows; serve no HTTP.")
        parser.add_argument("--duration", type=float, default=0.0, help="Stop after this many seconds (0: run until Ctrl-C).")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, **options):
        symbols = [s.strip().upper() for s in options["symbols"].split(",") if s.strip()]
        if not symbols or options["rate"] <= 0:
            raise CommandError("need at least one symbol and a positive --rate")
        simulator = MarketSimulator(symbols=symbols, seed=options["seed"], mode=options["mode"])
        server = None
        if not options["no_serve"]:
            port = options["port"] if options["port"] is not None else settings.SIMULATOR_PORT
            server = serve_control(simulator, host=options["host"], port=port)
            host, bound = server.server_address[:2]
            self.stdout.write(
                f"jangar symbols: http://{host}:{bound}/api/torghut/symbols   control: http://{host}:{bound}/control?mode=pause"
            )
        table = clickhouse.quote_identifier(settings.TRADING_SIGNAL_TABLE)
        columns = ", ".join(
            clickhouse.quote_identifier(c)
            for c in (
                settings.TRADING_SIGNAL_SYMBOL_COLUMN,
                settings.TRADING_SIGNAL_TIME_COLUMN,
                settings.TRADING_SIGNAL_SEQ_COLUMN,
                "ingest_ts",
                *VALUE_COLUMNS,
            )
        )
        insert = f"INSERT INTO {table} ({columns}) VALUES"
        interval = 1.0 / options["rate"]
        stop_at = time.monotonic() + options["duration"] if options["duration"] > 0 else None
        written = 0
        self.stdout.write(
            f"simulating {len(symbols)} symbols at {options['rate']}/s each into {settings.TRADING_SIGNAL_TABLE}, mode {simulator.mode}"
        )
        try:
            next_tick = time.monotonic()
            while stop_at is None or time.monotonic() < stop_at:
                rows = simulator.tick(at=now_utc())
                if rows:
                    try:
                        clickhouse.execute("simulator_insert", insert, rows)
                        written += len(rows)
                    except clickhouse.ClickHouseError as exc:
                        self.stderr.write(f"insert failed (will keep going): {exc}")
                next_tick += interval
                time.sleep(max(0.0, next_tick - time.monotonic()))
        except KeyboardInterrupt:
            pass
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()
        self.stdout.write(f"wrote {written} rows")
