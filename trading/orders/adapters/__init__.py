"""Order adapters (simulated, LEAN, Alpaca) and the router that picks one and falls back."""
from __future__ import annotations

from trading.orders.adapters.base import Adapter
from trading.orders.adapters.simulated import SimulatedAdapter
from trading.orders.adapters.lean import LeanAdapter
from trading.orders.adapters.alpaca import AlpacaAdapter


ADAPTER_NAMES = ("simulated", "lean", "alpaca")
def adapter_class(name: str) -> type[Adapter]:
    """The adapter class by name, for what it declares (e.g. `external_side_effects`) without building one."""
    if name == "simulated":

        return SimulatedAdapter
    if name == "lean":

        return LeanAdapter
    if name == "alpaca":

        return AlpacaAdapter
    raise ValueError(f"unknown adapter {name!r}; known: {ADAPTER_NAMES}")
def adapter_get(name: str) -> Adapter:
    """A fresh adapter by name (settings are read at construction, so tests can change them)."""
    return adapter_class(name)()
