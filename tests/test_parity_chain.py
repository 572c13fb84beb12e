"""Put–call parity fit and `alvh-xl chain` (one OTM vol per strike) against independent
references: a numpy least-squares parity fit, QuantLib's Black formula, Cboe's own IVs."""

import argparse
import csv
import datetime as dt
import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import QuantLib as ql
from conftest import DATA, ROOT

from alvh_xl.book.cboe import read_cboe_chain
from alvh_xl.book.chain_vols import analyse_chain
from alvh_xl.commands import chain as chain_cmd
from alvh_xl.errors import NoSolutionError
from alvh_xl.pricing import implied_forward

SAMPLE = DATA / "spx_quotedata_2025-10-01_exp2026-04-17_cboe.csv"


# --- parity fit on synthetic quotes ------------------------------------------------------

def _synthetic(fwd=5012.37, disc=0.9731, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    k = np.arange(4000.0, 6000.0, 25.0)
    y = disc * (fwd - k) + rng.normal(0.0, noise, k.size)
    return k, y


def test_parity_recovers_forward_and_discount_with_noise():
    k, y = _synthetic()
    fit = implied_forward(k, y, np.zeros_like(y))
    assert abs(fit.forward - 5012.37) < 0.05
    assert abs(fit.discount - 0.9731) < 2e-4
    assert fit.strikes.size == 10
    assert np.all(np.abs(fit.strikes - 5012.37) <= 150)      # the nearest strikes were used


def test_parity_ignores_outliers_and_one_sided_strikes():
    k, y = _synthetic(noise=0.02, seed=1)
    near = np.argsort(np.abs(k - 5012.37))[:12]
    y_bad = y.copy()
    y_bad[near[[1, 4]]] += [6.0, -9.0]                          # stale quotes at the money
    two_sided = np.ones(k.size, dtype=bool)
    two_sided[near[0]] = False                                   # no bid on one side
    y_bad[near[0]] += 40.0
    fit = implied_forward(k, y_bad, np.zeros_like(y), two_sided)
    assert abs(fit.forward - 5012.37) < 0.05
    assert abs(fit.discount - 0.9731) < 2e-4
    for dropped in k[near[[0, 1, 4]]]:
        assert dropped not in fit.strikes
    assert np.abs(fit.residuals).max() < 0.1


def test_parity_needs_two_strikes_and_a_positive_discount():
    with pytest.raises(NoSolutionError, match="at least 2 strikes"):
        implied_forward([100.0, 105.0], [5.0, 3.0], [4.0, np.nan])
    with pytest.raises(NoSolutionError, match="not consistent with parity"):
        implied_forward([100.0, 105.0, 110.0], [1.0, 3.0, 5.0], [0.0, 0.0, 0.0])



# --- the bundled Cboe sample against independent references ------------------------------

def _raw_quotes(path=SAMPLE):
    """strike -> (call bid, call ask, put bid, put ask, call IV, put IV, call Δ, put Δ) read with
    the csv module by header name (the reader under test is not used)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    head = next(i for i, r in enumerate(rows) if r and r[0] == "Expiration Date")
    h = rows[head]
    puts = h.index("Puts")
    col = {f"C {n}": h.index(n) for n in ("Bid", "Ask", "IV", "Delta")}
    col.update({f"P {n}": h.index(n, puts) for n in ("Bid", "Ask", "IV", "Delta")})
    out = {}
    for r in rows[head + 1:]:
        if any(r):
            out[float(r[h.index("Strike")])] = {k: float(r[j]) for k, j in col.items()}
    return out


def _series():
    (s,) = analyse_chain(read_cboe_chain(SAMPLE))
    return s


def _header_cells(path=SAMPLE) -> list[list[str]]:
    """The file's two title lines, read with the csv module."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.reader(fh) if r]
    return rows[:2]


def test_sample_header_lines():
    chain = read_cboe_chain(SAMPLE)
    title = _header_cells()[0]                  # S&P 500 INDEX,Last: 6711.2002,Change: …
    assert chain.underlying == title[0]
    assert chain.spot == float(title[1].removeprefix("Last:").strip())
    assert chain.quote_time == dt.datetime(2025, 10, 1, 22, 1, tzinfo=dt.timezone.utc)
    s = _series()
    assert (s.root, s.settlement) == ("SPX", "AM")
    assert s.expiry_time == dt.datetime(2026, 4, 17, 13, 30, tzinfo=dt.timezone.utc)
    assert s.t == pytest.approx((s.expiry_time - chain.quote_time).total_seconds()
                                / (365 * 86400), rel=1e-15)


def test_forward_and_discount_match_an_independent_least_squares_fit():
    """Reference: ordinary least squares of mid(C) − mid(P) on K (numpy.polyfit) over the 10
    two-sided strikes where |C − P| is smallest; slope −D, intercept D·F."""
    raw = _raw_quotes()
    k = np.array([s for s, v in raw.items() if v["C Bid"] > 0 and v["P Bid"] > 0])
    y = np.array([(raw[s]["C Bid"] + raw[s]["C Ask"] - raw[s]["P Bid"] - raw[s]["P Ask"]) / 2
                  for s in k])
    near = np.argsort(np.abs(y))[:10]
    slope, level = np.polyfit(k[near], y[near], 1)
    ref_d, ref_f = -slope, level / -slope
    s = _series()
    msg = (f"forward {s.forward:.4f} vs least squares {ref_f:.4f} (tol 0.5); discount "
           f"{s.discount:.6f} vs {ref_d:.6f} (tol 5e-4)")
    assert abs(s.forward - ref_f) <= 0.5 and abs(s.discount - ref_d) <= 5e-4, msg
    # and parity holds at that F, D for every two-sided strike within 5 % of F, within the
    # quotes' own bid/ask (half the sum of the two spreads)
    for strike in k[np.abs(k / s.forward - 1) < 0.05]:
        v = raw[strike]
        gap = (v["C Bid"] + v["C Ask"] - v["P Bid"] - v["P Ask"]) / 2 - \
            s.discount * (s.forward - strike)
        half = (v["C Ask"] - v["C Bid"] + v["P Ask"] - v["P Bid"]) / 2
        assert abs(gap) <= half, f"K={strike}: parity gap {gap:.4f} > half spreads {half:.4f}"


def _black(kind, fwd, strike, t, vol, disc):
    """QuantLib's Black formula: the independent price reference."""
    option = ql.Option.Call if kind == "C" else ql.Option.Put
    return ql.blackFormula(option, strike, fwd, vol * math.sqrt(t), disc)


def test_one_vol_per_strike_from_the_out_of_the_money_option():
    s = _series()
    q = s.quotes
    checked = 0
    for strike, pair in q.groupby("strike"):
        calls, puts = pair[pair["type"] == "C"].iloc[0], pair[pair["type"] == "P"].iloc[0]
        assert calls["iv"] == puts["iv"] or (math.isnan(calls["iv"]) and math.isnan(puts["iv"]))
        if math.isnan(calls["iv"]):
            continue
        otm, itm = (calls, puts) if strike >= s.forward else (puts, calls)
        source = otm if otm["two_sided"] else itm
        assert calls["iv_from"] == source["type"]
        price = _black(source["type"], s.forward, strike, s.t, calls["iv"], s.discount)
        assert price == pytest.approx(source["mid"], rel=1e-9, abs=1e-9), \
            f"K={strike}: {source['type']} mid {source['mid']} vs QuantLib {price} at IV " \
            f"{calls['iv']}"
        if itm["two_sided"] and source is otm:
            other = _black(itm["type"], s.forward, strike, s.t, calls["iv"], s.discount)
            half = (itm["ask"] - itm["bid"]) / 2 + (otm["ask"] - otm["bid"]) / 2
            assert abs(other - itm["mid"]) <= half, \
                f"K={strike}: the strike vol prices the ITM {itm['type']} at {other:.4f}, its " \
                f"mid is {itm['mid']} (allowed {half:.4f})"
        checked += 1
    assert checked >= 130


def test_strike_vols_reproduce_cboe_within_2e3_at_p95():
    """Issue 9 item 12: p95 |IV − Cboe| ≤ 2e-3 over two-sided quotes with 0.02 < |Δ| < 0.98
    (Cboe's IV and Delta columns, read here with the csv module). Measured: p95 1.39e-3 over 244
    quotes (own-mid IVs: 6.2e-4); |Δ − Cboe| p95 2.6e-3."""
    raw = _raw_quotes()
    q = _series().quotes
    diffs, ddiffs = [], []
    for row in q.itertuples():
        v = raw[row.strike]
        bid, cboe_iv, cboe_delta = (v[f"{row.type} Bid"], v[f"{row.type} IV"],
                                    v[f"{row.type} Delta"])
        if bid > 0 and cboe_iv > 0 and 0.02 < abs(cboe_delta) < 0.98:
            assert not math.isnan(row.iv), f"{row.symbol}: no strike vol"
            diffs.append(abs(row.iv - cboe_iv))
            ddiffs.append(abs(row.delta - cboe_delta))
    p95, dp95 = np.percentile(diffs, 95), np.percentile(ddiffs, 95)
    print(f"compared {len(diffs)} quotes: p95 |IV - Cboe| {p95:.2e}, p95 |delta - Cboe| "
          f"{dp95:.2e}")
    assert len(diffs) >= 240
    assert p95 <= 2e-3, f"p95 |IV - Cboe| = {p95:.3e} > 2e-3 over {len(diffs)} quotes"
    assert dp95 <= 5e-3, f"p95 |delta - Cboe| = {dp95:.3e} > 5e-3"


def test_in_the_money_own_vol_stays_available():
    q = _series().quotes
    itm = q[(q["type"] == "C") & (q["strike"] == 6000.0)].iloc[0]
    assert itm["iv_from"] == "P" and not math.isnan(itm["own_iv"])
    s = _series()
    price = _black("C", s.forward, 6000.0, s.t, itm["own_iv"], s.discount)
    assert price == pytest.approx(itm["mid"], rel=1e-9)


def _chain_args(*extra):
    parser = argparse.ArgumentParser()
    chain_cmd.add_arguments(parser)
    return parser.parse_args([str(SAMPLE), *extra])


def test_chain_json_shape(capsys):
    assert chain_cmd.run(_chain_args("--json")) == 0
    out = json.loads(capsys.readouterr().out)
    (e,) = out["expiries"]
    assert e["expiry"] == "2026-04-17T09:30:00-04:00" and e["root"] == "SPX"
    assert len(e["rows"]) == 2 * len(_raw_quotes())          # a call and a put per strike
    assert set(e["rows"][0]) == {"strike", "type", "iv", "iv_from", "own_iv", "delta",
                                 "cboe_iv", "cboe_delta"}
    by_strike = {}
    for r in e["rows"]:
        by_strike.setdefault(r["strike"], set()).add(r["iv"])
    assert all(len(v) == 1 for v in by_strike.values())         # one vol per strike
    assert out["summary"]["compared"] >= 240 and out["summary"]["p95_abs_iv_diff"] <= 2e-3


def test_chain_table(capsys):
    assert chain_cmd.run(_chain_args("--strikes", "4")) == 0
    out = capsys.readouterr().out
    fwd = _series().forward
    strikes = sorted(_raw_quotes())
    near = sorted(strikes, key=lambda k: abs(k - fwd))[:4]
    far = max(strikes, key=lambda k: abs(k - fwd))
    assert "ITM IV%" in out and "p95" in out
    assert all(f"{k:g}" in out for k in near), (near, out)
    assert f" {far:g} " not in out                               # only 4 strikes near the money


def test_chain_table_without_cboe_greeks_says_there_is_nothing_to_compare(capsys):
    """A download without Cboe's IV/Delta columns: the summary says nothing was compared and
    why, instead of "p95 , median , max ;" with the numbers left blank (review finding)."""
    parser = argparse.ArgumentParser()
    chain_cmd.add_arguments(parser)
    path = DATA / "cboe" / "spx_quotedata_2024-02-13_no_greeks_trimmed_cboe.csv"
    assert chain_cmd.run(parser.parse_args([str(path), "--strikes", "2"])) == 0
    out = capsys.readouterr().out
    summary = out[out.index("compared with Cboe"):]
    assert "p95 ," not in summary and "max ;" not in summary, summary
    assert "0 quotes" in summary and "no Cboe IV/Delta columns" in summary, summary


def _cli(*args):
    exe = [sys.executable, "-m", "alvh_xl.cli"]
    return subprocess.run([*exe, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_cli_chain_subprocess():
    done = _cli("chain", str(SAMPLE), "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["summary"]["p95_abs_iv_diff"] <= 2e-3
    vix = DATA / "cboe" / "vix_options_processed_commit2023-09-04_4expiries_from_cboe.csv"
    no_time = _cli("chain", str(vix))
    assert no_time.returncode == 1 and "--quote-time" in no_time.stderr
    timed = _cli("chain", str(vix), "--quote-time", "2023-09-04 12:00", "--json")
    assert timed.returncode == 0, timed.stderr
    assert [e["root"] for e in json.loads(timed.stdout)["expiries"]] == \
        ["VIXW", "VIXW", "VIX", "VIXW"]
    missing = _cli("chain", "/nonexistent/quotedata.csv")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1, missing.stderr


XSP_SEP24 = DATA / "cboe" / "xsp_quotedata_2023-09-14_exp2024-09-20_trimmed_cboe.csv"
SPX_SEP24 = DATA / "cboe" / "spx_quotedata_2023-09-14_exp2024-09-20_trimmed_cboe.csv"


def test_xsp_forward_ignores_junk_wide_quotes_and_agrees_with_spx():
    """XSP Sep-2024 calls 423–461 were quoted 40 points wide (49.84 × 89.84) beside tight
    puts; the parity fit on them gave discount 1.59. The SPX chain of the same minute (a
    liquid market on the same index, 10 × XSP) is the reference for XSP's forward × 10 and
    discount; the SPX (AM) and XSP (PM) settlements 6.5 hours apart change neither by more
    than the tolerances."""
    (xsp,) = analyse_chain(read_cboe_chain(XSP_SEP24))
    (spx,) = analyse_chain(read_cboe_chain(SPX_SEP24))
    got = (10 * xsp.forward, xsp.discount)
    want = (spx.forward, spx.discount)
    assert not xsp.error and not spx.error, (xsp.error, spx.error)
    assert abs(got[0] / want[0] - 1) < 5e-4 and abs(got[1] - want[1]) < 5e-3, \
        f"XSP (10 F, D) {got} vs SPX {want}; tolerances 5e-4 relative, 5e-3"


SPX_DEC23 = DATA / "cboe" / "spx_quotedata_2023-09-14_exp2023-12-29_trimmed_cboe.csv"


def test_time_to_expiry_across_a_dst_change_is_the_engines_and_reprices_the_mid():
    """Quoted Thu 2023-09-14 16:31 EDT, settled Fri 2023-12-29 16:00 EST: the engine counts
    106 calendar days less 31 minutes of New York wall clock (risk.underlyings.years_to; the
    VIX white paper's minute count does the same), so a vol marked from the chain must use that
    t, or the valued leg misses its own mid (55.00 valued 54.98 with one hour more)."""
    chain = read_cboe_chain(SPX_DEC23)
    (s,) = analyse_chain(chain)
    want_t = (106 * 1440 - 31) / (365 * 1440)
    assert abs(s.t - want_t) < 1e-12, f"t {s.t!r}, expected {want_t!r} (tolerance 1e-12)"
    k = 4700.0
    q = s.quotes[(s.quotes["strike"] == k) & (s.quotes["type"] == "C")].iloc[0]
    price = ql.blackFormula(ql.Option.Call, k, s.forward, q["iv"] * math.sqrt(want_t),
                            s.discount)
    assert abs(price - q["mid"]) < 1e-8, \
        f"Black-76 at IV {q['iv']}, F {s.forward}, D {s.discount}, t {want_t}: {price}, " \
        f"mid {q['mid']} (tolerance 1e-8)"


SAT_2026 = DATA / "cboe" / "spx_quotedata_2026-03-14_saturday_gmt-4_trimmed_cboe.csv"


def test_weekend_download_reproduces_cboe_at_the_friday_close():
    """'Date: 14 March 2026 at 07:34 GMT-4' is a Saturday: the quotes (and Cboe's IVs) are
    Friday's close. At the file's own time the vols differ from Cboe's (a note says so); given
    the close (Fri 16:15 New York) they reproduce Cboe's within the 2e-3 p95 target."""
    own = read_cboe_chain(SAT_2026)
    assert own.quote_time == dt.datetime(2026, 3, 14, 11, 34, tzinfo=dt.timezone.utc)
    assert any("weekend" in n and "--quote-time" in n for n in own.notes), own.notes
    close = read_cboe_chain(SAT_2026, quote_time=dt.datetime(2026, 3, 13, 16, 15))
    got = {}
    for name, chain in (("file", own), ("close", close)):
        q = pd.concat([s.quotes for s in analyse_chain(chain)], ignore_index=True)
        use = chain_cmd.comparable(q)
        got[name] = (int(use.sum()), float(np.percentile((q["iv"] - q["cboe_iv"]).abs()[use], 95)))
    assert got["close"][0] > 80 and got["close"][1] < 2e-3 < 5e-3 < got["file"][1], \
        f"(compared, p95 |IV − Cboe IV|) at the file's time and at Friday's close: {got}"
