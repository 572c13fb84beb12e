"""One domain check for the pricing functions (issue 9 item 15): ALVH_BSM, ALVH_BLACK76,
ALVH_AMERICAN and ALVH_IV reject the same inputs with the same '#ALVH!' words — which argument,
which cell of a range, what was expected — as plain Python and through xlwings' Office.js
machinery.

The bounds are written out here by hand from SPEC §4 and conventions.py (t in years 0..100,
vol 0..5 as a decimal, |rate| and |div| below 1, prices and strikes positive, an option price
not negative), not taken from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import QuantLib as ql
from hypothesis import given
from hypothesis import strategies as st
from xlcall import needs_xlwings, xl_call

from alvh_xl.errors import InputError
from alvh_xl.pricing.inputs import check_domain, outside_domain
from alvh_xl.xl.fn_pricing import ALVH_AMERICAN, ALVH_BLACK76, ALVH_BSM, ALVH_IV

PLAIN = {"ALVH_BSM": ALVH_BSM, "ALVH_BLACK76": ALVH_BLACK76, "ALVH_AMERICAN": ALVH_AMERICAN,
         "ALVH_IV": ALVH_IV}


def plain(name, *args):
    return PLAIN[name](*args)


def office_js(name, *args):
    out = xl_call(name, *args)
    return out[0][0] if out == [[out[0][0]]] else out      # a 1×1 range comes back as [[x]]


CALLERS = [pytest.param(plain, id="python"),
           pytest.param(office_js, id="xlwings", marks=needs_xlwings)]

# A valid call of each function; index of each argument by its role.
BASE = {
    "ALVH_BSM": ["price", "P", 6700.0, 6500.0, 0.25, 0.2, 0.04, 0.013],
    "ALVH_BLACK76": ["price", "C", 19.5, 22.0, 0.25, 0.9, 0.04],
    "ALVH_AMERICAN": ["price", "P", 20.0, 22.0, 0.25, 0.9, 0.04, 0.0],
    "ALVH_IV": [150.0, "P", 6700.0, 6500.0, 0.25, 0.04, 0.013],
}
ROLES = {   # role → (function → (argument index, argument name))
    "underlying": {"ALVH_BSM": (2, "spot"), "ALVH_BLACK76": (2, "fwd"),
                   "ALVH_AMERICAN": (2, "spot"), "ALVH_IV": (2, "underlying")},
    "strike": {f: (3, "strike") for f in BASE},
    "t": {f: (4, "t_years") for f in BASE},
    "vol": {"ALVH_BSM": (5, "vol"), "ALVH_BLACK76": (5, "vol"), "ALVH_AMERICAN": (5, "vol")},
    "rate": {"ALVH_BSM": (6, "rate"), "ALVH_BLACK76": (6, "rate"), "ALVH_AMERICAN": (6, "rate"),
             "ALVH_IV": (5, "rate")},
    "div": {"ALVH_BSM": (7, "div"), "ALVH_AMERICAN": (7, "div"), "ALVH_IV": (6, "div")},
    "price": {"ALVH_IV": (0, "price")},
}
EXPECTED = {   # what each role takes, in the words every function uses
    "underlying": "a price > 0",
    "strike": "a strike > 0",
    "t": "years from 0 to 100 (ACT/365; 0.5 for six months)",
    "vol": "a decimal vol from 0 to 5 (0.18 for 18 %)",
    "rate": "a decimal rate between -1 and 1 (0.04 for 4 %)",
    "div": "a decimal yield between -1 and 1 (0.013 for 1.3 %)",
    "price": "a price >= 0",
}
BAD = {"underlying": [0.0, -5.0], "strike": [0.0, -1.0], "t": [-0.1, -1e-9, 100.5],
       "vol": [-0.1, 5.5, 18.0], "rate": [1.0, -1.2, 4.0], "div": [1.0, -1.5, 1.3],
       "price": [-1.0, -1e-12]}
# ALVH_AMERICAN's rate and div have the American domain (no negative carry): its own test.
CASES = [(role, fn, v) for role, fns in ROLES.items() for fn in fns for v in BAD[role]
         if not (fn == "ALVH_AMERICAN" and role in ("rate", "div"))]


def _with(fn: str, index: int, value) -> list:
    args = list(BASE[fn])
    args[index] = value
    return args


@pytest.mark.parametrize("call", CALLERS)
@pytest.mark.parametrize("role, fn, value", CASES)
def test_each_bad_input_names_argument_and_expectation(call, role, fn, value):
    index, name = ROLES[role][fn]
    got = call(fn, *_with(fn, index, value))
    want = f"#ALVH! {name}: expected {EXPECTED[role]}, got {value:g}"
    assert got == want, f"{fn}({role}={value!r}): expected {want!r}, calculated {got!r}"


@pytest.mark.parametrize("call", CALLERS)
@pytest.mark.parametrize("role", list(ROLES))
def test_in_a_range_the_bad_cell_is_named(call, role):
    """A column with one bad cell: that cell says which row of the argument's range it is;
    the others compute."""
    for fn, (index, name) in ROLES[role].items():
        if fn == "ALVH_AMERICAN" and role in ("rate", "div"):
            continue
        bad = BAD[role][0]
        good = BASE[fn][index]
        out = call(fn, *_with(fn, index, [[good], [good], [bad]]))
        assert isinstance(out[0][0], float) and out[0][0] == out[1][0], (fn, out)
        want = f"#ALVH! {name} (row 3 of its range): expected {EXPECTED[role]}, got {bad:g}"
        assert out[2][0] == want, f"{fn}: expected {want!r}, calculated {out[2][0]!r}"


@pytest.mark.parametrize("role", list(ROLES))
def test_every_function_taking_a_role_rejects_the_same_values_alike(role):
    """One domain: for each bad value, the four functions' messages differ only in the
    argument's name."""
    for value in BAD[role]:
        seen = set()
        for fn, (index, name) in ROLES[role].items():
            if fn == "ALVH_AMERICAN" and role in ("rate", "div"):
                continue
            seen.add(plain(fn, *_with(fn, index, value)).replace(f"#ALVH! {name}:", "#ALVH! ARG:"))
        assert len(seen) == 1, f"{role}={value}: {seen}"


@pytest.mark.parametrize("call", CALLERS)
def test_negative_t_is_rejected_by_bsm_as_by_iv(call):
    """ALVH_BSM took t = -1 and answered the intrinsic value; now both say what t must be."""
    bsm = call("ALVH_BSM", "price", "C", 100.0, 90.0, -1.0, 0.2)
    iv = call("ALVH_IV", 12.0, "C", 100.0, 90.0, -1.0)
    want = "#ALVH! t_years: expected years from 0 to 100 (ACT/365; 0.5 for six months), got -1"
    assert bsm == iv == want, (bsm, iv)
    # t = 0 is in the domain: the price is intrinsic, the IV has no solution (expired)
    assert call("ALVH_BSM", "price", "C", 100.0, 90.0, 0.0, 0.2) == 10.0
    assert call("ALVH_IV", 12.0, "C", 100.0, 90.0, 0.0) == "#ALVH! no solution: expired (t <= 0)"


@pytest.mark.parametrize("call", CALLERS)
def test_iv_never_answers_a_vol_bsm_would_reject(call):
    """The 1.6e150 vol: a price with a tiny t solves to an absurd vol. Anything above the vol
    ALVH_BSM takes (5 = 500 %) is 'no solution' with the reason."""
    t = 1e-30
    got = call("ALVH_IV", 10.0, "C", 100.0, 100.0, t)
    assert got == ("#ALVH! no solution: the implied vol is above 5 (500%), beyond what ALVH_BSM "
                   "takes; check the price and t_years"), got
    # just inside: a price made by QuantLib at vol 4.9 comes back
    price = ql.blackFormula(ql.Option.Call, 100.0, 100.0, 4.9 * math.sqrt(0.5), 1.0)
    back = call("ALVH_IV", price, "C", 100.0, 100.0, 0.5)
    assert back == pytest.approx(4.9, abs=1e-9), (price, back)


@pytest.mark.parametrize("call", CALLERS)
def test_iv_american_carry_has_the_words_of_alvh_american(call):
    for arg, index_iv, index_am, value in (("rate", 5, 6, -0.01), ("div", 6, 7, -0.02),
                                           ("rate", 5, 6, 1.0), ("div", 6, 7, 1.5)):
        iv_args = [1.5, "P", 20.0, 22.0, 0.25, 0.04, 0.0, "american"]
        iv_args[index_iv] = value
        am = call("ALVH_AMERICAN", *_with("ALVH_AMERICAN", index_am, value))
        iv = call("ALVH_IV", *iv_args)
        assert am == iv and am.startswith(f"#ALVH! {arg}: expected a decimal "), (am, iv)
        assert "American options take no negative" in am and "from 0 to below 1" in am


@pytest.mark.parametrize("call", CALLERS)
def test_black76_iv_takes_no_dividend(call):
    """The forward already carries the dividend: a div beside model black76 was silently
    ignored; now it is an error (0 or blank is fine)."""
    fwd, k, t, vol, r = 19.5, 22.0, 0.25, 0.9, 0.04
    price = ql.blackFormula(ql.Option.Call, k, fwd, vol * math.sqrt(t), math.exp(-r * t))
    assert call("ALVH_IV", price, "C", fwd, k, t, r, 0.0, "black76") == \
        pytest.approx(vol, abs=1e-10)
    assert call("ALVH_IV", price, "C", fwd, k, t, r, None, "black76") == \
        pytest.approx(vol, abs=1e-10)
    got = call("ALVH_IV", price, "C", fwd, k, t, r, 0.013, "black76")
    assert got == ("#ALVH! div: expected 0 or blank with black76 (the forward already carries "
                   "the dividend), got 0.013"), got


@pytest.mark.parametrize("call", CALLERS)
def test_rate_and_div_bounds_apply_to_iv_as_to_bsm(call):
    """ALVH_IV took rate 5 or -50 (and solved to nonsense); now ALVH_BSM's bound applies."""
    for value in (5.0, -50.0):
        bsm = call("ALVH_BSM", "price", "C", 100.0, 100.0, 1.0, 0.2, value)
        iv = call("ALVH_IV", 10.0, "C", 100.0, 100.0, 1.0, value)
        assert bsm == iv == f"#ALVH! rate: expected {EXPECTED['rate']}, got {value:g}"


# ----------------------------------------------------------------------------- the engine rule

BOUNDS = {  # role → (inside values, outside values), by hand
    "underlying": ([1e-300, 1.0, 1e9], [0.0, -1.0, np.nan, np.inf]),
    "strike": ([1e-9, 6500.0], [0.0, -0.5, np.nan]),
    "t": ([0.0, 1e-9, 100.0], [-1e-12, 100.0001, np.nan]),
    "vol": ([0.0, 0.18, 5.0], [-1e-12, 5.0001, np.nan]),
    "rate": ([-0.999, 0.0, 0.999], [1.0, -1.0, np.nan]),
    "div": ([-0.5, 0.013, 0.999], [1.0, -1.0, np.inf]),
    "price": ([0.0, 1e-300, 1e6], [-1e-300, np.nan, np.inf]),
}


@pytest.mark.parametrize("role", list(BOUNDS))
def test_domain_boundaries_by_hand(role):
    inside, outside = BOUNDS[role]
    got_in = outside_domain(role, np.array(inside))
    got_out = outside_domain(role, np.array(outside))
    assert not got_in.any(), f"{role}: {np.array(inside)[got_in]} flagged, expected inside"
    assert got_out.all(), f"{role}: {np.array(outside)[~got_out]} not flagged, expected outside"


def test_american_domain_rejects_negative_carry_only():
    assert outside_domain("rate", np.array([-1e-9, 0.0, 0.5]), american=True).tolist() == \
        [True, False, False]
    assert outside_domain("div", np.array([-0.01, 0.0]), american=True).tolist() == [True, False]
    assert not outside_domain("vol", np.array([0.2]), american=True).any()


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_t_domain_is_the_closed_interval_0_100(t):
    assert bool(outside_domain("t", np.array([t]))[0]) == (not 0.0 <= t <= 100.0), t


def test_check_domain_raises_naming_the_argument():
    with pytest.raises(InputError, match=r"^t_years: expected years from 0 to 100 .*got -2$"):
        check_domain([0.5, -2.0], "t", "t_years")
    np.testing.assert_array_equal(check_domain([0.5, 1.0], "t"), [0.5, 1.0])
