"""The US equity market calendar (NYSE, America/New_York), read by continuity, the emergency stop and the ramp."""
from __future__ import annotations

import warnings
from datetime import datetime
from functools import lru_cache
import pandas as pd
from django.utils import timezone


@lru_cache(maxsize=1)
def _nyse():
    import exchange_calendars

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
