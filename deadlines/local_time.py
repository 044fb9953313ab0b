"""Asia/Shanghai local time: the day a moment falls on, and the end of a local day.

Every deadline is computed on the local calendar and returned as an aware UTC datetime
(the database stores UTC). Naive datetimes are refused: their zone would be a guess.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def as_utc(moment: datetime, name: str = "moment") -> datetime:
    """``moment`` (aware, any zone) as aware UTC; a naive datetime is a ValueError."""
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, got {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def local_day(moment: datetime, name: str = "moment") -> date:
    """The Asia/Shanghai calendar day ``moment`` falls on."""
    return as_utc(moment, name).astimezone(SHANGHAI).date()


def end_of_local_day(day: date) -> datetime:
    """24:00 of ``day`` in Asia/Shanghai (00:00 of the next day), as aware UTC."""
    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    return midnight.astimezone(UTC)
