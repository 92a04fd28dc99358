"""Simulated fills: the signal price moved against the order by the configured slippage, no network."""

from __future__ import annotations

import time
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from trading.orders.adapters.base import OrderRequest, OrderState

BROKER_ORDER_PREFIX = "sim-"
# The simulated fill rule, the one definition: the reference price (at PRICE_PLACES, as a decision
# stores it) times `simulated_fill_factor`, rounded to PRICE_PLACES with ties away from zero
# (ROUND_HALF_UP on a Decimal; Postgres' round() in the order gate; research.simulation.FillModel).
PRICE_PLACES = 6
PRICE_QUANTUM = Decimal(1).scaleb(-PRICE_PLACES)


def simulated_fill_factor(*, side: str, slippage_bps: float) -> Decimal:
    """The slippage moves the price against the order: buys pay more, sells get less."""
    move = Decimal(str(slippage_bps)) / Decimal(10_000)
    return Decimal(1) + move if side == "buy" else Decimal(1) - move


def simulated_fill_price(*, side: str, reference_price: Decimal, slippage_bps: float) -> Decimal:
    """The price a simulated order of `side` fills at, by the rule above."""
    factor = simulated_fill_factor(side=side, slippage_bps=slippage_bps)
    return (reference_price * factor).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP)


def in_database_fill() -> tuple[str, Decimal, str] | None:
    """(adapter, slippage bps, broker order id prefix) for the order gate to fill simulated orders in
    its own statement (migration 0005), by the same rule as `SimulatedAdapter.submit`. None when a
    latency is configured: then the adapter itself runs and waits it out."""
    if settings.TRADING_SIMULATED_LATENCY_MS:
        return None
    return SimulatedAdapter.name, Decimal(str(settings.TRADING_SIMULATED_SLIPPAGE_BPS)), BROKER_ORDER_PREFIX


class SimulatedAdapter:
    name = "simulated"
    # Fills are computed here and live only in the database transaction that records them.
    external_side_effects = False

    def __init__(self, *, slippage_bps: float | None = None, latency_ms: int | None = None) -> None:
        self.slippage_bps = settings.TRADING_SIMULATED_SLIPPAGE_BPS if slippage_bps is None else slippage_bps
        self.latency_ms = settings.TRADING_SIMULATED_LATENCY_MS if latency_ms is None else latency_ms

    def submit(self, order: OrderRequest) -> OrderState:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        price = simulated_fill_price(side=order.side, reference_price=order.reference_price, slippage_bps=self.slippage_bps)
        return OrderState(
            client_order_id=order.client_order_id,
            broker_order_id=f"{BROKER_ORDER_PREFIX}{order.client_order_id}",
            status="filled",
            filled_quantity=order.quantity,
            avg_fill_price=price,
            filled_at=timezone.now(),
        )

    def get_order(self, client_order_id: str) -> OrderState | None:
        # Nothing exists outside the process: an order the database did not record never happened.
        return None

    def cancel_all(self) -> dict:
        return {"canceled": 0}

    def healthy(self) -> bool:
        return True
