"""Put–call parity fit, Cboe quotedata.csv reader, and `alvh-xl chain` against Cboe's IVs."""

import argparse
import datetime as dt
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import DATA

from alvh_xl.book.cboe import NEW_YORK, read_cboe_chain, year_fraction
from alvh_xl.commands import chain as chain_cmd
from alvh_xl.errors import InputError, MissingInputError, NoSolutionError
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


# --- Cboe reader --------------------------------------------------------------------------

def test_reader_parses_header_lines_and_both_sides():
    chain = read_cboe_chain(SAMPLE)
    assert chain.spot == pytest.approx(6711.2002)
    assert chain.quote_time == dt.datetime(2025, 10, 1, 18, 1, tzinfo=NEW_YORK)
    assert chain.quote_time.utcoffset() == dt.timedelta(hours=-4)
    assert chain.underlying == "S&P 500 INDEX"
    q = chain.quotes
    assert len(q) == 282 and set(q["type"]) == {"C", "P"}
    assert (q["root"] == "SPX").all() and (q["settlement"] == "AM").all()
    assert (q["expiry_time"] == dt.datetime(2026, 4, 17, 9, 30, tzinfo=NEW_YORK)).all()
    put = q[(q["strike"] == 1200.0) & (q["type"] == "P")].iloc[0]
    assert (put["bid"], put["ask"], put["iv"], put["delta"], put["open_interest"]) == \
        (0.5, 0.6, 0.7896, -0.0005, 268)
    assert put["mid"] == pytest.approx(0.55)
    call = q[(q["strike"] == 1200.0) & (q["type"] == "C")].iloc[0]
    assert call["symbol"] == "SPX260417C01200000" and call["bid"] == 5498.5


_SIDE = "Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest"
_SPXW = "\n".join([
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


def test_reader_settlement_by_root_and_dst():
    chain = read_cboe_chain(io.StringIO(_SPXW))
    q = chain.quotes
    pm = q[q["root"] == "SPXW"]
    am = q[q["root"] == "SPX"]
    assert (pm["settlement"] == "PM").all() and (am["settlement"] == "AM").all()
    assert pm["expiry_time"].iloc[0] == dt.datetime(2026, 3, 20, 16, 0, tzinfo=NEW_YORK)
    # Quote in EST (UTC−5), settlement in EDT (UTC−4): ACT/365 on real elapsed time.
    t = year_fraction(chain.quote_time, am["expiry_time"].iloc[0])[0]
    elapsed = dt.datetime(2026, 3, 20, 13, 30) - dt.datetime(2026, 1, 5, 15, 15)   # in UTC
    assert t == pytest.approx(elapsed.total_seconds() / (365 * 86400), rel=1e-15)


def test_reader_errors_name_the_problem(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_cboe_chain(tmp_path / "missing.csv")
    with pytest.raises(MissingInputError, match="header line"):
        read_cboe_chain(io.StringIO("a,b\n1,2\n"))
    broken = _SPXW.replace("Fri Mar 20 2026,SPX2", "20/03/2026,SPX2")
    with pytest.raises(InputError, match="not like 'Fri Apr 17 2026'"):
        read_cboe_chain(io.StringIO(broken))
    with pytest.raises(InputError, match="Date"):
        read_cboe_chain(io.StringIO(_SPXW.replace("January 5, 2026 at", "5 Jan")))


# --- the chain against Cboe's own IVs and deltas ------------------------------------------

def test_chain_reproduces_cboe_ivs_and_deltas():
    chain = read_cboe_chain(SAMPLE)
    (e,) = chain_cmd.analyse(chain)
    assert e["forward"] == pytest.approx(6830.52, abs=0.5)
    assert e["discount"] == pytest.approx(0.9778, abs=5e-4)
    q = e["quotes"]
    two = (q["bid"] > 0) & q["cboe_iv"].notna()
    assert two.sum() == 281
    # One quote has no IV: the 8600 put's mid (1729.35) is below D·(K − F) ≈ 1730.2.
    (no_iv,) = np.flatnonzero((two & q["our_iv"].isna()).to_numpy())
    assert (q["strike"][no_iv], q["type"][no_iv]) == (8600.0, "P")
    assert q["mid"][no_iv] < e["discount"] * (8600.0 - e["forward"])
    two &= q["our_iv"].notna()
    div = (q["our_iv"] - q["cboe_iv"]).abs()[two]
    ddel = (q["our_delta"] - q["cboe_delta"]).abs()[two]
    # Measured: median |ΔIV| 1.8e-4 (Cboe prints 4 decimals), median |Δdelta| 1.3e-3.
    assert div.median() < 3e-4 and ddel.median() < 2e-3
    # Quotes tighter than 0.2 vol points (179 of them): max |ΔIV| 8.3e-4, max |Δdelta| 3.0e-3.
    tight = two & (q["iv_ask"] - q["iv_bid"] <= 2e-3)
    assert tight.sum() >= 170
    assert div[tight].max() < 1e-3 and ddel[tight].max() < 5e-3
    # Wide quotes (deep ITM, 0.05-wide wings): Cboe's IV lies inside our IV(bid)..IV(ask)
    # range for 275 of 280 quotes (±5e-5 for Cboe's rounding).
    inside = (q["cboe_iv"] >= q["iv_bid"].fillna(0) - 5e-5) & (q["cboe_iv"] <= q["iv_ask"] + 5e-5)
    assert inside[two].sum() >= 270


def _chain_args(*extra):
    parser = argparse.ArgumentParser()
    chain_cmd.add_arguments(parser)
    return parser.parse_args([str(SAMPLE), *extra])


def test_chain_json_shape(capsys):
    assert chain_cmd.run(_chain_args("--json")) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"expiries", "summary"}
    (e,) = out["expiries"]
    assert set(e) == {"expiry", "forward", "discount", "rows"}
    assert e["expiry"] == "2026-04-17T09:30:00-04:00"
    assert len(e["rows"]) == 282
    assert all(set(r) == {"strike", "type", "iv", "delta", "cboe_iv", "cboe_delta"}
               for r in e["rows"])
    call_1200 = e["rows"][0]
    assert call_1200["strike"] == 1200.0 and call_1200["type"] == "C"
    assert call_1200["cboe_iv"] is None                     # Cboe prints 0: no value
    s = out["summary"]
    assert s["count"] == 280 and s["two_sided"] == 282
    assert s["median_abs_iv_diff"] < 3e-4 and s["tight_max_abs_iv_diff"] < 1e-3


def test_chain_table(capsys):
    assert chain_cmd.run(_chain_args("--strikes", "4")) == 0
    out = capsys.readouterr().out
    assert "F = 6830.52" in out and "6825" in out and "two-sided quotes (bid > 0): 282" in out
    assert "1200" not in out.split("two-sided")[0]           # only 4 strikes near the money


def test_cli_chain_subprocess():
    from alvh_xl.cli import COMMANDS

    if "chain" not in COMMANDS:
        pytest.skip("`chain` is not registered in alvh_xl.cli.COMMANDS yet")
    exe = [sys.executable, "-c", "import sys; from alvh_xl.cli import main; sys.exit(main())"]
    done = subprocess.run([*exe, "chain", str(SAMPLE), "--json"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["summary"]["count"] == 280
    assert out["expiries"][0]["forward"] == pytest.approx(6830.52, abs=0.5)
    missing = subprocess.run([*exe, "chain", "/nonexistent/quotedata.csv"], capture_output=True,
                             text=True, timeout=120)
    assert missing.returncode != 0
