"""Errors every governance package raises: a refused governance action, and a missing permission."""

from __future__ import annotations


class GovernanceError(Exception):
    """A governance write refused for a reason the caller can show (bad input, wrong state)."""


class GovernancePermissionDenied(GovernanceError):
    """The actor lacks the permission, or four-eyes forbids this actor."""
