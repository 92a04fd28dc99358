"""Production refuses unsafe defaults: system checks that fail `manage.py check` (and every launcher that runs it).

With DEBUG off (and outside the test suite) the stack must not start with the development secret key, default or
empty Flower credentials, an unset evidence key, or a superuser that still has the development password. The
development values are defined once (`torghut.core.security`), so the settings and the checks agree about them.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.checks import Error, Tags, register
from django.db import DatabaseError
from django.views.debug import SafeExceptionReporterFilter

from torghut.core.security import (
    DEV_EVIDENCE_HMAC_KEY,
    DEV_SECRET_KEY,
    DEV_SUPERUSER_DEFAULT,
    MIN_EVIDENCE_KEY_LENGTH,
    flower_credentials_problem,
)


class SecretSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter also masks URL settings: DATABASE_URL, REDIS_URL and broker URLs carry passwords."""

    hidden_settings = re.compile("API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|AUTH|DSN", flags=re.IGNORECASE)


def _production() -> bool:
    return not (settings.DEBUG or getattr(settings, "TESTING", False))


@register(Tags.security)
def production_secrets_check(app_configs=None, **kwargs) -> list[Error]:
    """E001-E003: development or missing secrets with DEBUG off."""
    if not _production():
        return []
    errors = []
    if settings.SECRET_KEY == DEV_SECRET_KEY or len(settings.SECRET_KEY) < 50:
        errors.append(Error("SECRET_KEY is the development key or shorter than 50 characters", id="torghut.E001"))
    problem = flower_credentials_problem(settings.FLOWER_BASIC_AUTH)
    if problem:
        errors.append(Error(problem, hint="set FLOWER_BASIC_AUTH=user:<long random password>", id="torghut.E002"))
    key = settings.GOVERNANCE_EVIDENCE_HMAC_KEY
    if key == DEV_EVIDENCE_HMAC_KEY or len(key) < MIN_EVIDENCE_KEY_LENGTH:
        errors.append(
            Error(
                f"GOVERNANCE_EVIDENCE_HMAC_KEY is unset, the development key or shorter than {MIN_EVIDENCE_KEY_LENGTH}", id="torghut.E003"
            )
        )
    return errors


@register(Tags.security, Tags.database)
def dev_superuser_check(app_configs=None, databases=None, **kwargs) -> list[Error]:
    """E004: with DEBUG off no superuser may still log in with the development password."""
    if not _production() or not databases:
        return []
    _, _, dev_password = DEV_SUPERUSER_DEFAULT.partition(":")
    _, _, configured = settings.DEV_SUPERUSER.partition(":")
    try:
        superusers = list(get_user_model().objects.filter(is_superuser=True, is_active=True))
    except DatabaseError:
        return []  # no table yet (before migrate): there is no superuser to refuse
    exposed = [u.username for u in superusers if any(u.check_password(p) for p in {dev_password, configured} if p)]
    if exposed:
        return [Error(f"superuser(s) {exposed} still have the development password", hint="change it or delete them", id="torghut.E004")]
    return []
