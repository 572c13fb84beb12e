"""Every Cboe chain layout in tests/data/cboe/ reads; columns by header name; quote times.

Expected counts, levels and times are the ones stated in tests/data/README.md (taken from the
files by hand) or counted here from the raw CSV with the csv module, not by the reader.
"""

import csv
import datetime as dt
import io
import random

import numpy as np
import pandas as pd
import pytest
from conftest import DATA

from alvh_xl.book.cboe import read_cboe_chain
from alvh_xl.book.quote_time import parse_quote_time, parse_user_quote_time
from alvh_xl.errors import InputError, MissingInputError

CBOE = DATA / "cboe"
UTC = dt.timezone.utc
VIX_FILE = CBOE / "vix_options_processed_commit2023-09-04_4expiries_from_cboe.csv"

# file, spot, quote time (UTC), expiries, option rows (one call + one put per row), roots
SAMPLES = [
    ("spx_quotedata_2025-01-06_exp2025-01-07_20strikes_cboe.csv", 5975.3799,
     dt.datetime(2025, 1, 7, 1, 57, tzinfo=UTC), 1, 20, {"SPXW": 20}),
    ("spx_quotedata_2025-01-06_jan2025_expiries_cboe.csv", 5975.3799,
     dt.datetime(2025, 1, 7, 2, 26, tzinfo=UTC), 19, 4242, {"SPXW": 3809, "SPX": 433}),
    ("spx_quotedata_2024-11-11_spanish_date_line_cboe.csv", 5995.54,
     dt.datetime(2024, 11, 11, 13, 2, tzinfo=UTC), 14, 280, {"SPXW": 270, "SPX": 10}),
    ("spx_quotedata_2023-12-09_russian_date_line_cboe.csv", 4604.3701,
     dt.datetime(2023, 12, 9, 18, 49, tzinfo=UTC), 15, 3115, None),
    ("spx_quotedata_2022-01-09_excel_resaved_crlf_cboe.csv", 4677.0298,
     dt.datetime(2022, 1, 9, 8, 11, tzinfo=UTC), 10, 2757, {"SPXW": 2757}),
    ("spx_quotedata_2024-02-13_no_greeks_trimmed_cboe.csv", 5021.8398,
     dt.datetime(2024, 2, 13, 11, 40, tzinfo=UTC), 5, 1497, None),
    ("spx_quotedata_legacy_dat_2020-03-20_exp0417_0424_cboe.dat", 2304.92,
     dt.datetime(2020, 3, 22, 22, 24, tzinfo=UTC), 2, 1096, None),
    # date line without quotes, split by its comma: Date: 9 June 2023,| 10:18 PM EDT,Bid: …
    ("spx_quotedata_2023-06-09_unquoted_date_line_with_comma_cboe.csv", 4298.8599,
     dt.datetime(2023, 6, 10, 2, 18, tzinfo=UTC), 15, 90, {"SPXW": 87, "SPX": 3}),
    ("spx_quotedata_2023-04-17_unquoted_date_line_utc_minus4_trimmed_cboe.csv", 4151.3198,
     dt.datetime(2023, 4, 18, 2, 53, tzinfo=UTC), 2, 290, {"SPXW": 290}),
]


def _raw_rows(path):
    """Data rows of a chain file by the csv module: rows whose 2nd cell is an option symbol."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [r for r in csv.reader(fh) if len(r) > 1 and r[1][:3] in ("SPX", "VIX", "XSP")]


@pytest.mark.parametrize("name, spot, when, expiries, rows, roots", SAMPLES,
                         ids=[s[0][:40] for s in SAMPLES])
def test_each_cboe_variant_reads(name, spot, when, expiries, rows, roots):
    chain = read_cboe_chain(CBOE / name)
    q = chain.quotes
    got = (chain.spot, chain.quote_time, q["expiry"].nunique(), len(q))
    want = (spot, when, expiries, 2 * rows)
    assert got == want, f"{name}: expected (spot, time, expiries, options) {want}, got {got}"
    assert len(_raw_rows(CBOE / name)) == rows
    assert chain.quote_time.tzinfo is not None and chain.quote_time_from == "file"
    if roots:
        assert (q[q["type"] == "C"]["root"].value_counts().to_dict()) == roots
    assert set(q["type"]) == {"C", "P"}
    assert q["strike"].gt(0).all() and q["bid"].notna().all() and q["ask"].notna().all()


def test_values_match_the_raw_line_by_header_name():
    """Every call/put Bid, Ask, IV, Delta of the Spanish file equals its raw cell, located by
    the header's own names; symbols and strikes too."""
    path = CBOE / "spx_quotedata_2024-11-11_spanish_date_line_cboe.csv"
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    head = next(i for i, r in enumerate(rows) if r and r[0] == "Expiration Date")
    header = rows[head]
    puts_at = header.index("Puts")
    body = [r for r in rows[head + 1:] if any(r)]
    q = read_cboe_chain(path).quotes.set_index("symbol")
    for r in body:
        for side, sym_col, offset in (("C", header.index("Calls"), 0), ("P", puts_at, puts_at)):
            got = q.loc[r[sym_col]]
            for field, col in (("bid", "Bid"), ("ask", "Ask"), ("delta", "Delta")):
                j = header.index(col, offset)
                assert got[field] == float(r[j]), (r[sym_col], field, r[j], got[field])
            assert got["type"] == side and got["strike"] == float(r[header.index("Strike")])


def test_missing_greek_columns_give_nan_and_a_note():
    chain = read_cboe_chain(CBOE / "spx_quotedata_2024-02-13_no_greeks_trimmed_cboe.csv")
    assert chain.quotes[["iv", "delta", "gamma"]].isna().all().all()
    assert any("no IV/DELTA/GAMMA columns" in n for n in chain.notes)
    # strikes typed without ".00" and trailing commas on the preamble lines
    assert set(chain.quotes["strike"]) >= {1200.0, 5000.0}


def test_legacy_dat_layout():
    chain = read_cboe_chain(CBOE / "spx_quotedata_legacy_dat_2020-03-20_exp0417_0424_cboe.dat")
    assert chain.layout == "legacy-dat" and chain.underlying == "Standard & Poors 500 Index"
    q = chain.quotes
    am = q[(q["root"] == "SPX")]
    assert set(am["expiry"]) == {dt.date(2020, 4, 17)} and (am["settlement"] == "AM").all()
    assert set(q[q["root"] == "SPXW"]["settlement"]) == {"PM"}
    put = q[(q["symbol"] == "SPX200417P00100000")].iloc[0]
    assert (put["strike"], put["bid"], put["ask"], put["iv"]) == (100.0, 0.0, 0.1, 3.501)
    assert any("weekend" in n for n in chain.notes)        # Sunday download of Friday's close


def test_reformatted_vix_chain_needs_a_quote_time():
    with pytest.raises(MissingInputError, match="--quote-time"):
        read_cboe_chain(VIX_FILE)
    chain = read_cboe_chain(VIX_FILE, quote_time=dt.datetime(2023, 9, 1, 16, 15))
    assert chain.quote_time == dt.datetime(2023, 9, 1, 20, 15, tzinfo=UTC)
    assert chain.quote_time_from == "caller" and np.isnan(chain.spot)
    q = chain.quotes
    assert len(q) == 2 * 208 and len(_raw_rows(VIX_FILE)) == 208
    by_expiry = q.groupby("expiry")["root"].first().to_dict()
    assert by_expiry == {dt.date(2023, 9, 6): "VIXW", dt.date(2023, 9, 13): "VIXW",
                         dt.date(2023, 9, 20): "VIX", dt.date(2023, 9, 27): "VIXW"}
    assert (q["settlement"] == "AM").all()
    assert (q["expiry_time"].map(lambda t: (t.hour, t.minute)) == (9, 30)).all()


def _permuted(path, seed, keep_blocks):
    """The file with its columns shuffled (within the Calls and Puts blocks if keep_blocks)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    head = next(i for i, r in enumerate(rows) if r and r[0] == "Expiration Date")
    width = len(rows[head])
    rng = random.Random(seed)
    if keep_blocks:
        calls, puts = rows[head].index("Calls"), rows[head].index("Puts")
        strike = rows[head].index("Strike")
        call_fields = [j for j in range(calls + 1, width) if j < strike]
        put_fields = list(range(puts + 1, width))
        rng.shuffle(call_fields)
        rng.shuffle(put_fields)
        order = [0, strike, calls, *call_fields, puts, *put_fields]
    else:
        order = list(range(width))
        rng.shuffle(order)
    out = io.StringIO()
    writer = csv.writer(out)
    for i, r in enumerate(rows):
        writer.writerow([r[j] if j < len(r) else "" for j in order] if i >= head else r)
    out.seek(0)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_columns_are_found_by_header_name_not_position(seed):
    when = dt.datetime(2023, 9, 1, 16, 15)
    base = read_cboe_chain(VIX_FILE, quote_time=when).quotes.drop(columns="line")
    shuffled = read_cboe_chain(_permuted(VIX_FILE, seed, keep_blocks=False),
                               quote_time=when).quotes.drop(columns="line")
    pd.testing.assert_frame_equal(base, shuffled)
    spx = CBOE / "spx_quotedata_2025-01-06_exp2025-01-07_20strikes_cboe.csv"
    base = read_cboe_chain(spx).quotes.drop(columns="line")
    moved = read_cboe_chain(_permuted(spx, seed, keep_blocks=True)).quotes.drop(columns="line")
    pd.testing.assert_frame_equal(base, moved)


_SIDE = "Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest"
_TINY = "\n".join([
    "",
    "S&P 500 INDEX,Last: 6000.50,Change: 1.0",
    '"Date: January 5, 2026 at 10:15 AM EST",Bid: 6000,Ask: 6001,Size: 1*1,Volume: 0',
    f"Expiration Date,Calls,{_SIDE},Strike,Puts,{_SIDE}",
    "Fri Mar 20 2026,SPXW260320C06000000,1,0,150,151,0,0.15,0.52,0.001,3,6000.00,"
    "SPXW260320P06000000,1,0,130,131,0,0.16,-0.48,0.001,4",
    "Fri Mar 20 2026,SPX260320C06000000,1,0,150.5,151.5,0,0.15,0.52,0.001,3,6000.00,"
    "SPX260320P06000000,1,0,130.5,131.5,0,0.16,-0.48,0.001,4",
    "",
])


def test_settlement_by_root_and_dst():
    chain = read_cboe_chain(io.StringIO(_TINY))
    q = chain.quotes
    pm, am = q[q["root"] == "SPXW"], q[q["root"] == "SPX"]
    assert (pm["settlement"] == "PM").all() and (am["settlement"] == "AM").all()
    assert pm["expiry_time"].iloc[0] == dt.datetime(2026, 3, 20, 20, 0, tzinfo=UTC)
    assert am["expiry_time"].iloc[0] == dt.datetime(2026, 3, 20, 13, 30, tzinfo=UTC)


@pytest.mark.parametrize("change, message", [
    (("Fri Mar 20 2026,SPX2", "20.03.2026,SPX2"), "not like 'Fri Apr 17 2026'"),
    (("Fri Mar 20 2026,SPX2", "Thu Mar 20 2026,SPX2"), "not like 'Fri Apr 17 2026'"),
    (("SPX260320C06000000", "SPX260327C06000000"), "does not match its row"),
    (("SPX260320C06000000", "NDX260320C06000000"), "no known settlement time"),
    (("1,0,150.5,151.5", "1,0,150,5,151.5"), "cells, the header has"),
    (("1,0,150.5,151.5", "1,0,15O.5,151.5"), 'expected a number, got "15O.5"'),
    (("January 5, 2026 at 10:15 AM EST", "January 5, 2026 at 10:15 AM"), "no time zone"),
    ((",Bid,Ask,Volume,IV", ",Bid,Bid,Volume,IV"), "repeats column"),
    (("Calls,Last Sale,Net,Bid,Ask", "Calls,Last Sale,Net,Offer,Ask"), "no column for C:bid"),
])
def test_errors_name_the_line_and_what_was_expected(change, message):
    text = _TINY.replace(*change, 1)
    assert text != _TINY
    with pytest.raises(InputError, match=message):
        read_cboe_chain(io.StringIO(text))


def test_missing_file_and_header():
    with pytest.raises(InputError, match="cannot read"):
        read_cboe_chain(CBOE / "missing.csv")
    with pytest.raises(MissingInputError, match="header line"):
        read_cboe_chain(io.StringIO("a,b\n1,2\n"))


@pytest.mark.parametrize("text, utc", [
    ("Date: October 1, 2025 at 6:01 PM EDT", dt.datetime(2025, 10, 1, 22, 1)),
    ("Date: January 9, 2022, 3:11 AM EST", dt.datetime(2022, 1, 9, 8, 11)),
    ("Date: 11 de noviembre de 2024, 8:02 GMT-5", dt.datetime(2024, 11, 11, 13, 2)),
    ("Date: 9 декабря 2023 г. в 13:49 GMT-5", dt.datetime(2023, 12, 9, 18, 49)),
    ("Mar 22 2020 @ 18:24 ET", dt.datetime(2020, 3, 22, 22, 24)),          # EDT on that date
    ("Jan 22 2020 @ 18:24 ET", dt.datetime(2020, 1, 22, 23, 24)),          # EST on that date
    ("1 oct. 2025 à 18:01 UTC\u22124", dt.datetime(2025, 10, 1, 22, 1)),
    ("1. Oktober 2025 um 18:01 GMT+02:00", dt.datetime(2025, 10, 1, 16, 1)),
    ("Date: 5 de janeiro de 2026 10:15 p. m. EST", dt.datetime(2026, 1, 6, 3, 15)),
    # date lines of real downloads (AyourElwazani97/gamma, Luca-Castelli/Index-Gamma,
    # carlosjimenezdiaz/GEX_Python)
    ("Date: 8 June 2023 7:56 PM EDT", dt.datetime(2023, 6, 8, 23, 56)),
    ("Date: February 5 2022, 8:09 PM EST", dt.datetime(2022, 2, 6, 1, 9)),
    ("Date: 23 de marzo de 2022, 10:11 GMT-4", dt.datetime(2022, 3, 23, 14, 11)),
])
def test_quote_time_in_any_language_and_zone(text, utc):
    got = parse_quote_time(text)
    assert got == utc.replace(tzinfo=UTC), f"{text!r}: expected {utc} UTC, got {got}"
    assert got.tzinfo is not None and str(got.tzinfo) == "America/New_York"


@pytest.mark.parametrize("text", ["Date: October 2025 at 6:01 PM EDT", "Date: 1 Foo 2025 6:01 EST",
                                  "Date: October 1, 2025 at 13:01 PM EDT",
                                  "Date: February 30, 2025 at 6:01 PM EST"])
def test_quote_time_refuses_what_it_cannot_read(text):
    with pytest.raises(InputError):
        parse_quote_time(text)


def test_user_quote_time_overrides_with_a_note():
    assert parse_user_quote_time("2023-09-01 16:15") == \
        dt.datetime(2023, 9, 1, 20, 15, tzinfo=UTC)
    assert parse_user_quote_time("2023-09-01T16:15-05:00") == \
        dt.datetime(2023, 9, 1, 21, 15, tzinfo=UTC)
    with pytest.raises(InputError, match="YYYY-MM-DD HH:MM"):
        parse_user_quote_time("1/9/2023 4pm")
    path = CBOE / "spx_quotedata_2025-01-06_exp2025-01-07_20strikes_cboe.csv"
    chain = read_cboe_chain(path, quote_time=dt.datetime(2025, 1, 6, 16, 0))
    assert chain.quote_time == dt.datetime(2025, 1, 6, 21, 0, tzinfo=UTC)
    assert chain.quote_time_from == "caller"
    assert any("not the file's 2025-01-06 20:57" in n for n in chain.notes)
