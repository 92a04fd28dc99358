"""The US equity market calendar (NYSE, America/New_York), read by continuity, session PnL, the emergency stop and the ramp."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import exchange_calendars
import pandas as pd
from django.utils import timezone


@lru_cache(maxsize=1)
def _nyse():
    return exchange_calendars.get_calendar("XNYS")


def market_session_open(*, at: datetime | None = None) -> bool:
    """True while the NYSE regular session is open at `at` (early closes and holidays included)."""
    at = at or timezone.now()
    minute = pd.Timestamp(at).tz_convert("UTC").floor("min")
    with warnings.catch_warnings():
        # exchange_calendars still uses pandas APIs that pandas deprecates; the answers are unaffected.
        warnings.simplefilter("ignore", DeprecationWarning)
        calendar = _nyse()
        if not calendar.first_minute <= minute <= calendar.last_minute:
            return False
        return bool(calendar.is_open_on_minute(minute))


def session_open_at(*, at: datetime | None = None) -> datetime:
    """The open (UTC) of the NYSE session in progress at `at`; while the market is closed, the open of the last
    session that began before `at`, so after-hours and pre-market time belongs to the session before it."""
    at = at or timezone.now()
    minute = pd.Timestamp(at).tz_convert("UTC").floor("min")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # see market_session_open
        calendar = _nyse()
        if not calendar.first_minute <= minute <= calendar.last_minute:
            raise LookupError(f"{at.isoformat()} is outside the NYSE calendar")
        session = calendar.minute_to_session(minute, direction="previous")
        return calendar.session_open(session).to_pydatetime()


@dataclass(frozen=True)
class Session:
    day: date
    open: datetime
    close: datetime
    previous_close: datetime


def last_closed_session(now: datetime) -> Session:
    """The latest NYSE session whose close is at or before `now` (holidays and early closes included)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # see market_session_open
        return _last_closed_session(now)


def _last_closed_session(now: datetime) -> Session:
    calendar = _nyse()
    sessions = calendar.sessions_in_range(pd.Timestamp(now.date() - timedelta(days=14)), pd.Timestamp(now.date()))
    for label in reversed(sessions):
        close = calendar.session_close(label).to_pydatetime()
        if close <= now:
            previous = calendar.previous_session(label)
            return Session(
                day=label.date(),
                open=calendar.session_open(label).to_pydatetime(),
                close=close,
                previous_close=calendar.session_close(previous).to_pydatetime(),
            )
    raise LookupError(f"no NYSE session closed in the 14 days before {now.isoformat()}")
