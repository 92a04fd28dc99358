"""Order adapters (simulated, LEAN, Alpaca) and the router that picks one and falls back.

REGISTRY is the one list of adapter names: models, API filters and the router read it.
"""

from __future__ import annotations

from trading.orders.adapters.alpaca import AlpacaAdapter
from trading.orders.adapters.base import Adapter
from trading.orders.adapters.lean import LeanAdapter
from trading.orders.adapters.simulated import SimulatedAdapter

REGISTRY: dict[str, type[Adapter]] = {cls.name: cls for cls in (SimulatedAdapter, LeanAdapter, AlpacaAdapter)}
ADAPTER_NAMES = tuple(REGISTRY)


def adapter_class(name: str) -> type[Adapter]:
    """The adapter class by name, for what it declares (e.g. `external_side_effects`) without building one."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown adapter {name!r}; known: {ADAPTER_NAMES}") from None


def adapter_get(name: str) -> Adapter:
    """A fresh adapter by name (settings are read at construction, so tests can change them)."""
    return adapter_class(name)()
