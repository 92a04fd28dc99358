"""Issue, list or revoke REST API tokens. Only a digest is stored: the key is shown once, when it is made."""

import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from knox.models import AuthToken

_DURATION = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def _duration(raw: str) -> timedelta:
    match = _DURATION.match(raw.strip())
    if not match or int(match.group(1)) == 0:
        raise CommandError(f"--expires takes a positive duration such as 12h, 30d or 4w, not {raw!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class Command(BaseCommand):
    help = "Create a REST API token for a user (`Authorization: Token <key>`); --revoke deletes the user's tokens."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--expires", default="", help="Lifetime such as 12h, 30d, 4w (default: API_TOKEN_TTL_DAYS).")
        parser.add_argument("--rotate", action="store_true", help="Revoke the user's existing tokens, then create a new one.")
        parser.add_argument("--revoke", action="store_true", help="Revoke every token of the user and create none.")

    def handle(self, *args, username: str, expires: str, rotate: bool, revoke: bool, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"no user named {username!r}") from exc
        if revoke or rotate:
            revoked, _ = AuthToken.objects.filter(user=user).delete()
            if revoke:
                self.stdout.write(f"revoked {revoked} token(s) of {username}")
                return
        if expires:
            _, key = AuthToken.objects.create(user=user, expiry=_duration(expires))
        else:
            _, key = AuthToken.objects.create(user=user)  # REST_KNOX TOKEN_TTL
        self.stdout.write(key)
