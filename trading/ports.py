"""What trading asks of the layers above it, as interfaces they plug into at startup.

Trading sits below research and governance, so it never imports them. Where it needs an answer only they
have, it names the question here and the owner registers the answer in its `AppConfig.ready`. Each port
fails closed when nobody has plugged in: a live strategy gets no capital, no strategy version counts as
gated, and the emergency-stop state reads as unknown.
"""

from __future__ import annotations

from collections.abc import Callable

CapitalMultiplier = Callable[[int], float]
GatedVersions = Callable[[], set[tuple[int, str]]]
EmergencyStopState = Callable[[], dict]

_capital_multiplier: CapitalMultiplier | None = None
_gated_versions: GatedVersions | None = None
_emergency_stop_state: EmergencyStopState | None = None


def capital_multiplier_register(provider: CapitalMultiplier) -> None:
    """Governance's capital ramp: the share of its capital a live strategy may use today (0..1)."""
    global _capital_multiplier
    _capital_multiplier = provider


def gated_versions_register(provider: GatedVersions) -> None:
    """Research's gates: the (strategy id, version) pairs with a passing gate report."""
    global _gated_versions
    _gated_versions = provider


def emergency_stop_state_register(provider: EmergencyStopState) -> None:
    """Governance's kill switch: state, reason, firing triggers, as `/trading/status` shows them."""
    global _emergency_stop_state
    _emergency_stop_state = provider


def capital_multiplier(*, strategy_id: int) -> float:
    return _capital_multiplier(strategy_id) if _capital_multiplier is not None else 0.0


def gated_versions() -> set[tuple[int, str]]:
    return _gated_versions() if _gated_versions is not None else set()


def emergency_stop_state() -> dict:
    if _emergency_stop_state is None:
        return {"state": None, "error": "no emergency-stop provider is installed"}
    return dict(_emergency_stop_state())
