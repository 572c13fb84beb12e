"""Quote times as Cboe's delayed-quote pages print them, in any browser language.

The page prints the time in the browser's locale and time zone, so a download's date line can
read ``October 1, 2025 at 6:01 PM EDT``, ``January 9, 2022, 3:11 AM EST``, ``11 de noviembre de
2024, 8:02 GMT-5``, ``9 декабря 2023 г. в 13:49 GMT-5`` or (the legacy ``.dat`` layout)
``Mar 22 2020 @ 18:24 ET``. :func:`parse_quote_time` finds in such a text a 4-digit year, a
month name (English, Spanish, Portuguese, French, German, Italian or Russian), a day of the
month, a clock time (24-hour, or 12-hour with AM/PM) and a time zone, and returns the instant
as an aware New York datetime.

Time zones: ``GMT±h[:mm]`` / ``UTC±h[:mm]`` are fixed offsets; ``EST``/``EDT`` (and the other
US abbreviations) are the fixed offsets they name; ``ET``/``CT``/``MT``/``PT`` are the local
clock of New York, Chicago, Denver, Los Angeles on that date. A text without a time zone is an
error: the same wall-clock time means different instants in different zones, and guessing one
would shift every time to expiry.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from ..errors import InputError

NEW_YORK = ZoneInfo("America/New_York")

_MONTH_NAMES = {
    1: "january jan enero ene janeiro janvier janv januar jänner gennaio января январь янв",
    2: "february feb febrero fevereiro fev février févr februar febbraio февраля февраль фев "
       "февр",
    3: "march mar marzo março mars märz марта март",
    4: "april apr abril abr avril avr aprile апреля апрель апр",
    5: "may mayo maio mai maggio мая май",
    6: "june jun junio junho juin juni giugno июня июнь",
    7: "july jul julio julho juillet juil juli luglio июля июль",
    8: "august aug agosto ago août aout авг августа август",
    9: "september sep sept septiembre setiembre setembro septembre settembre сентября "
       "сентябрь сен сент",
    10: "october oct octubre outubro octobre oktober okt ottobre октября октябрь окт",
    11: "november nov noviembre novembro novembre ноября ноябрь ноя нояб",
    12: "december dec diciembre dic dezembro dez décembre déc dezember dicembre декабря декабрь "
        "дек",
}
MONTHS: dict[str, int] = {name: m for m, names in _MONTH_NAMES.items() for name in names.split()}

_FIXED_ZONES = {"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8,
                "PDT": -7}
_LOCAL_ZONES = {"ET": "America/New_York", "CT": "America/Chicago", "MT": "America/Denver",
                "PT": "America/Los_Angeles"}
_TIME = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:])"
                   r"(?:\s*([ap])\.?\s?m\.?(?![^\W\d_]))?", re.IGNORECASE)
_ZONE = re.compile(r"\b(?:GMT|UTC)(?:\s*([+\-\u2212])\s*(\d{1,2})(?::?(\d{2}))?)?(?!\w)"
                   r"|\b(" + "|".join([*_FIXED_ZONES, *_LOCAL_ZONES]) + r")\b")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_DAY = re.compile(r"(?<!\d)(\d{1,2})(?!\d)")
_WORD = re.compile(r"[^\W\d_]+")


def parse_quote_time(text: str) -> dt.datetime:
    """The instant in a Cboe date line (any language), as an aware New York datetime.

    Raises InputError naming what it could not find (year, month, day, time or time zone).
    """
    rest = str(text).strip()
    rest = re.sub(r"^\s*date\s*:", " ", rest, flags=re.IGNORECASE)
    clock = _TIME.search(rest)
    if not clock:
        raise InputError(f"no clock time (h:mm) in the quote date {text!r}")
    hour, minute, second = int(clock.group(1)), int(clock.group(2)), int(clock.group(3) or 0)
    half = (clock.group(4) or "").lower()
    if half:
        if not 1 <= hour <= 12:
            raise InputError(f"hour {hour} with AM/PM in the quote date {text!r}")
        hour = hour % 12 + (12 if half == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise InputError(f"clock time {clock.group(0)!r} is not a time of day in {text!r}")
    rest = rest[:clock.start()] + " " + rest[clock.end():]
    zone_match = _ZONE.search(rest)
    if not zone_match:
        raise InputError(f"no time zone (EST, EDT, ET, GMT-5, …) in the quote date {text!r}; "
                         "give the quote time explicitly (--quote-time)")
    rest = rest[:zone_match.start()] + " " + rest[zone_match.end():]
    years = _YEAR.findall(rest)
    if len(years) != 1:
        raise InputError(f"expected one 4-digit year in the quote date {text!r}")
    rest = _YEAR.sub(" ", rest)
    months = {MONTHS[w.lower().rstrip(".")] for w in _WORD.findall(rest)
              if w.lower().rstrip(".") in MONTHS}
    if len(months) != 1:
        raise InputError(f"expected one month name in the quote date {text!r}")
    days = _DAY.findall(rest)
    if len(days) != 1:
        raise InputError(f"expected one day of the month in the quote date {text!r}")
    try:
        wall = dt.datetime(int(years[0]), months.pop(), int(days[0]), hour, minute, second)
    except ValueError as exc:
        raise InputError(f"the quote date {text!r} is not a calendar date: {exc}") from None
    return _localise(wall, zone_match).astimezone(NEW_YORK)


def parse_user_quote_time(text: str) -> dt.datetime:
    """A quote time typed by a user: ISO 8601 ``YYYY-MM-DD HH:MM[:SS][±HH:MM]`` (or with T).

    Without an offset the time is New York wall-clock time. Returns an aware New York datetime.
    """
    try:
        value = dt.datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise InputError(f"quote time {text!r}: expected YYYY-MM-DD HH:MM (New York time) or "
                         "an ISO time with its offset, e.g. 2023-09-01 16:15-04:00") from None
    if value.tzinfo is None:
        return value.replace(tzinfo=NEW_YORK)
    return value.astimezone(NEW_YORK)


def _localise(wall: dt.datetime, zone: re.Match) -> dt.datetime:
    sign, hours, minutes, name = zone.groups()
    if name in _FIXED_ZONES:
        return wall.replace(tzinfo=dt.timezone(dt.timedelta(hours=_FIXED_ZONES[name])))
    if name in _LOCAL_ZONES:
        return wall.replace(tzinfo=ZoneInfo(_LOCAL_ZONES[name]))
    offset = dt.timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
    return wall.replace(tzinfo=dt.timezone(-offset if sign in ("-", "\u2212") else offset))
