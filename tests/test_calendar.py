"""The exchange calendar and the VX expiry rule against independent references: the
`holidays` package's NYSE calendar, dateutil's Easter, pandas' week-of-month dates, and
every VX expiry date in Cboe's own files (tests/data/cfe: the per-contract histories,
whose last trade date is the expiry, and the daily settlement file's Expiration Date)."""

from __future__ import annotations

import csv
import datetime as dt
import re

import holidays as holidays_ref
import pandas as pd
import pytest
from conftest import DATA
from dateutil.easter import easter

from alvh_xl.book.calendar import (
    easter_sunday,
    holidays,
    is_business_day,
    previous_business_day,
    spx_monthly_expiry,
    third_friday,
    vx_expiry,
    vx_weekly_expiry,
)
from alvh_xl.book.symbols import MONTH_CODES, parse_symbol
from alvh_xl.errors import InputError

CFE = DATA / "cfe"
# per-contract files the shared README documents as weekly contracts (label = the monthly's)
WEEKLY_FILES = {"VX_2018-02-21.csv", "VX_2018-08-15.csv", "VX_2019-02-20.csv",
                "VX_2019-05-15.csv"}
_LABEL = re.compile(r"^([FGHJKMNQUVXZ]) \((\w{3}) (\d{4})\)$")


@pytest.mark.parametrize("year", range(1998, 2036))
def test_holidays_match_the_nyse_calendar_of_the_holidays_package(year):
    expected = {d for d in holidays_ref.NYSE(years=year) if d.weekday() < 5}
    got = set(holidays(year))
    assert got == expected, (f"{year}: missing {sorted(expected - got)}, extra "
                             f"{sorted(got - expected)}")


def test_special_closures_are_holidays():
    for day in (dt.date(2018, 12, 5), dt.date(2025, 1, 9), dt.date(2012, 10, 30)):
        assert not is_business_day(day), day


def test_new_year_on_saturday_is_not_observed_on_friday():
    assert is_business_day(dt.date(2021, 12, 31))      # NYSE was open (Jan 1 2022 Saturday)
    assert not is_business_day(dt.date(2017, 1, 2))    # Sunday New Year → Monday off


def test_easter_matches_dateutil():
    for year in range(1998, 2200):
        assert easter_sunday(year) == easter(year), year


def test_third_friday_matches_pandas_week_of_month():
    fridays = pd.date_range("2000-01-01", "2060-12-31", freq="WOM-3FRI")
    for day in fridays:
        assert third_friday(day.year, day.month) == day.date()


def test_previous_business_day_skips_weekend_and_holiday():
    assert previous_business_day(dt.date(2022, 4, 18)) == dt.date(2022, 4, 14)  # Good Friday


def test_spx_monthly_expiry_moves_off_good_friday():
    assert third_friday(2025, 4) == dt.date(2025, 4, 18)      # Good Friday 2025
    assert spx_monthly_expiry(2025, 4) == dt.date(2025, 4, 17)


def test_years_outside_the_rules_are_refused():
    with pytest.raises(InputError, match="1990"):
        holidays(1990)


def _per_contract_files():
    return sorted(CFE.glob("VX_*.csv"))


def test_every_per_contract_file_is_checked():
    assert len(_per_contract_files()) == 35      # ls ../shared/data/cfe/VX_*.csv | wc -l


@pytest.mark.parametrize("path", _per_contract_files(), ids=lambda p: p.name)
def test_vx_expiry_rule_on_every_per_contract_file(path):
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    last = rows[-1]
    expiry = dt.date.fromisoformat(path.stem[3:])
    assert dt.date.fromisoformat(last["Trade Date"]) == expiry, "last trade date = file date"
    code, _, year = _LABEL.match(last["Futures"]).groups()
    month = MONTH_CODES.index(code) + 1
    rule = vx_expiry(int(year), month)
    if path.name in WEEKLY_FILES:
        assert rule != expiry, f"{path.name}: weekly, expected to differ from the monthly {rule}"
        assert expiry.weekday() == 2 and is_business_day(expiry)
        week = (expiry - dt.date(expiry.year, 1, 1)).days // 7 + 1
        assert vx_weekly_expiry(expiry.year, week) == expiry
    else:
        assert rule == expiry, (f"{path.name}: label {last['Futures']}, expected {expiry}, "
                                f"rule gives {rule}")


def test_vx_expiry_rule_and_symbols_on_the_daily_settlement_file():
    """Monthlies VX/V6…VX/M7 (VX/K7 = Tue 2027-05-18: 18 June 2027 is Juneteenth observed)
    and weeklies VX40/V6…VX45/X6, parsed from the Symbol with the file's date as as_of."""
    path = CFE / "cfe_vx_daily_settlement_2026-10-05.csv"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 14
    as_of = dt.date(2026, 10, 5)
    for row in rows:
        expected = dt.date.fromisoformat(row["Expiration Date"])
        sym = parse_symbol(row["Symbol"], as_of=as_of)
        assert (sym.instrument, sym.expiry) == ("VX", expected), (row, sym)
        assert sym.is_weekly == (sym.week is not None)
        if sym.week is None:
            assert vx_expiry(*sym.contract_month) == expected
    k7 = next(r for r in rows if r["Symbol"] == "VX/K7")
    assert k7["Expiration Date"] == "2027-05-18" and vx_expiry(2027, 5).weekday() == 1
