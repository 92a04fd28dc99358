"""The venue servers. One `VenueServer(kind="lean"|"alpaca")` per venue, each on its own thread."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

FINAL = ("filled", "canceled", "rejected", "expired")


@dataclass
class VenueSwitches:
    """Fault switches. `fault_phase` says whether a slow or malformed answer comes before the venue
    takes the order (it is then dropped if the client gave up) or after it took it."""

    slow_seconds: float = 0.0
    fail_status: int = 0
    malformed: bool = False
    fault_phase: str = "before_accept"
    lookup_fail_status: int = 0
    fill_delay_seconds: float = 0.0
    default_price: float = 100.0


@dataclass
class _Order:
    order_id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    order_type: str
    price: Decimal
    created: float
    status: str = "submitted"
    filled_qty: Decimal = Decimal(0)
    filled_at: datetime | None = None
    extra: dict = field(default_factory=dict)


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat().replace("+00:00", "Z") if ts else None


class _Handler(BaseHTTPRequestHandler):
    server: _VenueHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read counts, not logs
        return

    def _send(self, status: int, body: Any, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            return

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def _client_gone(self) -> bool:
        sock: socket.socket = self.connection
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        try:
            return sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def do_GET(self) -> None:
        self.server.venue.dispatch(self, "GET")

    def do_POST(self) -> None:
        self.server.venue.dispatch(self, "POST")

    def do_DELETE(self) -> None:
        self.server.venue.dispatch(self, "DELETE")


class _VenueHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    venue: VenueServer


class VenueServer:
    """A fake venue. `orders_received` counts orders it took (the double-order detector)."""

    def __init__(self, *, kind: str, host: str = "127.0.0.1", port: int = 0) -> None:
        if kind not in ("lean", "alpaca"):
            raise ValueError(f"unknown venue kind {kind!r}")
        self.kind = kind
        self.switches = VenueSwitches()
        self.lock = threading.Lock()
        self.orders: dict[str, _Order] = {}
        self.orders_received = 0
        self.submit_requests = 0
        self.httpd = _VenueHTTPServer((host, port), _Handler)
        self.httpd.venue = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> VenueServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"venue-{self.kind}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def set(self, **switches: Any) -> None:
        """Change fault switches, e.g. `venue.set(fail_status=503)`; `venue.set()` alone keeps them."""
        with self.lock:
            for name, value in switches.items():
                if not hasattr(self.switches, name):
                    raise ValueError(f"unknown switch {name!r}")
                setattr(self.switches, name, value)

    def reset(self) -> None:
        with self.lock:
            self.switches = VenueSwitches()
            self.orders.clear()
            self.orders_received = 0
            self.submit_requests = 0

    # --- request handling ---------------------------------------------------------------------
    def dispatch(self, handler: _Handler, method: str) -> None:
        parsed = urlparse(handler.path)
        path = parsed.path
        if path == "/_venue/stats" and method == "GET":
            with self.lock:
                return handler._send(
                    200,
                    {
                        "orders_received": self.orders_received,
                        "submit_requests": self.submit_requests,
                        "open_orders": sum(1 for o in self.orders.values() if o.status not in FINAL),
                        "switches": asdict(self.switches),
                    },
                )
        if path == "/_venue/switches" and method == "POST":
            body = handler._body()
            try:
                self.set(**(body or {}))
            except (ValueError, TypeError) as exc:
                return handler._send(400, {"error": str(exc)})
            return handler._send(200, asdict(self.switches))
        if self.kind == "lean":
            return self._lean(handler, method, path)
        return self._alpaca(handler, method, path, parse_qs(parsed.query))

    def _submit_faults(self, handler: _Handler, phase: str) -> bool:
        """Apply the switches for `phase`; True when the request was answered (or abandoned) here."""
        sw = self.switches
        if sw.fault_phase != phase:
            return False
        if sw.slow_seconds:
            time.sleep(sw.slow_seconds)
            if phase == "before_accept" and handler._client_gone():
                # Like a runner that honours request cancellation: an abandoned order is never taken.
                return True
        if sw.fail_status:
            handler._send(sw.fail_status, {"error": "venue unavailable"})
            return True
        if sw.malformed:
            handler._send(200, None, raw=b"<html>upstream gateway says hello</html>")
            return True
        return False

    def _take(self, *, client_order_id: str, symbol: str, side: str, qty: Decimal, order_type: str, price: Decimal) -> _Order:
        order = _Order(
            order_id=str(uuid.uuid4()),
            client_order_id=client_order_id,
            symbol=symbol,
            side=side,
            qty=qty,
            order_type=order_type,
            price=price,
            created=time.monotonic(),
        )
        with self.lock:
            self.orders[client_order_id] = order
            self.orders_received += 1
        self._advance(order)
        return order

    def _advance(self, order: _Order) -> None:
        if order.status == "submitted" and time.monotonic() - order.created >= self.switches.fill_delay_seconds:
            order.status, order.filled_qty, order.filled_at = "filled", order.qty, datetime.now(UTC)

    def _lookup(self, client_order_id: str) -> _Order | None:
        with self.lock:
            order = self.orders.get(client_order_id)
        if order is not None:
            self._advance(order)
        return order

    def _cancel_all(self) -> list[_Order]:
        with self.lock:
            canceled = [o for o in self.orders.values() if o.status not in FINAL]
            for order in canceled:
                order.status = "canceled"
        return canceled

    # --- LEAN runner ----------------------------------------------------------------------------
    @staticmethod
    def _lean_json(order: _Order) -> dict:
        return {
            "order_id": order.order_id,
            "client_order_id": order.client_order_id,
            "symbol": order.symbol,
            "side": order.side,
            "qty": str(order.qty),
            "status": order.status,
            "filled_qty": str(order.filled_qty),
            "avg_fill_price": str(order.price) if order.filled_qty else None,
            "filled_at": _iso(order.filled_at),
        }

    def _lean(self, handler: _Handler, method: str, path: str) -> None:
        if path == "/healthz" and method == "GET":
            return handler._send(200, {"status": "ok"})
        if path == "/v1/orders/cancel-all" and method == "POST":
            return handler._send(200, {"canceled": len(self._cancel_all())})
        if path == "/v1/orders/submit" and method == "POST":
            body = handler._body()
            with self.lock:
                self.submit_requests += 1
            if self._submit_faults(handler, "before_accept"):
                return None
            if (
                not isinstance(body, dict)
                or not body.get("client_order_id")
                or handler.headers.get("Idempotency-Key") != body.get("client_order_id")
            ):
                return handler._send(400, {"error": "Idempotency-Key must equal client_order_id"})
            if self._lookup(body["client_order_id"]) is not None:
                return handler._send(409, {"error": "duplicate idempotency key"})
            try:
                qty = Decimal(str(body["qty"]))
                price = Decimal(str(body.get("limit_price") or body.get("reference_price") or self.switches.default_price))
            except (KeyError, ArithmeticError, ValueError):
                return handler._send(422, {"error": "qty and price must be numbers"})
            order = self._take(
                client_order_id=body["client_order_id"],
                symbol=str(body.get("symbol")),
                side=str(body.get("side")),
                qty=qty,
                order_type=str(body.get("order_type") or "market"),
                price=price,
            )
            if self._submit_faults(handler, "after_accept"):
                return None
            return handler._send(201, self._lean_json(order))
        if path.startswith("/v1/orders/") and method == "GET":
            if self.switches.lookup_fail_status:
                return handler._send(self.switches.lookup_fail_status, {"error": "lookup unavailable"})
            order = self._lookup(path.rsplit("/", 1)[1])
            return handler._send(404, {"error": "not found"}) if order is None else handler._send(200, self._lean_json(order))
        return handler._send(404, {"error": f"no route {method} {path}"})

    # --- Alpaca -------------------------------------------------------------------------------
    def _alpaca_json(self, order: _Order) -> dict:
        now = _iso(datetime.now(UTC))
        status = {"submitted": "new"}.get(order.status, order.status)
        return {
            "id": order.order_id,
            "client_order_id": order.client_order_id,
            "created_at": now,
            "updated_at": now,
            "submitted_at": now,
            "filled_at": _iso(order.filled_at),
            "expired_at": None,
            "canceled_at": None,
            "failed_at": None,
            "replaced_at": None,
            "replaced_by": None,
            "replaces": None,
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, order.symbol)),
            "symbol": order.symbol,
            "asset_class": "us_equity",
            "notional": None,
            "qty": str(order.qty),
            "filled_qty": str(order.filled_qty),
            "filled_avg_price": str(order.price) if order.filled_qty else None,
            "order_class": "simple",
            "order_type": order.order_type,
            "type": order.order_type,
            "side": order.side,
            "time_in_force": "day",
            "limit_price": None,
            "stop_price": None,
            "status": status,
            "extended_hours": False,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
        }

    def _alpaca(self, handler: _Handler, method: str, path: str, query: dict) -> None:
        if not handler.headers.get("APCA-API-KEY-ID"):
            return handler._send(401, {"code": 40110000, "message": "request is not authorized"})
        if path == "/v2/account" and method == "GET":
            return handler._send(200, {"id": str(uuid.uuid4()), "status": "ACTIVE", "currency": "USD"})
        if path == "/v2/orders" and method == "DELETE":
            return handler._send(207, [{"id": o.order_id, "status": 200, "body": None} for o in self._cancel_all()])
        if path == "/v2/orders" and method == "POST":
            body = handler._body()
            with self.lock:
                self.submit_requests += 1
            if self._submit_faults(handler, "before_accept"):
                return None
            if not isinstance(body, dict) or not body.get("client_order_id"):
                return handler._send(422, {"code": 40010000, "message": "client_order_id is required here"})
            if self._lookup(body["client_order_id"]) is not None:
                return handler._send(422, {"code": 40010001, "message": "client_order_id must be unique"})
            try:
                qty = Decimal(str(body["qty"]))
                price = Decimal(str(body.get("limit_price") or self.switches.default_price))
            except (KeyError, ArithmeticError, ValueError):
                return handler._send(422, {"code": 40010000, "message": "qty must be a number"})
            order = self._take(
                client_order_id=body["client_order_id"],
                symbol=str(body.get("symbol")),
                side=str(body.get("side")),
                qty=qty,
                order_type=str(body.get("type") or "market"),
                price=price,
            )
            if self._submit_faults(handler, "after_accept"):
                return None
            return handler._send(200, self._alpaca_json(order))
        if path == "/v2/orders:by_client_order_id" and method == "GET":
            if self.switches.lookup_fail_status:
                return handler._send(self.switches.lookup_fail_status, {"code": 50000000, "message": "lookup unavailable"})
            order = self._lookup((query.get("client_order_id") or [""])[0])
            if order is None:
                return handler._send(404, {"code": 40410000, "message": "order not found"})
            return handler._send(200, self._alpaca_json(order))
        return handler._send(404, {"code": 40410000, "message": f"no route {method} {path}"})
