"""Marks from Cboe chains: prices equal the chain's own mids (read here with the csv module),
IVs are the strike's out-of-the-money vol (repriced with QuantLib), legs without a usable quote
or with a market too wide are listed with the reason."""

import csv
import datetime as dt
import math
import subprocess
import sys

import pytest
import QuantLib as ql
from conftest import DATA, ROOT

from alvh_xl.book import parse_positions
from alvh_xl.book.cboe import read_cboe_chain
from alvh_xl.book.marks import mark_positions
from alvh_xl.errors import InputError

SPX = DATA / "spx_quotedata_2025-10-01_exp2026-04-17_cboe.csv"
CBOE = DATA / "cboe"
VIX = CBOE / "vix_options_processed_commit2023-09-04_4expiries_from_cboe.csv"
JAN = CBOE / "spx_quotedata_2025-01-06_jan2025_expiries_cboe.csv"
HEADER = ["Layer", "Instrument", "Type", "Strike", "Expiry", "Qty", "IV", "Price"]


def _raw(path):
    """symbol -> (bid, ask) read with the csv module, columns by the header's names."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    head = next(i for i, r in enumerate(rows) if "Strike" in r)
    h = [c.replace("Calls ", "").replace("Puts ", "") for c in rows[head]]
    puts = h.index("Puts")
    out = {}
    for r in rows[head + 1:]:
        if any(r):
            out[r[h.index("Calls")]] = (float(r[h.index("Bid")]), float(r[h.index("Ask")]))
            out[r[puts]] = (float(r[h.index("Bid", puts)]), float(r[h.index("Ask", puts)]))
    return out


def _book(*legs):
    return parse_positions([HEADER, *[["Core", *leg, -1, None, 1.0] for leg in legs]])


def _black(kind, fwd, strike, t, vol, disc):
    option = ql.Option.Call if kind == "C" else ql.Option.Put
    return ql.blackFormula(option, strike, fwd, vol * math.sqrt(t), disc)


def _t(chain, expiry_time):
    return (expiry_time - chain.quote_time).total_seconds() / (365 * 86400)


def test_spx_marks_are_the_mids_and_the_out_of_the_money_vol():
    legs = [("SPX", kind, strike, "2026-04-17")
            for strike in (5000, 6000, 6500, 6800, 6850, 7200, 7600) for kind in "CP"]
    chain = read_cboe_chain(SPX)
    marks = mark_positions(_book(*legs), [chain])
    raw = _raw(SPX)
    assert marks.spot == 6711.2002 and not marks.unquoted and not marks.too_wide
    assert len(marks.legs) == len(legs)
    (fwd_row,) = marks.forwards.itertuples(index=False)
    t = _t(chain, dt.datetime(2026, 4, 17, 13, 30, tzinfo=dt.timezone.utc))   # 09:30 EDT
    for leg in marks.legs.itertuples(index=False):
        bid, ask = raw[leg.symbol]
        assert leg.price == (bid + ask) / 2, f"row {leg.row}: mid {(bid + ask) / 2}, got " \
            f"{leg.price}"
        otm = "P" if leg.strike < fwd_row.forward else "C"
        assert leg.iv_from == otm
        otm_symbol = leg.symbol[:-9] + otm + leg.symbol[-8:]
        otm_mid = sum(raw[otm_symbol]) / 2
        price = _black(otm, fwd_row.forward, leg.strike, t, leg.iv, fwd_row.discount)
        assert price == pytest.approx(otm_mid, rel=1e-9), \
            f"row {leg.row}: IV {leg.iv} reprices the OTM {otm} at {price}, mid {otm_mid}"
        assert leg.width < 2.0
    by_strike = marks.legs.groupby("strike")["iv"].nunique()
    assert (by_strike == 1).all()                             # call and put share the vol
    assert marks.legs["row"].tolist() == list(range(2, 2 + len(legs)))


def test_legs_without_a_usable_quote_are_listed_with_the_reason():
    book = _book(("SPX", "C", 6812.5, "2026-04-17"),       # strike not listed
                 ("SPX", "P", 6000, "2026-05-15"),         # expiry not in the chain
                 ("SPX", "C", 1200, "2026-04-17"),         # bid 5498.5: two-sided, deep ITM
                 ("SPXW", "P", 6000, "2025-01-06"),        # expired at the quote time
                 ("SPXW", "P", 1400, "2025-01-31"),        # bid 0: one-sided
                 ("VIX", "C", 20, "2023-09-20"))           # no VIX chain given
    chains = [read_cboe_chain(SPX), read_cboe_chain(JAN)]
    marks = mark_positions(book, chains)
    why = dict(marks.unquoted)
    assert set(why) == {2, 3, 5, 6, 7}, marks.unquoted
    assert "strike not listed" in why[2]
    assert "no SPX/SPXW series expiring 2026-05-15" in why[3]
    assert "expired at the quote time" in why[5]
    assert "no two-sided quote (bid 0" in why[6]
    assert "no VIX/VIXW series expiring 2023-09-20" in why[7]
    assert marks.legs["row"].tolist() == [4]
    # the latest-quoted SPX chain gives the spot; the two chains were quoted months apart
    assert marks.spot == 6711.2002 and any("different times" in n for n in marks.notes)


def test_too_wide_markets_are_listed_not_marked():
    book = _book(("SPX", "P", 6000, "2026-04-17"), ("SPX", "C", 1200, "2026-04-17"))
    marks = mark_positions(book, [read_cboe_chain(SPX)], max_width=0.5)
    assert marks.legs["row"].tolist() == [2]
    ((row, reason),) = marks.too_wide
    assert row == 3 and "vol points wide" in reason and "0.5 allowed" in reason
    with pytest.raises(InputError, match="positive"):
        mark_positions(book, [read_cboe_chain(SPX)], max_width=0)


def test_forwards_table_and_the_am_pm_choice():
    chain = read_cboe_chain(JAN)
    marks = mark_positions(_book(("SPX", "P", 5900, "2025-01-17")), [chain])
    f = marks.forwards
    # 19 expiries, the Jan 06 series expired at the quote time: 18 rows, one per date
    assert len(f) == 18 and f["expiry"].is_unique and dt.date(2025, 1, 6) not in set(f["expiry"])
    jan17 = f[f["expiry"] == dt.date(2025, 1, 17)].iloc[0]
    assert (jan17["root"], jan17["settlement"]) == ("SPX", "AM")
    assert any("2025-01-17: SPX (AM) forward" in n for n in marks.notes)
    # each forward and discount satisfy parity on the raw quotes near the money (within spreads)
    raw = _raw(JAN)
    for row in f.itertuples(index=False):
        tag = row.root + row.expiry.strftime("%y%m%d")
        k = round(row.forward / 5) * 5
        call, put = raw[f"{tag}C{int(k * 1000):08d}"], raw[f"{tag}P{int(k * 1000):08d}"]
        gap = (sum(call) - sum(put)) / 2 - row.discount * (row.forward - k)
        half = (call[1] - call[0] + put[1] - put[0]) / 2
        assert abs(gap) <= half, f"{row.expiry} K={k}: parity gap {gap:.3f} > {half:.3f}"
        assert 0.95 < row.discount <= 1.0 + 1e-3


def test_spx_leg_on_a_weekly_date_is_marked_from_spxw_with_a_note():
    marks = mark_positions(_book(("SPX", "P", 5900, "2025-01-10")), [read_cboe_chain(JAN)])
    assert marks.legs["root"].tolist() == ["SPXW"]
    assert any("marked from the SPXW series (PM-settled)" in n for n in marks.notes)


def test_vix_options_on_their_own_parity_forward():
    chain = read_cboe_chain(VIX, quote_time=dt.datetime(2023, 9, 4, 12, 0))
    book = _book(("VIX", "C", 15, "2023-09-20"), ("VIX", "P", 14, "2023-09-20"),
                 ("VIX", "C", 16, "2023-09-13"))
    marks = mark_positions(book, [chain])
    assert math.isnan(marks.spot) and marks.forwards.empty
    assert any("no SPX chain" in n for n in marks.notes)
    assert any(n.startswith("VIXW 2023-09-27: the parity fit gives discount 1.00")
               for n in marks.notes)                       # noisy weekly quotes, said so
    raw = _raw(VIX)
    legs = marks.legs.set_index("row")
    assert set(legs.index) | {r for r, _ in marks.too_wide} == {2, 3, 4}
    for leg in legs.itertuples():
        assert leg.price == sum(raw[leg.symbol]) / 2
        assert leg.root == ("VIX" if leg.expiry == dt.date(2023, 9, 20) else "VIXW")
    # the forward is the VIX future of that expiry implied by parity: C − P = D·(F − K) holds
    # at the money within the quotes' spreads (D between 0.99 and 1.01 for 2 weeks)
    fwd = legs.loc[2, "forward"]
    call, put = raw["VIX230920C00015000"], raw["VIX230920P00015000"]
    assert abs((sum(call) - sum(put)) / 2 - (fwd - 15)) <= \
        0.01 * 15 + (call[1] - call[0] + put[1] - put[0]) / 2
    narrow = mark_positions(book, [chain], max_width_vix=0.5)
    assert narrow.legs.empty and {r for r, _ in narrow.too_wide} == {2, 3, 4}


def test_cli_mark_bad_paths_exit_2(tmp_path):
    exe = [sys.executable, "-m", "alvh_xl.cli", "mark"]
    book = tmp_path / "book.xlsx"
    book.write_bytes(b"not opened before the paths are checked")
    cases = [(tmp_path / "none.xlsx", SPX, tmp_path / "out.xlsx"),
             (book, tmp_path / "none.csv", tmp_path / "out.xlsx"),
             (book, SPX, book),
             (book, SPX, tmp_path / "missing" / "out.xlsx")]
    for workbook, chain, out in cases:
        done = subprocess.run([*exe, str(workbook), "--chain", str(chain), "--out", str(out)],
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, (workbook, done.stderr)
    assert book.read_bytes() == b"not opened before the paths are checked"


XSP_OCT23 = CBOE / "xsp_quotedata_2023-09-14_exp2023-10-20_trimmed_cboe.csv"
SPX_OCT23 = CBOE / "spx_quotedata_2023-09-14_exp2023-10-20_trimmed_cboe.csv"


def test_marked_vols_reprice_the_mids_on_the_forward_the_engine_uses():
    """The forwards table keeps one row per date: on 2023-10-20 the SPX (AM) series. SPXW and
    XSP legs of that date are valued on that forward (XSP: ÷ 10) and discount (SPEC §4), so
    their marked vol must reprice their mid there — on XSP's own parity forward 453.0168 (vs
    453.0136) and discount 0.99173 (vs 0.99418) the 460 call marked at 2.76 was valued 2.7658.
    t runs from each chain's quote time (SPX 16:31, XSP 16:30) to the leg's settlement."""
    legs = [("XSP", "C", 460, "2023-10-20"), ("XSP", "P", 430, "2023-10-20"),
            ("SPXW", "C", 4600, "2023-10-20"), ("SPXW", "P", 4300, "2023-10-20"),
            ("SPX", "P", 4300, "2023-10-20")]
    marks = mark_positions(_book(*legs), [read_cboe_chain(SPX_OCT23),
                                          read_cboe_chain(XSP_OCT23)])
    (row,) = marks.forwards.itertuples(index=False)
    assert (row.expiry, row.root) == (dt.date(2023, 10, 20), "SPX")
    raw = {**_raw(SPX_OCT23), **_raw(XSP_OCT23)}
    assert len(marks.legs) == 5 and not marks.unquoted and not marks.too_wide
    for leg in marks.legs.itertuples(index=False):
        quoted = 16 + (30 if leg.instrument == "XSP" else 31) / 60
        settle = 9.5 if leg.instrument == "SPX" else 16.0
        t = (36 + (settle - quoted) / 24) / 365               # Thu Sep 14 → Fri Oct 20 2023
        scale = 0.1 if leg.instrument == "XSP" else 1.0
        otm = leg.symbol[:-9] + leg.iv_from + leg.symbol[-8:]
        mid = sum(raw[otm]) / 2
        price = _black(leg.iv_from, row.forward * scale, leg.strike, t, leg.iv, row.discount)
        assert leg.price == sum(raw[leg.symbol]) / 2
        assert abs(price - mid) < 1e-8, \
            f"{leg.symbol}: Black-76 at IV {leg.iv} on F {row.forward * scale}, D " \
            f"{row.discount}, t {t}: {price}; {otm} mid {mid} (tolerance 1e-8)"
