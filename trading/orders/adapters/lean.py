"""The LEAN runner over HTTP: submit (idempotent by client order id), look up, cancel all, health."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from django.conf import settings

from trading.orders.adapters.base import (
    VENUE_STATUSES,
    AdapterConnectTimeout,
    AdapterContractViolation,
    AdapterError,
    AdapterHttpError,
    AdapterTimeout,
    AdapterUnreachable,
    OrderRejected,
    OrderRequest,
    OrderState,
)

logger = logging.getLogger(__name__)


def _decimal(value: Any, what: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise AdapterContractViolation(f"{what} is not a number: {value!r}") from exc


def parse_lean_order(body: Any, *, client_order_id: str) -> OrderState:
    """Validate a LEAN order answer; anything off-contract is a contract violation."""
    if not isinstance(body, dict):
        raise AdapterContractViolation(f"order answer is not an object: {str(body)[:200]}")
    status = body.get("status")
    order_id = body.get("order_id")
    if status not in VENUE_STATUSES or not isinstance(order_id, str) or not order_id:
        raise AdapterContractViolation(f"order answer lacks a known status or order_id: {str(body)[:200]}")
    if body.get("client_order_id") != client_order_id:
        raise AdapterContractViolation(f"answer is for {body.get('client_order_id')!r}, not {client_order_id!r}")
    filled_at = None
    if body.get("filled_at"):
        try:
            filled_at = datetime.fromisoformat(str(body["filled_at"]).replace("Z", "+00:00"))
        except ValueError as exc:
            raise AdapterContractViolation(f"filled_at is not a timestamp: {body['filled_at']!r}") from exc
    return OrderState(
        client_order_id=client_order_id,
        broker_order_id=order_id,
        status=status,
        filled_quantity=_decimal(body.get("filled_qty"), "filled_qty") or Decimal(0),
        avg_fill_price=_decimal(body.get("avg_fill_price"), "avg_fill_price"),
        filled_at=filled_at,
        raw=body,
    )


class LeanSubmitContractViolation(AdapterContractViolation):
    """LEAN answered a submit for another symbol, side or quantity: it did not take the order we sent, so the
    next adapter may (the odd order at LEAN is logged for the operator)."""

    reason = "submit_contract_violation"
    certain_not_placed = True


def _same_order(body: Any, order: OrderRequest) -> None:
    if not isinstance(body, dict):
        return  # parse_lean_order names the malformed answer
    sent = {"symbol": order.symbol, "side": order.side, "qty": Decimal(str(order.quantity))}
    for field, expected in sent.items():
        if field not in body:
            continue  # an answer without the echo is allowed; one that contradicts it is not
        got = body[field]
        try:
            same = Decimal(str(got)) == expected if field == "qty" else got == expected
        except InvalidOperation:
            same = False
        if not same:
            logger.error("LEAN answered order %s with %s=%r (sent %r)", order.client_order_id, field, got, expected)
            raise LeanSubmitContractViolation(f"submit answer has {field}={got!r}, the order has {expected!r}")


class LeanAdapter:
    name = "lean"
    external_side_effects = True

    def __init__(self, *, base_url: str | None = None, timeout: float | None = None) -> None:
        self.base_url = (base_url or settings.TRADING_LEAN_URL).rstrip("/")
        self.timeout = settings.TRADING_LEAN_TIMEOUT_SECONDS if timeout is None else timeout
        self.session = requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except requests.ConnectTimeout as exc:
            raise AdapterConnectTimeout(str(exc)) from exc
        except requests.Timeout as exc:
            raise AdapterTimeout(str(exc)) from exc
        except requests.ConnectionError as exc:
            raise AdapterUnreachable(str(exc)) from exc
        if response.status_code >= 500:
            raise AdapterHttpError(response.text[:200], status=response.status_code)
        return response

    @staticmethod
    def _json(response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise AdapterContractViolation(f"answer is not JSON: {response.text[:200]}") from exc

    def submit(self, order: OrderRequest) -> OrderState:
        payload = {
            "client_order_id": order.client_order_id,
            "symbol": order.symbol,
            "side": order.side,
            "qty": str(order.quantity),
            "order_type": order.order_type,
            "limit_price": str(order.limit_price) if order.limit_price is not None else None,
            "reference_price": str(order.reference_price),
            "time_in_force": "day",
        }
        headers = {"Idempotency-Key": order.client_order_id, "X-Correlation-ID": order.correlation_id or order.client_order_id}
        response = self._call("POST", "/v1/orders/submit", json=payload, headers=headers)
        if response.status_code == 409:
            # The runner already holds this idempotency key: the order exists, read it back.
            state = self.get_order(order.client_order_id)
            if state is None:
                raise AdapterContractViolation("409 for an order the runner then does not know")
            return state
        if response.status_code in (400, 403, 422):
            raise OrderRejected(response.text[:500])
        if response.status_code not in (200, 201, 202):
            raise AdapterContractViolation(f"unexpected HTTP {response.status_code} on submit")
        body = self._json(response)
        _same_order(body, order)
        return parse_lean_order(body, client_order_id=order.client_order_id)

    def get_order(self, client_order_id: str) -> OrderState | None:
        response = self._call("GET", f"/v1/orders/{client_order_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise AdapterContractViolation(f"unexpected HTTP {response.status_code} on order lookup")
        return parse_lean_order(self._json(response), client_order_id=client_order_id)

    def cancel_all(self) -> dict:
        response = self._call("POST", "/v1/orders/cancel-all")
        if response.status_code != 200:
            raise AdapterContractViolation(f"unexpected HTTP {response.status_code} on cancel-all")
        body = self._json(response)
        if not isinstance(body, dict) or not isinstance(body.get("canceled"), int):
            raise AdapterContractViolation(f"cancel-all answer lacks a canceled count: {str(body)[:200]}")
        return {"canceled": body["canceled"]}

    def healthy(self) -> bool:
        try:
            return self._call("GET", "/healthz").status_code == 200
        except AdapterError:
            return False
