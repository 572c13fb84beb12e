"""MACD / RSI / EMA against TA-Lib (the reference traders use) and the regime flag."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib
from conftest import DATA

from alvh_xl.errors import InputError
from alvh_xl.risk.indicators import (
    as_series,
    ema_talib,
    expansion_run,
    macd,
    macd_lookback,
    regime,
    rsi,
)

RTOL = 1e-10


def walk(seed: int, n: int, level: float = 20.0, drift: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return level * np.exp(np.cumsum(rng.normal(drift, 0.03, n)))


def close_to_talib(ours: np.ndarray, ref: np.ndarray, scale: float) -> float:
    """Assert NaN layout identical and values within RTOL (relative, or of the series scale
    where the indicator crosses zero); return the largest absolute deviation."""
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=RTOL * scale)
    return float(np.nanmax(np.abs(ours - ref)))


MACD_CASES = [(seed, n, p) for seed in range(5) for n in (34, 35, 60, 252, 2000)
              for p in ((12, 26, 9), (5, 35, 5), (3, 10, 1), (2, 3, 1)) if n > macd_lookback(*p)]


@pytest.mark.parametrize("seed, n, params", MACD_CASES)
def test_macd_equals_talib(seed, n, params):
    x = walk(seed, n)
    fast, slow, signal = params
    ours = macd(x, fast, slow, signal)
    ref = talib.MACD(x, fastperiod=fast, slowperiod=slow, signalperiod=signal)
    for a, b in zip(ours, ref, strict=True):
        close_to_talib(a, b, x.max())
    first = slow - 1 + signal - 1
    assert all(np.isnan(a[:first]).all() and not np.isnan(a[first:]).any() for a in ours)


@pytest.mark.parametrize("seed, n, period", [
    (seed, n, p) for seed in range(3) for n in (15, 16, 100, 2000) for p in (2, 5, 14, 30)
    if n > p])
def test_rsi_equals_talib(seed, n, period):
    x = walk(seed, n, 100.0)
    ours = rsi(x, period)
    close_to_talib(ours, talib.RSI(x, timeperiod=period), 100.0)
    assert np.isnan(ours[:period]).all() and not np.isnan(ours[period:]).any()


@pytest.mark.parametrize("period", [2, 9, 26])
def test_ema_equals_talib(period):
    x = walk(7, 300)
    close_to_talib(ema_talib(x, period), talib.EMA(x, timeperiod=period), x.max())


def test_flat_and_one_way_series_match_talib_rsi():
    flat = np.full(40, 20.0)
    up = 20.0 + np.arange(40.0)
    for x in (flat, up, up[::-1]):
        close_to_talib(rsi(x), talib.RSI(x), 100.0)
    assert rsi(flat)[-1] == 0.0 and rsi(up)[-1] == 100.0  # TA-Lib: 0 when nothing moves


def test_regression_series_published_values():
    """TA-Lib's own regression test values (test_macd.c, test_rsi.c) to their stated decimals."""
    close = pd.read_csv(DATA / "talib_ref_close_252.csv")["close"].to_numpy()
    assert close.size == 252
    expected = pd.read_csv(DATA / "talib_expected_macd_rsi.csv")
    line, sig, hist = macd(close)
    r = rsi(close)
    ours = {("MACD", "macd"): line, ("MACD", "signal"): sig, ("MACD", "histogram"): hist,
            ("RSI", "rsi"): r}
    checked = 0
    for row in expected.itertuples():
        if row.compatibility != "default":
            assert row.compatibility == "metastock"  # not offered: TA-Lib's default only
            continue
        text = str(row.expected_published)
        decimals = len(text.split(".")[1])
        value = ours[(row.indicator, row.output)][row.index_into_252_close_series]
        # Published values are cut (49.1473 is listed as 49.14), and TA-Lib's harness accepts
        # |diff| < 0.01 (TA_REAL_EQ in ta_regtest/test_util.c): hold to one unit of the last
        # stated decimal, which is that tolerance for 2 decimals and 100x tighter for 4.
        assert abs(value - float(text)) < 10.0 ** -decimals, row
        checked += 1
    assert checked == 7
    assert (~np.isnan(line)).sum() == 219 and np.flatnonzero(~np.isnan(line))[0] == 33
    assert np.flatnonzero(~np.isnan(r))[0] == 14
    for a, b in zip((line, sig, hist, r), (*talib.MACD(close), talib.RSI(close)), strict=True):
        close_to_talib(a, b, close.max())


def test_seeding_is_talibs_not_first_value_ewm():
    """The other common seeding (EMA started at the first close) gives different early values."""
    x = walk(11, 80)
    ewm = pd.Series(x)
    line = (ewm.ewm(span=12, adjust=False).mean() - ewm.ewm(span=26, adjust=False).mean())
    ours = macd(x)[0]
    assert abs(ours[33] - line.iloc[33]) > 1e-6
    # TA-Lib's fast EMA is seeded on closes 14..25: the MACD at 25 (before the signal lookback)
    fast_seed, slow_seed = x[14:26].mean(), x[:26].mean()
    k_f, k_s = 2 / 13, 2 / 27
    f, s = fast_seed, slow_seed
    for v in x[26:34]:
        f, s = f + k_f * (v - f), s + k_s * (v - s)
    assert ours[33] == pytest.approx(f - s, rel=1e-12)


@pytest.mark.parametrize("values, message", [
    ([1.0, 2.0, None, 4.0], "close: value 3 is blank"),
    ([1.0, float("nan")], "close: value 2 is blank"),
    ([1.0, np.inf], "close: value 2: expected a finite number, got inf"),
    ([1.0, 2.0, 3.0, 4.0, "abc"], 'close: value 5: expected a number, got "abc"'),
    ([1.0, "2,5"], 'close: value 2: "2,5" looks like a decimal comma; type the number (with a '
                   "decimal point)"),
    ([1.0, "#N/A"], "close: value 2: holds the Excel error #N/A; fix the formula or type a "
                    "value"),
    ([1.0, True], "close: value 2: expected a number, got TRUE"),
    ([], "close is empty"),
    (np.array([1.0, np.nan]), "close: value 2 is not a number (NaN)"),
    (pd.Series([1.0, 2.0, np.nan]), "close: value 3 is blank"),
])
def test_series_errors_name_the_position(values, message):
    with pytest.raises(InputError) as e:
        as_series(values, "close")
    assert str(e.value) == message


def test_numeric_text_and_ints_are_numbers():
    assert as_series(["1.5", 2, np.float32(3.0)]).tolist() == [1.5, 2.0, 3.0]


@pytest.mark.parametrize("call, message", [
    (lambda x: macd(x[:20]), "close needs at least 34 values for MACD(12,26,9), got 20"),
    (lambda x: macd(x, 26, 12), "fast (26) must be shorter than slow (12)"),
    (lambda x: macd(x, 12, 12), "fast (12) must be shorter than slow (12)"),
    (lambda x: macd(x, 2.5), "fast must be a whole number ≥ 2, got 2.5"),
    (lambda x: macd(x, 12, 26, 0), "signal must be a whole number ≥ 1, got 0"),
    (lambda x: rsi(x, -3), "period must be a whole number ≥ 2, got -3"),
    (lambda x: rsi(x, "abc"), 'period must be a whole number ≥ 2, got "abc"'),
    (lambda x: rsi(x[:14]), "close needs at least 15 values for RSI(14), got 14"),
    (lambda x: regime(x[:36], x), "vix_futures needs at least 37 values for MACD(12,26,9) "
                                  "and 3 days of histogram changes, got 36"),
    (lambda x: regime(x, x[:10]), "vvix needs at least 15 values for RSI(14), got 10"),
    (lambda x: regime(x, x, 0), "k must be a whole number ≥ 1, got 0"),
])
def test_parameter_and_length_errors(call, message):
    with pytest.raises(InputError) as e:
        call(walk(5, 60))
    assert str(e.value) == message


def test_float_whole_periods_accepted():
    x = walk(3, 80)
    np.testing.assert_array_equal(macd(x, 12.0, 26.0, 9.0)[2], macd(x)[2])


def reference_run(hist: np.ndarray) -> int:
    """Independent loop: days in a row (to the end) the histogram grew with unchanged sign."""
    h = hist[~np.isnan(hist)]
    n = 0
    for i in range(h.size - 1, 0, -1):
        if np.sign(h[i]) == np.sign(h[i - 1]) != 0 and abs(h[i]) > abs(h[i - 1]):
            n += 1
        else:
            break
    return n


def test_expansion_run_matches_loop():
    rng = np.random.default_rng(0)
    for _ in range(300):
        h = np.cumsum(rng.normal(size=rng.integers(2, 12)))
        h[rng.random(h.size) < 0.1] = 0.0
        assert expansion_run(h) == reference_run(h)
    # by the definition: ties do not expand, zero breaks a run, leading NaN are ignored
    assert expansion_run(np.array([1.0, 2.0, 2.0])) == 0
    assert expansion_run(np.array([np.nan, -1.0, -2.0, -3.0])) == 2
    assert expansion_run(np.array([1.0, 2.0, 0.0, 1.0, 2.0])) == 1
    assert expansion_run(np.array([-1.0, 2.0, 3.0])) == 1


BASE = np.full(60, 20.0)
RISE = np.concatenate([BASE, 20.0 + 0.05 * np.arange(1, 7) ** 2])   # accelerating rise
FALL = np.concatenate([BASE, 20.0 - 0.05 * np.arange(1, 7) ** 2])
VVIX_UP = 100.0 + np.arange(30.0)          # RSI 100
VVIX_DOWN = 100.0 - np.arange(30.0)        # RSI 0
VVIX_CHOP = 100.0 + np.tile([1.0, -1.0], 15)  # RSI ~48


def test_expanding_positive_and_high_rsi_flags_up():
    h = talib.MACD(RISE)[2]
    run = reference_run(h)
    assert run >= 3 and h[-1] > 0
    r = regime(RISE, VVIX_UP)
    assert r.flag and r.direction == "up" and r.expanding_days == run and r.rsi_zone == "high"
    assert r.hist_last == pytest.approx(h[-1], rel=1e-10)
    assert r.hist_from == pytest.approx(h[-1 - run], rel=1e-10)
    assert r.sentence == (f"MACD histogram expanding positive for {run} days "
                          f"({h[-1 - run]:.3g} → {h[-1]:.3g}) and VVIX RSI 100.0 > 70: "
                          "vol regime turning up")


def test_expanding_negative_and_low_rsi_flags_down():
    h = talib.MACD(FALL)[2]
    assert reference_run(h) >= 3 and h[-1] < 0
    r = regime(FALL, VVIX_DOWN)
    assert r.flag and r.direction == "down" and r.rsi_zone == "low"
    assert "expanding negative" in r.sentence and "VVIX RSI 0.0 < 30" in r.sentence
    assert r.sentence.endswith("vol regime turning down")


def test_rsi_inside_band_is_not_a_signal():
    r = regime(RISE, VVIX_CHOP)
    assert 30 < talib.RSI(VVIX_CHOP)[-1] < 70
    assert not r.flag and r.expanding and not r.rsi_extreme
    assert r.sentence.startswith("No regime signal: MACD histogram expanding positive")
    assert r.sentence.endswith(f"VVIX RSI {talib.RSI(VVIX_CHOP)[-1]:.1f} within 30–70")


def test_contracting_histogram_is_not_a_signal():
    x = np.append(RISE, 21.0)                 # pull back: histogram still positive, smaller
    h = talib.MACD(x)[2]
    assert 0 < h[-1] < h[-2]
    r = regime(x, VVIX_UP)
    assert not r.flag and r.expanding_days == 0
    assert f"MACD histogram contracting positive ({h[-2]:.3g} → {h[-1]:.3g})" in r.sentence


def test_sign_flip_is_not_a_signal():
    x = np.append(RISE, 18.0)
    h = talib.MACD(x)[2]
    assert h[-2] > 0 > h[-1]
    r = regime(x, VVIX_DOWN)
    assert not r.flag and r.direction == "down"
    assert "MACD histogram changed sign" in r.sentence


def test_k_is_honoured():
    run = reference_run(talib.MACD(RISE)[2])
    assert regime(RISE, VVIX_UP, k=run).flag
    r = regime(RISE, VVIX_UP, k=run + 1)
    assert not r.flag and r.days_needed == run + 1
    assert f"for only {run} days ({run + 1} needed)" in r.sentence


def test_regime_matches_talib_conditions_on_random_walks():
    outcomes = []
    for seed in range(40):
        fut, vvix = walk(seed, 120), walk(seed + 100, 120, 90.0, drift=(seed % 3 - 1) * 0.02)
        h, r_ref = talib.MACD(fut)[2], talib.RSI(vvix)[-1]
        for k in (1, 2, 3):
            r = regime(fut, vvix, k)
            expanding = reference_run(h) >= k
            assert r.expanding == expanding
            assert r.rsi_last == pytest.approx(r_ref, rel=1e-10)
            assert r.flag == (expanding and (r_ref > 70 or r_ref < 30))
            assert r.sentence.startswith("No regime signal") != r.flag
            outcomes.append((r.flag, expanding, r.rsi_zone))
    assert {o[0] for o in outcomes} == {True, False}          # both outcomes exercised
    assert {o[2] for o in outcomes} == {"high", "low", ""}
    assert (False, True, "") in outcomes and (False, False, "high") in outcomes
