"""A LEAN submit answer for another symbol, side or quantity than the order is a contract violation: the
router falls back with `lean_submit_contract_violation` and the fallback venue takes the order."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from trading.orders.adapters.base import OrderRequest
from trading.orders.adapters.lean import LeanAdapter
from trading.orders.adapters.router import route_submit
from trading.orders.adapters.simulated import SimulatedAdapter


def _lean_answering(**wrong):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            answer = {"order_id": "L-1", "client_order_id": body["client_order_id"], "status": "submitted", "filled_qty": "0"}
            answer.update(symbol=body["symbol"], side=body["side"], qty=body["qty"])
            answer.update(wrong)
            raw = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _order() -> OrderRequest:
    return OrderRequest(
        client_order_id="c-1", symbol="AAPL", side="buy", quantity=Decimal("10"), order_type="market", limit_price=None,
        reference_price=Decimal("100"), correlation_id="c-1",
    )  # fmt: skip


@pytest.mark.parametrize("wrong", [{"symbol": "MSFT"}, {"side": "sell"}, {"qty": "11"}])
def test_an_answer_for_another_order_falls_back_as_lean_submit_contract_violation(wrong, settings):
    server = _lean_answering(**wrong)
    try:
        lean = LeanAdapter(base_url=f"http://127.0.0.1:{server.server_port}", timeout=2.0)
        outcome = route_submit(
            order=_order(), chain=["lean", "simulated"], factory=lambda name: lean if name == "lean" else SimulatedAdapter()
        )
    finally:
        server.shutdown()
    assert (outcome.actual_adapter, outcome.fallback_reason) == ("simulated", "lean_submit_contract_violation")


def test_an_answer_echoing_the_order_is_taken(settings):
    server = _lean_answering()
    try:
        state = LeanAdapter(base_url=f"http://127.0.0.1:{server.server_port}", timeout=2.0).submit(_order())
    finally:
        server.shutdown()
    assert (state.broker_order_id, state.status) == ("L-1", "submitted")
