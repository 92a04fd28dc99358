"""Local venue servers behaving like the LEAN runner and Alpaca's REST API, for tests and `make run`.

Each is a real HTTP server on 127.0.0.1 with switches for slow, 5xx and malformed answers (set from
Python or by `POST /_venue/switches`) and a count of orders it accepted (`GET /_venue/stats`).
"""

from __future__ import annotations

from torghut.devstack.venues.server import VenueServer, VenueSwitches

__all__ = ["VenueServer", "VenueSwitches"]
