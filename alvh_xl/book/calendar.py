"""Cboe/NYSE business days by rule, and the expiry dates of VX futures and SPX options.

Holidays (NYSE rules, which Cboe Options and CFE follow for the dates used here):
New Year's Day (a Sunday holiday is observed Monday; a Saturday one is not observed, as the
exchange keeps the last trading day of the year), Martin Luther King Jr. Day (third Monday of
January, from 1998), Washington's Birthday (third Monday of February), Good Friday,
Memorial Day (last Monday of May), Juneteenth (19 June, from 2022), Independence Day (4 July),
Labor Day (first Monday of September), Thanksgiving (fourth Thursday of November) and
Christmas (25 December); a holiday on a Saturday is observed the Friday before, one on a
Sunday the Monday after. Special closures are listed in ``SPECIAL_CLOSURES``.

The rules hold from 1998 on (MLK Day joined the NYSE calendar that year); earlier years are
refused rather than answered wrongly. Functions take and return ``datetime.date``.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from ..errors import InputError

FIRST_YEAR = 1998
SPECIAL_CLOSURES: dict[dt.date, str] = {
    dt.date(2001, 9, 11): "September 11 attacks",
    dt.date(2001, 9, 12): "September 11 attacks",
    dt.date(2001, 9, 13): "September 11 attacks",
    dt.date(2001, 9, 14): "September 11 attacks",
    dt.date(2004, 6, 11): "national day of mourning, President Reagan",
    dt.date(2007, 1, 2): "national day of mourning, President Ford",
    dt.date(2012, 10, 29): "Hurricane Sandy",
    dt.date(2012, 10, 30): "Hurricane Sandy",
    dt.date(2018, 12, 5): "national day of mourning, President G. H. W. Bush",
    dt.date(2025, 1, 9): "national day of mourning, President Carter",
}
_MONDAY, _WEDNESDAY, _THURSDAY, _FRIDAY, _SATURDAY, _SUNDAY = 0, 2, 3, 4, 5, 6


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= 2199:
        raise InputError(f"exchange calendar: year {year} is outside {FIRST_YEAR}–2199, the "
                         f"years its holiday rules cover")


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return dt.date(year, month, day + 1)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th (1-based) given weekday (Monday = 0) of a month; n = -1 for the last one."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: dt.date) -> dt.date:
    if day.weekday() == _SATURDAY:
        return day - dt.timedelta(days=1)
    if day.weekday() == _SUNDAY:
        return day + dt.timedelta(days=1)
    return day


@lru_cache(maxsize=256)
def holidays(year: int) -> dict[dt.date, str]:
    """Exchange holidays (weekdays the exchange is closed) of one year, date → name."""
    _check_year(year)
    out: dict[dt.date, str] = {}
    new_year = dt.date(year, 1, 1)
    if new_year.weekday() != _SATURDAY:            # NYSE does not observe it on Dec 31
        out[_observed(new_year)] = "New Year's Day"
    out[nth_weekday(year, 1, _MONDAY, 3)] = "Martin Luther King Jr. Day"
    out[nth_weekday(year, 2, _MONDAY, 3)] = "Washington's Birthday"
    out[easter_sunday(year) - dt.timedelta(days=2)] = "Good Friday"
    out[nth_weekday(year, 5, _MONDAY, -1)] = "Memorial Day"
    if year >= 2022:
        out[_observed(dt.date(year, 6, 19))] = "Juneteenth"
    out[_observed(dt.date(year, 7, 4))] = "Independence Day"
    out[nth_weekday(year, 9, _MONDAY, 1)] = "Labor Day"
    out[nth_weekday(year, 11, _THURSDAY, 4)] = "Thanksgiving Day"
    out[_observed(dt.date(year, 12, 25))] = "Christmas Day"
    out.update({d: name for d, name in SPECIAL_CLOSURES.items() if d.year == year})
    return out


def is_business_day(day: dt.date) -> bool:
    """True on a weekday that is not an exchange holiday."""
    return day.weekday() < _SATURDAY and day not in holidays(day.year)


def previous_business_day(day: dt.date) -> dt.date:
    """The last business day strictly before ``day``."""
    day -= dt.timedelta(days=1)
    while not is_business_day(day):
        day -= dt.timedelta(days=1)
    return day


def business_day_on_or_before(day: dt.date) -> dt.date:
    """``day`` itself when it is a business day, else the business day before it."""
    return day if is_business_day(day) else previous_business_day(day)


def third_friday(year: int, month: int) -> dt.date:
    """The third Friday of a month (no holiday adjustment)."""
    return nth_weekday(year, month, _FRIDAY, 3)


def spx_monthly_expiry(year: int, month: int) -> dt.date:
    """Standard (AM-settled) monthly SPX, VIX-ETP and equity option expiry: the third Friday,
    or the business day before it when that Friday is a holiday (e.g. Good Friday)."""
    _check_year(year)
    return business_day_on_or_before(third_friday(year, month))


def vx_expiry(year: int, month: int) -> dt.date:
    """Final settlement date of the monthly VX (and VXM) future and the monthly VIX option of
    a contract month.

    CFE rule: the Wednesday 30 days before the third Friday of the following month; when that
    Friday is a holiday, 30 days before the business day preceding it; when the resulting day
    is a holiday, the business day before it.
    """
    _check_year(year)
    nxt_year, nxt_month = (year + 1, 1) if month == 12 else (year, month + 1)
    friday = business_day_on_or_before(third_friday(nxt_year, nxt_month))
    return business_day_on_or_before(friday - dt.timedelta(days=30))


def vx_weekly_expiry(year: int, week: int) -> dt.date:
    """Expiry of the CFE weekly VX future labelled ``VX<week>`` (e.g. ``VX40/V6``): the
    ``week``-th Wednesday of ``year``, or the business day before it when that Wednesday is a
    holiday. (Checked on Cboe's settlement file of 2026-10-05: VX40 = 2026-10-07.)"""
    _check_year(year)
    if not 1 <= week <= 53:
        raise InputError(f"VX weekly: week number {week} is not between 1 and 53")
    day = nth_weekday(year, 1, _WEDNESDAY, 1) + dt.timedelta(weeks=week - 1)
    if day.year != year:
        raise InputError(f"VX weekly: {year} has no {week}th Wednesday")
    return business_day_on_or_before(day)


def quarterly_future_expiry(year: int, month: int) -> dt.date:
    """Last trading day of the quarterly ES/MES future: the third Friday of the contract month
    (the business day before it when that Friday is a holiday)."""
    return spx_monthly_expiry(year, month)
