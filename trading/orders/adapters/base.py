"""What every order adapter speaks: an order out, an order state back, and typed failures.

Failures say whether the venue may have taken the order. `certain_not_placed` failures (connection
refused, HTTP 5xx) let the router move on; ambiguous ones (read timeout, malformed answer) make it
ask the venue by client order id first, because submission is never blindly repeated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

VENUE_STATUSES = ("submitted", "partially_filled", "filled", "canceled", "rejected", "expired")


@dataclass(frozen=True)
class OrderRequest:
    client_order_id: str
    symbol: str
    side: str
    quantity: Decimal
    order_type: str
    reference_price: Decimal
    correlation_id: str = ""
    limit_price: Decimal | None = None


@dataclass(frozen=True)
class OrderState:
    client_order_id: str
    broker_order_id: str
    status: str
    filled_quantity: Decimal = Decimal(0)
    avg_fill_price: Decimal | None = None
    filled_at: datetime | None = None
    raw: dict = field(default_factory=dict)


class AdapterError(Exception):
    """A venue failed to take or answer a request. `reason` is the suffix of the fallback reason."""

    reason = "error"
    category = "adapter_error"
    # True when the venue cannot have taken the order (so trying the next adapter is safe).
    certain_not_placed = False

    def __init__(self, message: str = "", *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason:
            self.reason = reason


class AdapterTimeout(AdapterError):
    reason = "submit_timeout"
    category = "timeout"


class AdapterConnectTimeout(AdapterError):
    reason = "submit_timeout"
    category = "timeout"
    certain_not_placed = True


class AdapterUnreachable(AdapterError):
    reason = "connection_error"
    category = "network"
    certain_not_placed = True


class AdapterNotConfigured(AdapterError):
    reason = "not_configured"
    category = "not_configured"
    certain_not_placed = True


class AdapterHttpError(AdapterError):
    category = "http_5xx"
    certain_not_placed = True

    def __init__(self, message: str = "", *, status: int) -> None:
        super().__init__(message, reason=f"http_{status}")
        self.status = status


class AdapterContractViolation(AdapterError):
    reason = "contract_violation"
    category = "contract_violation"


class OrderRejected(AdapterError):
    """The venue answered and refused the order: final, never a reason to try elsewhere."""

    reason = "rejected"
    category = "venue_rejected"
    certain_not_placed = True


class Adapter(Protocol):
    name: str
    # True when a submission can leave something outside this process (a venue may hold the order).
    # The order path makes the decision durably `submitted` before calling such an adapter.
    external_side_effects: bool

    def submit(self, order: OrderRequest) -> OrderState: ...

    def get_order(self, client_order_id: str) -> OrderState | None: ...

    def cancel_all(self) -> dict: ...

    def healthy(self) -> bool: ...
