"""The symbol parser: every documented form, the errors, and format → parse round trips
(hypothesis) for OCC (padded and not), thinkorswim codes and leg texts, and futures codes."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_xl.book.calendar import spx_monthly_expiry, vx_expiry, vx_weekly_expiry
from alvh_xl.book.symbols import (
    ETP_TICKERS,
    MONTH_CODES,
    format_future,
    format_occ,
    format_tos_code,
    format_tos_description,
    parse_symbol,
    parse_tos_description,
)
from alvh_xl.errors import InputError

D = dt.date
AS_OF = D(2026, 10, 5)

# text → (kind, root, instrument, cp, strike, expiry, multiplier)
EXAMPLES = {
    "SPXW  231215P04300000": ("option", "SPXW", "SPXW", "P", 4300.0, D(2023, 12, 15), 100.0),
    "SPXW231215P04300000": ("option", "SPXW", "SPXW", "P", 4300.0, D(2023, 12, 15), 100.0),
    "SPX   251219C06100500": ("option", "SPX", "SPX", "C", 6100.5, D(2025, 12, 19), 100.0),
    "XSP   251219C00600000": ("option", "XSP", "XSP", "C", 600.0, D(2025, 12, 19), 100.0),
    "VIX   230920C00015000": ("option", "VIX", "VIX", "C", 15.0, D(2023, 9, 20), 100.0),
    "VIXW  230913C00015000": ("option", "VIXW", "VIX", "C", 15.0, D(2023, 9, 13), 100.0),
    "UVXY  170915P00027000": ("option", "UVXY", "ETP", "P", 27.0, D(2017, 9, 15), 100.0),
    ".SPXW231215P4300": ("option", "SPXW", "SPXW", "P", 4300.0, D(2023, 12, 15), 100.0),
    "UVXY170915P27": ("option", "UVXY", "ETP", "P", 27.0, D(2017, 9, 15), 100.0),
    ".VXX150320C37.5": ("option", "VXX", "ETP", "C", 37.5, D(2015, 3, 20), 100.0),
    "HAL   251128P00021000": ("option", "HAL", "", "P", 21.0, D(2025, 11, 28), 100.0),
    "/VXZ6": ("future", "VX", "VX", "", None, D(2026, 12, 16), 1000.0),
    "VXZ26": ("future", "VX", "VX", "", None, D(2026, 12, 16), 1000.0),
    "VXZ6": ("future", "VX", "VX", "", None, D(2026, 12, 16), 1000.0),
    "VXMZ6": ("future", "VXM", "VXM", "", None, D(2026, 12, 16), 100.0),
    "VX/K7": ("future", "VX", "VX", "", None, D(2027, 5, 18), 1000.0),
    "VX40/V6": ("future", "VX", "VX", "", None, D(2026, 10, 7), 1000.0),
    "VX45/X6": ("future", "VX", "VX", "", None, D(2026, 11, 11), 1000.0),
    "/ESZ6": ("future", "ES", "ES", "", None, D(2026, 12, 18), 50.0),
    "MESH27": ("future", "MES", "MES", "", None, D(2027, 3, 19), 5.0),
    "/CLZ6": ("future", "CL", "", "", None, None, None),
    "./MESU4 MESU4 240920P5050": ("future_option", "MESU4", "", "P", 5050.0, D(2024, 9, 20),
                                  5.0),
    "./MESU4MESU4 240920P5100": ("future_option", "MESU4", "", "P", 5100.0, D(2024, 9, 20),
                                 5.0),
}


@pytest.mark.parametrize("text", EXAMPLES)
def test_documented_forms(text):
    sym = parse_symbol(text, as_of=AS_OF)
    got = (sym.kind, sym.root, sym.instrument, sym.cp, sym.strike, sym.expiry, sym.multiplier)
    assert got == EXAMPLES[text], f"{text!r}: expected {EXAMPLES[text]}, got {got}"


def test_one_digit_years_read_in_the_ten_years_from_the_year_before_as_of():
    assert parse_symbol("VXZ5", as_of=AS_OF).contract_month == (2025, 12)
    assert parse_symbol("VXZ4", as_of=AS_OF).contract_month == (2034, 12)
    assert parse_symbol("./MESU4 MESU4 240920P5050").contract_month == (2024, 9)


def test_bare_roots_and_tickers_need_a_kind():
    assert parse_symbol("VX", kind="future").expiry is None
    assert parse_symbol("VXX", kind="stock").instrument == "ETP"
    assert parse_symbol("AAPL", kind="stock").instrument == ""
    with pytest.raises(InputError, match='"VX".*stock or a future'):
        parse_symbol("VX")


def test_weekly_flags():
    assert parse_symbol("VIXW  230913C00015000").is_weekly
    assert not parse_symbol("VIX   230920C00015000").is_weekly
    assert parse_symbol("SPXW  231213P04300000").is_weekly
    assert not parse_symbol("SPXW  231215P04300000").is_weekly     # PM on the monthly date


@pytest.mark.parametrize(("text", "match"), [
    ("", "blank"),
    ("SPXW  231315P04300000", "2023-13-15 is not a date"),
    ("ESV6", "quarterly months"),
    ("VX60/V6", "week number 60"),
    ("VX44/V6", "falls in NOV, not in month V"),
    ("SPXW 2312P4300", "is not an OCC option symbol"),
    ("./MES 240920P5050", "not like './MESU4 MESU4 240920P5050'"),
])
def test_errors_name_the_symbol_and_what_was_expected(text, match):
    with pytest.raises(InputError, match=match):
        parse_symbol(text, as_of=AS_OF)


TOS_LEGS = [
    ("VXX", "100 MAR 15 37 CALL", "VXX", D(2015, 3, 20), 37.0, "C"),
    ("AAPL", "100 MAR 15 115 CALL", "AAPL", D(2015, 3, 20), 115.0, "C"),
    ("EBAY", "100 MAR 15 57.5 CALL", "EBAY", D(2015, 3, 20), 57.5, "C"),
    ("SPX", "100 (Weeklys) 27 FEB 15 2100 PUT", "SPXW", D(2015, 2, 27), 2100.0, "P"),
    ("SPX", "100 MAR 15 2000 PUT", "SPX", D(2015, 3, 20), 2000.0, "P"),
    ("VIX", "100 SEP 23 20 CALL", "VIX", D(2023, 9, 20), 20.0, "C"),
    ("VIX", "100 (Weeklys) 13 SEP 23 20 CALL", "VIXW", D(2023, 9, 13), 20.0, "C"),
    ("$SPX.X", "100 APR 22 4000 PUT", "SPX", D(2022, 4, 14), 4000.0, "P"),   # Good Friday
    # untagged, but printed with a day that is not the monthly's: that day's weekly
    ("SPY", "100 18 JAN 22 477 PUT", "SPY", D(2022, 1, 18), 477.0, "P"),
    ("SPX", "100 18 JAN 22 4700 PUT", "SPXW", D(2022, 1, 18), 4700.0, "P"),
    ("SPX", "100 21 JAN 22 4700 PUT", "SPX", D(2022, 1, 21), 4700.0, "P"),   # the monthly
]


@pytest.mark.parametrize(("group", "text", "root", "expiry", "strike", "cp"), TOS_LEGS)
def test_thinkorswim_leg_texts(group, text, root, expiry, strike, cp):
    sym = parse_tos_description(text, group)
    assert (sym.root, sym.expiry, sym.strike, sym.cp, sym.multiplier) == \
        (root, expiry, strike, cp, 100.0), (group, text, sym)


def test_thinkorswim_leg_errors():
    with pytest.raises(InputError, match=r"series \(MINI\) is not one of"):
        parse_tos_description("100 (Mini) 27 FEB 15 115 CALL", "SPX")
    with pytest.raises(InputError, match="needs the day"):
        parse_tos_description("100 (Weeklys) FEB 15 115 CALL", "SPX")
    with pytest.raises(InputError, match="not like"):
        parse_tos_description("100 MAR 15 CALL", "SPX")


# ----------------------------------------------------------------------------- round trips

dates = st.dates(D(2001, 1, 1), D(2098, 12, 31))
strikes = st.integers(1, 99_999_999).map(lambda m: m / 1000.0)
cps = st.sampled_from("CP")
any_root = st.sampled_from(["SPX", "SPXW", "XSP", "VIX", "VIXW", *ETP_TICKERS, "HAL", "B",
                            "BRKB", "SPY"])


@settings(max_examples=300, deadline=None)
@given(root=any_root, expiry=dates, cp=cps, strike=strikes, padded=st.booleans())
def test_occ_round_trip(root, expiry, cp, strike, padded):
    sym = parse_symbol(f"{root:<6}{expiry:%y%m%d}{cp}{round(strike * 1000):08d}")
    assert (sym.root, sym.expiry, sym.cp, sym.strike) == (root, expiry, cp, strike)
    text = format_occ(sym, padded=padded)
    assert len(text) == (21 if padded else 15 + len(root))
    assert parse_symbol(text) == sym, text
    assert parse_symbol(format_tos_code(sym)) == sym, format_tos_code(sym)


def _standard(root: str, day: D) -> D:
    return (vx_expiry if root in ("VIX", "VIXW") else spx_monthly_expiry)(day.year, day.month)


@st.composite
def tos_options(draw):
    root = draw(st.sampled_from(["SPX", "SPXW", "VIX", "VIXW", *ETP_TICKERS]))
    day = draw(dates)
    if root in ("SPX", "VIX"):
        day = _standard(root, day)                  # these roots list only the monthly
    elif root == "VIXW" and day == _standard(root, day):
        day += dt.timedelta(days=7)                 # VIXW: never the monthly date
    return root, day, draw(cps), draw(strikes)


@settings(max_examples=300, deadline=None)
@given(tos_options())
def test_thinkorswim_leg_round_trip(option):
    root, day, cp, strike = option
    sym = parse_symbol(f"{root:<6}{day:%y%m%d}{cp}{round(strike * 1000):08d}")
    group, text = format_tos_description(sym)
    assert parse_tos_description(text, group) == sym, (group, text)


@settings(max_examples=300, deadline=None)
@given(root=st.sampled_from(["VX", "VXM", "ES", "MES"]), year=st.integers(2001, 2098),
       month=st.integers(1, 12), style=st.sampled_from(["slash", "two_digit", "one_digit",
                                                        "cfe"]))
def test_future_round_trip(root, year, month, style):
    if root in ("ES", "MES"):
        month = 3 * ((month + 2) // 3)
    sym = parse_symbol(f"{root}{MONTH_CODES[month - 1]}{year % 100:02d}")
    assert sym.contract_month == (year, month)
    as_of = D(year, 1, 1)                           # inside the one-digit window
    assert parse_symbol(format_future(sym, style), as_of=as_of) == sym, format_future(sym, style)


@settings(max_examples=200, deadline=None)
@given(year=st.integers(2001, 2098), week=st.integers(1, 52))
def test_weekly_vx_round_trip(year, week):
    expiry = vx_weekly_expiry(year, week)
    text = f"VX{week:02d}/{MONTH_CODES[expiry.month - 1]}{year % 10}"
    sym = parse_symbol(text, as_of=D(year, 6, 1))
    assert (sym.expiry, sym.week, sym.contract_month) == (expiry, week, (year, expiry.month))
    assert format_future(sym, "cfe") == text
