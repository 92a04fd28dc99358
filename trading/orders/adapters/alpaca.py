"""Alpaca through alpaca-py, against a configurable base URL (paper by default).

alpaca-py retries 429/504 on its own; that would repeat a submission blindly, so the client is built
with retries off and a session that puts a timeout on every request.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pydantic
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest
from django.conf import settings

from trading.orders.adapters.base import (
    AdapterConnectTimeout,
    AdapterContractViolation,
    AdapterError,
    AdapterHttpError,
    AdapterNotConfigured,
    AdapterTimeout,
    AdapterUnreachable,
    OrderRejected,
    OrderRequest,
    OrderState,
)

# Alpaca's many order states folded into the venue-neutral ones.
_STATUS = {
    "new": "submitted",
    "accepted": "submitted",
    "pending_new": "submitted",
    "accepted_for_bidding": "submitted",
    "held": "submitted",
    "calculated": "submitted",
    "pending_review": "submitted",
    "pending_cancel": "submitted",
    "pending_replace": "submitted",
    "partially_filled": "partially_filled",
    "filled": "filled",
    "done_for_day": "expired",
    "expired": "expired",
    "canceled": "canceled",
    "replaced": "canceled",
    "stopped": "submitted",
    "rejected": "rejected",
    "suspended": "rejected",
}


class _TimeoutSession(requests.Session):
    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def request(self, method, url, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, **kwargs)


def _state(order: Any) -> OrderState:
    status = getattr(order.status, "value", order.status)
    if status not in _STATUS:
        raise AdapterContractViolation(f"unknown Alpaca order status {status!r}")
    filled = Decimal(str(order.filled_qty)) if order.filled_qty not in (None, "") else Decimal(0)
    price = Decimal(str(order.filled_avg_price)) if order.filled_avg_price not in (None, "") else None
    return OrderState(
        client_order_id=order.client_order_id,
        broker_order_id=str(order.id),
        status=_STATUS[status],
        filled_quantity=filled,
        avg_fill_price=price,
        filled_at=order.filled_at,
        raw={"status": status},
    )


class AlpacaAdapter:
    name = "alpaca"
    external_side_effects = True

    def __init__(
        self, *, base_url: str | None = None, timeout: float | None = None, key_id: str | None = None, secret_key: str | None = None
    ) -> None:
        base_url = (base_url or settings.TRADING_ALPACA_BASE_URL).rstrip("/")
        try:
            self.client = TradingClient(
                api_key=key_id if key_id is not None else settings.TRADING_ALPACA_KEY_ID,
                secret_key=secret_key if secret_key is not None else settings.TRADING_ALPACA_SECRET_KEY,
                paper="paper" in base_url,
                url_override=base_url,
            )
        except ValueError as exc:
            raise AdapterNotConfigured(str(exc)) from exc
        self.client._retry = 0
        self.client._session = _TimeoutSession(settings.TRADING_ALPACA_TIMEOUT_SECONDS if timeout is None else timeout)

    def _guard(self, call, *args):
        try:
            return call(*args)
        except requests.ConnectTimeout as exc:
            raise AdapterConnectTimeout(str(exc)) from exc
        except requests.Timeout as exc:
            raise AdapterTimeout(str(exc)) from exc
        except requests.ConnectionError as exc:
            raise AdapterUnreachable(str(exc)) from exc
        except APIError as exc:
            status = exc.status_code or 0
            if status >= 500:
                raise AdapterHttpError(str(exc)[:200], status=status) from exc
            if status == 404:
                return None
            if status in (400, 403, 409, 422):
                raise OrderRejected(str(exc)[:500]) from exc
            raise AdapterContractViolation(f"unexpected HTTP {status}: {str(exc)[:200]}") from exc
        except (ValueError, pydantic.ValidationError, TypeError, KeyError) as exc:
            raise AdapterContractViolation(f"{type(exc).__name__}: {str(exc)[:200]}") from exc

    def submit(self, order: OrderRequest) -> OrderState:
        common = {
            "symbol": order.symbol,
            "qty": float(order.quantity),
            "side": OrderSide.BUY if order.side == "buy" else OrderSide.SELL,
            "time_in_force": TimeInForce.DAY,
            "client_order_id": order.client_order_id,
        }
        request = (
            LimitOrderRequest(limit_price=float(order.limit_price), **common)
            if order.order_type == "limit" and order.limit_price is not None
            else MarketOrderRequest(**common)
        )
        result = self._guard(self.client.submit_order, request)
        if result is None:
            raise AdapterContractViolation("404 on order submission")
        return self._guard(_state, result)

    def get_order(self, client_order_id: str) -> OrderState | None:
        result = self._guard(self.client.get_order_by_client_id, client_order_id)
        return None if result is None else self._guard(_state, result)

    def cancel_all(self) -> dict:
        result = self._guard(self.client.cancel_orders)
        return {"canceled": len(result or [])}

    def healthy(self) -> bool:
        try:
            return self._guard(self.client.get, "/account") is not None
        except AdapterError:
            return False
