"""Typed reads of environment settings, each registered with its default and meaning.

The registry feeds docs/settings.md (`manage.py settings_table --write`; a test keeps the two in step), so every
setting the project reads is documented in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class SettingDoc:
    name: str
    default: str
    doc: str


REGISTRY: dict[str, SettingDoc] = {}


def _register(name: str, default: object, doc: str) -> str | None:
    REGISTRY[name] = SettingDoc(name=name, default="" if default is None else str(default), doc=doc)
    return os.environ.get(name)


def env_str(name: str, default: str, doc: str) -> str:
    raw = _register(name, default, doc)
    return default if raw is None or raw == "" else raw


def env_int(name: str, default: int, doc: str) -> int:
    raw = _register(name, default, doc)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"setting {name} must be an integer, got {raw!r}") from exc


def env_float(name: str, default: float, doc: str) -> float:
    raw = _register(name, default, doc)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"setting {name} must be a number, got {raw!r}") from exc


def env_bool(name: str, default: bool, doc: str) -> bool:
    raw = _register(name, "1" if default else "0", doc)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"setting {name} must be a boolean (1/0, true/false), got {raw!r}")


def env_list(name: str, default: list[str], doc: str) -> list[str]:
    raw = _register(name, ",".join(default), doc)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]
