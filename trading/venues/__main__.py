"""`python -m trading.venues`: run the local LEAN-like and Alpaca-like venues until interrupted."""
from __future__ import annotations

import argparse
import os
import signal
import threading

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "torghut.settings")
    django.setup()
    from django.conf import settings

    from trading.venues.server import VenueServer

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lean-port", type=int, default=settings.TRADING_VENUE_LEAN_PORT)
    parser.add_argument("--alpaca-port", type=int, default=settings.TRADING_VENUE_ALPACA_PORT)
    args = parser.parse_args()
    venues = [VenueServer(kind="lean", port=args.lean_port).start(), VenueServer(kind="alpaca", port=args.alpaca_port).start()]
    for venue in venues:
        print(f"{venue.kind} venue on {venue.url} (stats: {venue.url}/_venue/stats)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for venue in venues:
        venue.stop()


if __name__ == "__main__":
    main()
