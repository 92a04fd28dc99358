"""Trading fixtures: small real HTTP servers standing in for jangar and Alertmanager."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.signals import UNIVERSE


@dataclass
class FakeHttp:
    """A loopback HTTP server whose answers the test sets; it records every request body."""

    status: int = 200
    body: object = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Take the server down (connections are refused afterwards)."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def _serve(fake: FakeHttp) -> FakeHttp:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            fake.requests.append({"method": self.command, "path": self.path, "json": json.loads(raw) if raw else None})
            payload = json.dumps(fake.body).encode()
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _answer
        do_POST = _answer

        def log_message(self, *args) -> None:
            return

    fake.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=fake.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return fake


@pytest.fixture
def jangar(settings) -> Iterator[FakeHttp]:
    fake = _serve(FakeHttp(body={"symbols": list(UNIVERSE)}))
    settings.TRADING_UNIVERSE_SOURCE = "jangar"
    settings.JANGAR_SYMBOLS_URL = fake.url + "/api/torghut/symbols"
    yield fake
    fake.stop()


@pytest.fixture
def alertmanager(settings) -> Iterator[FakeHttp]:
    fake = _serve(FakeHttp(body={}))
    settings.ALERTMANAGER_URL = fake.url
    yield fake
    fake.stop()
