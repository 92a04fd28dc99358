"""API permissions: reads need an authenticated user; writes need the permission the view names."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission


class AuthenticatedReadPermittedWrite(BasePermission):
    """Authenticated users may read. A write needs `view.write_permission` (e.g. `governance.engage_killswitch`).

    A view that accepts writes but names no permission refuses them: writes fail closed.
    """

    message = "You do not have permission to perform this action."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        required = getattr(view, "write_permission", None)
        if not required:
            return False
        if isinstance(required, str):
            required = (required,)
        return all(user.has_perm(perm) for perm in required)
