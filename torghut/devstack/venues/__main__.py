"""`python -m torghut.devstack.venues`: run the local LEAN-like and Alpaca-like venues until interrupted."""

from __future__ import annotations

import argparse
import os
import signal
import threading

import django
from django.conf import settings

from torghut.devstack.venues.server import VenueServer


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "torghut.settings")
    django.setup()

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lean-port", type=int, default=settings.TRADING_VENUE_LEAN_PORT)
    parser.add_argument("--alpaca-port", type=int, default=settings.TRADING_VENUE_ALPACA_PORT)
    args = parser.parse_args()
    venues = []
    for kind, port in (("lean", args.lean_port), ("alpaca", args.alpaca_port)):
        try:
            venue = VenueServer(kind=kind, port=port).start()
        except OSError as exc:
            # Another stack on this machine already serves the port; staying up keeps honcho's other processes running.
            print(f"{kind} venue not started on port {port}: {exc}", flush=True)
            continue
        venues.append(venue)
        print(f"{venue.kind} venue on {venue.url} (stats: {venue.url}/_venue/stats)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for venue in venues:
        venue.stop()


if __name__ == "__main__":
    main()
