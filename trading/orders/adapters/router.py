"""The execution router: expected adapter by policy, then the fallback chain, each hop with a reason.

One submission per adapter, never repeated. When a venue may have taken the order (read timeout,
malformed answer), the router asks that venue for the client order id before moving on; if the venue
cannot say, the outcome is `unknown` and reconciliation settles it later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings

from trading.orders.adapters import ADAPTER_NAMES, adapter_get
from trading.orders.adapters.base import Adapter, AdapterError, OrderRejected, OrderRequest, OrderState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RouteOutcome:
    expected_adapter: str
    actual_adapter: str
    fallback_reasons: tuple[str, ...]
    state: OrderState | None
    # "" when the venue answered; else why the outcome is rejected or unknown.
    error_category: str = ""
    error_detail: str = ""
    unknown: bool = False

    @property
    def fallback_reason(self) -> str:
        return ";".join(self.fallback_reasons) if self.expected_adapter != self.actual_adapter else ""

    @property
    def fallback_count(self) -> int:
        return len(self.fallback_reasons) if self.expected_adapter != self.actual_adapter else 0

    @property
    def exhausted(self) -> bool:
        """Every adapter of the chain said for certain that it does not hold the order."""
        return self.error_category == "chain_exhausted"


def adapter_chain(*, override: str = "", lane: str = "paper") -> list[str]:
    """The expected adapter (strategy override, else the setting) followed by the fallback chain."""
    expected = override or settings.TRADING_EXECUTION_ADAPTER
    if expected not in ADAPTER_NAMES:
        raise ValueError(f"unknown adapter {expected!r}")
    chain = [expected] + [name for name in settings.TRADING_EXECUTION_FALLBACK_CHAIN if name != expected and name in ADAPTER_NAMES]
    if lane == "live":
        # A live order that lands on the simulator would be a trade that never happened.
        chain = [name for name in chain if name != "simulated"] or chain[:1]
    return chain


def planned_adapter(*, parameters: dict | None, lane: str) -> str:
    """The adapter a strategy's decision is planned for (the head of its chain, by its `adapter`
    parameter), or "" when that names an unknown one: the order gate then claims the decision and
    `decision_submit` rejects it as `unknown_adapter`."""
    try:
        return adapter_chain(override=str((parameters or {}).get("adapter") or ""), lane=lane)[0]
    except ValueError:
        return ""


def _probe(adapter: Adapter, client_order_id: str) -> tuple[bool, OrderState | None]:
    """(venue answered, its order or None). One lookup, not a resubmission."""
    try:
        return True, adapter.get_order(client_order_id)
    except AdapterError as exc:
        logger.warning("%s lookup of %s failed: %s", adapter.name, client_order_id, exc)
        return False, None


def route_submit(*, order: OrderRequest, chain: Sequence[str], factory: Callable[[str], Adapter] = adapter_get) -> RouteOutcome:
    """Submit `order` to the first adapter of `chain` that takes it; never twice to the same venue."""
    expected = chain[0]
    reasons: list[str] = []
    last: AdapterError | None = None
    for name in chain:
        try:
            adapter = factory(name)
            state = adapter.submit(order)
            return RouteOutcome(expected, name, tuple(reasons), state)
        except OrderRejected as exc:
            return RouteOutcome(expected, name, tuple(reasons), None, error_category=exc.category, error_detail=str(exc)[:2000])
        except AdapterError as exc:
            last = exc
            if not exc.certain_not_placed:
                answered, found = _probe(adapter, order.client_order_id)
                if found is not None:
                    return RouteOutcome(
                        expected, name, tuple(reasons), found, error_category="", error_detail=f"adopted after {exc.reason}"
                    )
                if not answered:
                    return RouteOutcome(
                        expected, name, tuple(reasons), None, error_category=exc.category, error_detail=str(exc)[:2000], unknown=True
                    )
            reasons.append(f"{name}_{exc.reason}")
            logger.warning("adapter %s did not take %s (%s); falling back", name, order.client_order_id, reasons[-1])
    # Every venue said for certain that it does not hold the order.
    assert last is not None
    return RouteOutcome(expected, chain[-1], tuple(reasons), None, error_category="chain_exhausted", error_detail=str(last)[:2000])
