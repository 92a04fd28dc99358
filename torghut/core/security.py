"""Development defaults and the rules that refuse them in production, free of Django imports (settings read them).

`torghut.core.checks` turns these into system-check errors; `scripts/flower.sh` asks `flower_credentials_problem`
before it starts Flower.
"""

from __future__ import annotations

DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
DEV_SUPERUSER_DEFAULT = "admin:admin-dev-password"
DEV_EVIDENCE_HMAC_KEY = "dev-only-evidence-key-do-not-use-in-production"
DEV_FLOWER_BASIC_AUTH = "flower:flower"
MIN_SECRET_LENGTH = 16
MIN_EVIDENCE_KEY_LENGTH = 32
REASON_MIN_LENGTH = 10
REASON_MAX_LENGTH = 2000


def flower_credentials_problem(basic_auth: str) -> str | None:
    """Why `user:password` may not guard Flower in production, or None when it may."""
    user, _, password = (basic_auth or "").partition(":")
    if not user or not password:
        return "FLOWER_BASIC_AUTH is empty or has no password"
    if basic_auth == DEV_FLOWER_BASIC_AUTH or password == user:
        return "FLOWER_BASIC_AUTH is the development default"
    if len(password) < MIN_SECRET_LENGTH:
        return f"FLOWER_BASIC_AUTH's password is shorter than {MIN_SECRET_LENGTH} characters"
    return None


def reason_problem(reason: str) -> str | None:
    """Why an operator's reason (kill switch, promotion, policy change) is refused, or None."""
    text = (reason or "").strip()
    if len(text) < REASON_MIN_LENGTH:
        return f"a reason of at least {REASON_MIN_LENGTH} characters is required"
    if len(text) > REASON_MAX_LENGTH:
        return f"a reason may be at most {REASON_MAX_LENGTH} characters"
    return None
