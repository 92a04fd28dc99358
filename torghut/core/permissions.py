"""API permissions: a read needs the view permission the view names (the admin's own); a write the one it names."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission


def _as_tuple(required) -> tuple[str, ...]:
    return (required,) if isinstance(required, str) else tuple(required or ())


class ViewPermittedReadPermittedWrite(BasePermission):
    """A read needs `view.read_permission` (e.g. `research.view_researchrun`, what the admin's list needs);
    a write needs `view.write_permission` (e.g. `governance.engage_killswitch`).

    A view that names no permission for a method refuses it, even to superusers: reads and writes fail closed.
    """

    message = "You do not have permission to perform this action."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        attribute = "read_permission" if request.method in SAFE_METHODS else "write_permission"
        required = _as_tuple(getattr(view, attribute, None))
        if not required:
            return False
        return all(user.has_perm(perm) for perm in required)
