"""Book Excel functions (issue 3): ALVH_NETVEGA, ALVH_LEGS, ALVH_LAYERS, ALVH_BUCKETS, ALVH_FLAG,
ALVH_HEDGE — as plain Python and through xlwings' own custom-function machinery; bad input
gives '#ALVH!' text naming row and column, never a traceback; the cache is keyed on values."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xlcall import needs_xlwings, xl_call

from alvh_xl.book import parse_curve, parse_market, parse_positions, parse_thresholds
from alvh_xl.risk.aggregation import LAYER_COLUMNS, bucket_table, layers_table
from alvh_xl.risk.hedging import HEDGE_COLUMNS
from alvh_xl.risk.valuation import LEG_COLUMNS, value_book
from alvh_xl.tools.synthetic import curve_table, make_book, market_table, thresholds_table
from alvh_xl.xl import cache
from alvh_xl.xl.fn_book import (
    ALVH_BUCKETS,
    ALVH_FLAG,
    ALVH_HEDGE,
    ALVH_LAYERS,
    ALVH_LEGS,
    ALVH_NETVEGA,
)

H = ["Layer", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Qty", "Multiplier", "IV",
     "Price", "EntryPrice", "Underlying", "Leverage", "Beta"]
POS = [H,
       ["Core", "IC-Jan", "SPX", "P", 6300, "2027-01-08", -10, None, 0.19, None, None, None,
        None, None],
       ["Core", "IC-Jan", "SPX", "P", 6250, "2027-01-08", 10, None, 0.20, None, None, None,
        None, None],
       ["Core", "IC-Jan", "SPX", "C", 7050, "2027-01-08", -10, None, 0.12, None, None, None,
        None, None],
       ["Core", "IC-Jan", "SPX", "C", 7100, "2027-01-08", 10, None, 0.115, None, None, None,
        None, None],
       ["VIX L1", "CS-Dec", "VIX", "C", 20, "2026-12-16", 20, None, 0.85, None, None, None,
        None, None],
       ["VIX L1", "CS-Dec", "VIX", "C", 25, "2026-12-16", -20, None, 1.0, None, None, None,
        None, None],
       ["VIX L2", None, "VX", None, None, "2027-01-20", 1, None, None, None, None, None, None,
        None],
       ["Tail", None, "ETP", None, None, None, 100, None, None, 45.0, None, "VXX", None, None]]
MKT = [["Field", "Value"], ["ValuationDate", "2026-11-24"], ["ValuationTime", "16:00"],
       ["SpxSpot", 6700], ["Rate", 0.04], ["DivYield", 0.013], ["VixSpot", 17.5], ["Vvix", 95]]
CURVE = [["Expiry", "Price"], ["2026-12-16", 18.6], ["2027-01-20", 19.5],
         ["2027-02-17", 20.2], ["2027-03-17", 20.7], ["2027-04-21", 21.0]]
TH = [["Layer", "Limit", "Target", "Warn", "Basis"], ["VIX L1", 12, 520, 0.75, None],
      ["VIX L2", 12, 985, 0.75, None], ["Tail", 12, 20, 0.75, None],
      ["PORTFOLIO", 0.08, 0, 0.75, "Core"]]
# The last candidate names (in Underlying) a future the curve lacks: it cannot be valued
# (a weekly with Underlying blank would be, on the interpolated forward: SPEC §4).
CANDS = [["Instrument", "Type", "Strike", "Expiry", "IV", "Qty", "Underlying"],
         ["VIX", "P", 18, "2026-12-16", 0.9, None, None],
         ["VX", None, None, "2027-02-17", None, None, None],
         ["VIX", "C", 22, "2026-12-23", 0.9, None, "2026-12-23"]]


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.BOOKS.clear()
    cache.RESULTS.clear()
    yield


def engine():
    return value_book(parse_positions(POS), parse_market(MKT), parse_curve(CURVE))


def is_error(x):
    return isinstance(x, str) and x.startswith("#ALVH! ")


# ----------------------------------------------------------------------------- plain Python

def test_netvega_raw_weighted_and_by_layer():
    legs = engine().legs
    assert ALVH_NETVEGA(POS, MKT, CURVE) == legs["VolExposure"].sum()
    assert ALVH_NETVEGA(POS, MKT, CURVE, None, True) == legs["WeightedVolExposure"].sum()
    assert ALVH_NETVEGA(POS, MKT, CURVE, [["core"]], [[1.0]]) == \
        legs.loc[legs["Layer"] == "Core", "WeightedVolExposure"].sum()
    assert ALVH_NETVEGA(POS, MKT, CURVE, "Tail", "FALSE") == \
        legs.loc[legs["Layer"] == "Tail", "VolExposure"].sum()
    assert ALVH_NETVEGA(POS, MKT, CURVE, "Nope").startswith(
        "#ALVH! layer 'Nope' not found; layers: Core, VIX L1, VIX L2, Tail")
    assert ALVH_NETVEGA(POS, MKT, CURVE, None, "maybe") == \
        '#ALVH! weighted: expected TRUE or FALSE, got "maybe"'
    assert ALVH_NETVEGA(POS, MKT, CURVE, "#N/A") == "#ALVH! layer: holds the Excel error #N/A"


def test_netvega_refuses_to_sum_a_book_with_rows_left_out():
    bad = [*POS, ["Core", None, "SPX", "C", "abc", "2027-01-08", 1, None, 0.2, None, None,
                  None, None, None]]
    assert ALVH_NETVEGA(bad, MKT, CURVE) == (
        '#ALVH! INCOMPLETE: row 10 (Strike): expected a number, got "abc" (fix it, or see '
        "ALVH_LEGS for every row)")


def test_no_argument_netvega_explains_how_to_pass_ranges():
    text = ALVH_NETVEGA()
    assert is_error(text) and "=ALVH_NETVEGA(ALVH_POSITIONS, ALVH_MARKET, ALVH_CURVE)" in text


def test_legs_table_header_rows_and_footer():
    bad = [*POS, ["Core", None, "SPY", "C", 1, "2027-01-08", 1, None, 0.2, None, None, None,
                  None, None],
           ["Core", None, "SPX", "P", 6800, "2026-11-20", 1, None, 0.2, None, None, None,
            None, None]]
    cells = ALVH_LEGS(bad, MKT, CURVE)
    assert tuple(cells[0]) == LEG_COLUMNS
    body = [r for r in cells[1:] if r[0] not in ("Left out", "Note")]
    assert [r[0] for r in body] == [2, 3, 4, 5, 6, 7, 8, 9, 11]
    assert body[0][LEG_COLUMNS.index("Expiry")] == dt.date(2027, 1, 8)
    assert body[-2][LEG_COLUMNS.index("Expiry")] is None               # ETP: no expiry
    footer = [r[:2] for r in cells[len(body) + 1:]]
    assert footer == [["Left out", 'row 10 (Instrument): unknown instrument "SPY"; expected '
                                   "one of SPX, SPXW, XSP, VIX, VX, VXM, ES, MES, ETP"],
                      ["Note", "row 11 (Expiry): expired on 2026-11-20: valued at intrinsic, "
                               "Greeks 0"]]
    assert all(len(r) == len(LEG_COLUMNS) for r in cells)


def test_layers_function_matches_the_engine_with_thresholds():
    cells = ALVH_LAYERS(POS, MKT, CURVE, TH)
    assert cells[0] == list(LAYER_COLUMNS)
    body = [r for r in cells[1:] if r[0] not in ("Note", "Left out")]
    assert [r[0] for r in body] == ["Core", "VIX L1", "VIX L2", "Tail", "PORTFOLIO"]
    want = layers_table(engine(), parse_thresholds(TH))
    flag = LAYER_COLUMNS.index("Flag")
    for r, (_, w) in zip(body, want.iterrows(), strict=True):
        assert r[1:7] == [float(x) for x in w.iloc[1:7]]
        assert r[flag] == w["Flag"]
    assert body[0][7:] == ["", None, None, None, None, "no limit"]   # Core: no threshold row
    assert body[1][flag] == "OK" and body[2][flag] == "BREACH"  # |528.5−520| < 9, |1000−985| > 12
    assert body[-1][flag] == "BREACH"
    assert [r[1] for r in cells[len(body) + 1:]] == [
        "thresholds (Layer): layer 'Core' has no threshold row (no limit, no flag)"]


def test_layers_notes_a_missing_basis_layer_and_unknown_threshold_layers():
    cells = ALVH_LAYERS(POS[:1] + POS[5:7], MKT, CURVE, TH)
    assert [r[:2] for r in cells[3:]] == [
        ["Note", "thresholds (Basis): the PORTFOLIO basis layer 'Core' is not a layer of the "
                 "book: the portfolio has no limit"],
        ["Note", "thresholds (Layer): layer 'VIX L2' has a limit but no valued legs (none "
                 "listed, all left out, or spelt differently)"],
        ["Note", "thresholds (Layer): layer 'Tail' has a limit but no valued legs (none "
                 "listed, all left out, or spelt differently)"]]
    assert cells[2][0] == "PORTFOLIO" and cells[2][-4:] == [None, 0.75, None, "no limit"]


def test_layers_name_the_nearest_limited_layer_for_a_typo():
    typo = [POS[0], *POS[1:5], [*POS[5][:1], *POS[5][1:]], ["VIX L9", *POS[6][1:]]]
    cells = ALVH_LAYERS(typo, MKT, CURVE, TH)
    flag = LAYER_COLUMNS.index("Flag")
    assert next(r for r in cells if r[0] == "VIX L9")[flag] == "no limit"
    assert ["Note", "thresholds (Layer): layer 'VIX L9' has no threshold row (no limit, no "
                    "flag); did you mean 'VIX L1'?"] in [r[:2] for r in cells]


def test_buckets_default_and_custom_edges():
    cells = ALVH_BUCKETS(POS, MKT, CURVE)
    assert cells[0] == ["Bucket", "Core", "VIX L1", "VIX L2", "Tail", "Total"]
    assert [r[0] for r in cells[1:]] == ["0-7d", "8-30d", "31-60d", "61-90d", "91-180d",
                                         "180d+", "Total"]
    assert cells[-1][-1] == ALVH_NETVEGA(POS, MKT, CURVE)
    row_edges = ALVH_BUCKETS(POS, MKT, CURVE, [[14], [45], [None]])
    col_edges = ALVH_BUCKETS(POS, MKT, CURVE, [[14, 45]])
    assert row_edges == col_edges
    assert [r[0] for r in row_edges[1:]] == ["0-14d", "15-45d", "45d+", "Total"]
    want = bucket_table(engine(), (14.0, 45.0))
    assert row_edges[2][1:] == [float(x) for x in want.iloc[1, 1:]]
    assert ALVH_BUCKETS(POS, MKT, CURVE, [[30, 7]]) == (
        "#ALVH! edges must be increasing day counts, e.g. 7, 30, 60, 90, 180")
    assert ALVH_BUCKETS(POS, MKT, CURVE, [["x"]]) == '#ALVH! edges: expected a number, got "x"'


@pytest.mark.parametrize("args, expected", [
    ((7, 0.08 * 38), "BREACH"),
    ((9, 12), "WATCH"),
    ((12, 12), "WATCH"),
    ((8.99, 12), "OK"),
    ((-12.5, 12), "BREACH"),
    ((5, 10, 0.5), "WATCH"),
    (([[1, 9, 13]], 12), [["OK", "WATCH", "BREACH"]]),
    (([[1], [13]], [[12, 14]]), [["OK", "OK"], ["BREACH", "WATCH"]]),
    ((7, 0), "#ALVH! limit: expected a number > 0, got 0"),
    ((7, 12, 2), "#ALVH! warn: expected a fraction in (0, 1], got 2"),
    (("x", 12), '#ALVH! value: expected a number, got "x"'),
    ((None, 12), "#ALVH! value is blank"),
])
def test_flag_function(args, expected):
    assert ALVH_FLAG(*args) == expected


def test_hedge_function_lists_book_and_candidate_problems():
    bad = [*POS, ["Core", None, "SPX", "C", 6800, "2027-01-08", 1, None, 18, None, None, None,
                  None, None]]
    cells = ALVH_HEDGE(bad, MKT, CURVE, TH, CANDS)
    assert cells[0] == list(HEDGE_COLUMNS)
    body = [r for r in cells[1:] if r[0] not in ("Left out", "Note")]
    assert {r[0] for r in body} == {"VIX 2026-12-16 18P", "VX 2027-02-17"}
    notes = [r[1] for r in cells[len(body) + 1:]]
    assert notes[0].startswith("row 10 (IV): IV 18 is above 5")
    assert notes[1].startswith("candidates row 4 (Underlying): VIX option needs the VIX future "
                               "expiring 2026-12-23")
    put = next(r for r in body if r[0].startswith("VIX"))
    col = {h: j for j, h in enumerate(HEDGE_COLUMNS)}
    assert put[col["ExposurePerContract"]] < 0
    assert put[-1] == "lowers vol exposure per contract bought"
    assert abs(put[col["Residual"]]) <= abs(put[col["ExposurePerContract"]]) / 2
    assert {r[col["FlagAfter"]] for r in body} == {"INCOMPLETE"}    # a row was left out


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("positions, market, curve, match", [
    (None, MKT, CURVE, "#ALVH! positions: expected a table with a header row, got None"),
    ([["Layer", "Qty"], ["a", 1]], MKT, CURVE, "#ALVH! positions: missing column instrument"),
    ([H + ["qty"], POS[1] + [1]], MKT, CURVE, '#ALVH! positions: duplicate column "qty"'),
    (POS, [["Field", "Value"], ["SpxSpot", 1]], CURVE, "#ALVH! market: ValuationDate is "
                                                       "missing"),
    (POS, MKT, [["Expiry", "Price"], ["2026-12-16", "x"]], "#ALVH! row 2 (Price): curve: "
                                                            'expected a number, got "x"'),
    (POS, MKT, [["Expiry", "Price"], ["2026-12-16", "18,6"]], '#ALVH! row 2 (Price): curve: '
                                                               '"18,6" looks like a decimal '
                                                               "comma"),
    (POS, [*MKT[:3], ["SpxSpot", "6712,4"], *MKT[4:]], CURVE,
     '#ALVH! row 4 (Value): market SpxSpot: "6712,4" looks like a decimal comma'),
    ([["abc", "def"], ["x", "y"]], MKT, CURVE, "#ALVH! positions: missing columns layer, "
                                                "instrument, qty (header row has: abc, def)"),
    (POS, MKT, 5.0, "#ALVH! curve: expected a table with a header row, got 5.0"),
    ([[None]], MKT, CURVE, "#ALVH! positions: missing columns layer, instrument, qty"),
])
def test_bad_tables_give_alvh_text(positions, market, curve, match):
    for fn in (ALVH_NETVEGA, ALVH_LEGS, ALVH_LAYERS, ALVH_BUCKETS):
        out = fn(positions, market, curve)
        assert is_error(out) and out.startswith(match), (fn.__name__, out)


def test_bad_thresholds_and_candidates_give_alvh_text():
    bad_th = [["Layer", "Limit"], ["VIX L1", "twelve"]]
    assert ALVH_LAYERS(POS, MKT, CURVE, bad_th) == (
        '#ALVH! row 2 (Limit): thresholds: expected a number, got "twelve"')
    assert ALVH_HEDGE(POS, MKT, CURVE, TH, [["Strike"], [1]]).startswith(
        "#ALVH! candidates: missing column instrument")


CELL = st.one_of(st.none(), st.text(max_size=6), st.floats(allow_nan=True, allow_infinity=True),
                 st.integers(-10**6, 10**6), st.booleans(),
                 st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
                 st.sampled_from(["SPX", "VIX", "VX", "ETP", "C", "P", "2027-01-08", "VXX",
                                  "Core", "", " "]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=16), max_size=6),
       header=st.permutations(H), market_value=CELL)
def test_garbage_never_raises(rows, header, market_value):
    positions = [list(header), *rows]
    market = [*MKT, ["Rate", market_value]]
    for out in (ALVH_LAYERS(positions, market, CURVE, TH), ALVH_LEGS(positions, MKT, CURVE),
                ALVH_BUCKETS(positions, MKT, CURVE), ALVH_HEDGE(positions, MKT, CURVE, TH, CANDS)):
        assert isinstance(out, list) or is_error(out)
    out = ALVH_NETVEGA(positions, MKT, CURVE)
    assert isinstance(out, float) or is_error(out)


# ----------------------------------------------------------------------------- cache

def test_repeated_calls_hit_the_cache():
    from alvh_xl.xl.registry import call

    first = call("ALVH_LAYERS", POS, MKT, CURVE, TH)
    again = call("ALVH_LAYERS", [list(r) for r in POS], MKT, CURVE, TH)
    assert again == first
    assert cache.RESULTS.hits == 1 and cache.BOOKS.misses == 1
    call("ALVH_BUCKETS", POS, MKT, CURVE)               # same book, another function
    assert cache.BOOKS.hits == 1


def test_cache_key_tells_true_from_one():
    one = [*POS[:1], ["Core", None, "SPX", "C", 7000, "2027-01-08", 1, None, 0.2, None, None,
                      None, None, None]]
    true = [one[0], [*one[1][:6], True, *one[1][7:]]]
    assert isinstance(ALVH_NETVEGA(one, MKT, CURVE), float)
    assert ALVH_NETVEGA(true, MKT, CURVE) == (
        "#ALVH! INCOMPLETE: row 2 (Qty): expected a number, got TRUE (fix it, or see "
        "ALVH_LEGS for every row)")


def test_cache_is_bounded():
    lru = cache.LRU(size=3, max_cells=100)
    for i in range(5):
        lru.get_or_compute((i,), lambda i=i: i)
    assert len(lru) == 3
    big = tuple((j,) * 10 for j in range(8))            # 80 cells
    lru.get_or_compute(("a", big), lambda: "a")
    assert len(lru) <= 3 and lru.cells <= 100
    lru.get_or_compute(("b", big + big), lambda: "b")   # 160 cells: computed, not kept
    assert lru.get_or_compute(("b", big + big), lambda: "again") == "again"


# ----------------------------------------------------------------------------- 500 legs

def test_500_leg_book_plain_python_matches_the_engine():
    pos, mkt, crv, th = make_book(500, dates="datetime"), market_table(), curve_table(), \
        thresholds_table()
    cells = ALVH_LAYERS(pos, mkt, crv, th)
    cells = [r for r in cells if r[0] not in ("Note", "Left out")]
    val = value_book(parse_positions(pos), parse_market(mkt), parse_curve(crv))
    want = layers_table(val, parse_thresholds(th))
    assert [r[0] for r in cells[1:]] == want["Layer"].tolist()
    assert np.array([r[1:7] for r in cells[1:]], dtype=float).tolist() == \
        want.iloc[:, 1:7].to_numpy(float).tolist()
    assert cells[-1][1] == ALVH_NETVEGA(pos, mkt, crv)


# ----------------------------------------------------------------------------- via xlwings

@needs_xlwings
def test_functions_through_xlwings():
    assert xl_call("ALVH_NETVEGA", POS, MKT, CURVE) == [[ALVH_NETVEGA(POS, MKT, CURVE)]]
    assert xl_call("ALVH_NETVEGA", POS, MKT, CURVE, "VIX L1", True) == \
        [[ALVH_NETVEGA(POS, MKT, CURVE, "VIX L1", True)]]
    assert xl_call("ALVH_FLAG", 7, 0.08 * 38) == [["BREACH"]]
    assert xl_call("ALVH_FLAG", [[1, 9, 13]], 12) == [["OK", "WATCH", "BREACH"]]
    layers = xl_call("ALVH_LAYERS", POS, MKT, CURVE, TH)
    plain = ALVH_LAYERS(POS, MKT, CURVE, TH)
    assert layers == [[("" if v is None else v) for v in r] for r in plain]
    buckets = xl_call("ALVH_BUCKETS", POS, MKT, CURVE, [[7, 30, 90]])
    assert buckets[0] == ["Bucket", "Core", "VIX L1", "VIX L2", "Tail", "Total"]
    assert buckets[-1][-1] == ALVH_NETVEGA(POS, MKT, CURVE)
    legs = xl_call("ALVH_LEGS", POS, MKT, CURVE)
    assert legs[0] == list(LEG_COLUMNS) and len(legs) == len(POS)
    hedge = xl_call("ALVH_HEDGE", POS, MKT, CURVE, TH, CANDS)
    assert hedge[0] == list(HEDGE_COLUMNS)


@needs_xlwings
def test_errors_through_xlwings_are_cell_text():
    (out,), = xl_call("ALVH_NETVEGA")
    assert out.startswith("#ALVH! pass the input ranges, e.g. =ALVH_NETVEGA(ALVH_POSITIONS")
    (out,), = xl_call("ALVH_LAYERS", [["Layer", "Qty"], ["a", 1]], MKT, CURVE)
    assert out.startswith("#ALVH! positions: missing column instrument")


@needs_xlwings
def test_500_leg_table_through_xlwings_with_serial_dates():
    pos = make_book(500, dates="serial")
    mkt = [["Field", "Value"], ["ValuationDate", 46350.0], ["SpxSpot", 6700.0],
           ["Rate", 0.04], ["DivYield", 0.013]]
    crv = [["Expiry", "Price"]] + [[float((dt.datetime.combine(e, dt.time()) - dt.datetime(
        1899, 12, 30)).days), p] for e, p in zip(*_curve(), strict=True)]
    th = thresholds_table()
    out = xl_call("ALVH_LAYERS", pos, mkt, crv, th)
    plain = ALVH_LAYERS(pos, mkt, crv, th)
    assert out == [[("" if v is None else v) for v in r] for r in plain]
    body = [r for r in out if r[0] not in ("Note", "Left out")]
    assert len(body) == 1 + 8 + 1
    assert body[-1][1] == xl_call("ALVH_NETVEGA", pos, mkt, crv)[0][0]
    iso = xl_call("ALVH_LAYERS", make_book(500, dates="iso"), MKT, CURVE, th)
    assert [r for r in iso if r[0] not in ("Note", "Left out")][-1][0] == "PORTFOLIO"


def _curve():
    from alvh_xl.tools.synthetic import CURVE_EXPIRIES, CURVE_PRICES
    return CURVE_EXPIRIES, CURVE_PRICES


def test_cache_keys_of_dataframes_and_unknown_objects_never_collide():
    import pandas as pd

    a = pd.DataFrame(make_book(300)[1:], columns=H)
    b = a.copy()
    b.loc[150, "Qty"] = b.loc[150, "Qty"] + 1.0          # hidden from a truncated repr
    assert repr(a) == repr(b)
    assert cache.freeze(a) != cache.freeze(b)
    assert cache.freeze(object()) != cache.freeze(object())
    assert cache.freeze([[1.0, True]]) != cache.freeze([[1.0, 1.0]])
    assert cache.freeze([[1.0, "x", None]]) == cache.freeze([[1, "x", None]])


def test_layer_given_as_a_number_matches_a_numeric_layer_name():
    pos = [H, ["1", None, "VX", None, None, "2027-01-20", 2, None, None, None, None, None,
               None, None]]
    assert ALVH_NETVEGA(pos, MKT, CURVE, 1.0) == 2000.0


def test_no_argument_netvega_reads_the_workbook_names_in_classic_excel(monkeypatch):
    """Classic Windows xlwings passes a hidden ``caller`` range; the names are read from its
    workbook (simulated here with stand-ins for the xlwings objects)."""
    from alvh_xl.xl import registry

    class Range:
        def __init__(self, values):
            self.values = values

        def options(self, ndim, err_to_str):
            assert ndim == 2 and err_to_str
            return type("R", (), {"value": self.values})()

    class Names(dict):                       # xlwings' Names: iterates Name objects
        def __iter__(self):
            return iter(self.values())

    def name(k, v):
        return type("N", (), {"name": k, "refers_to_range": Range(v)})()

    names = {"ALVH_POSITIONS": POS, "ALVH_MARKET": MKT, "ALVH_CURVE": CURVE}
    book = type("Book", (), {"names": Names({k: name(k, v) for k, v in names.items()})})()
    caller = type("Caller", (), {"sheet": type("S", (), {"book": book})()})()
    import inspect

    monkeypatch.setattr(registry, "CLASSIC", True)
    params = list(inspect.signature(ALVH_NETVEGA).parameters.values())
    fn = registry._classic(ALVH_NETVEGA, params, registry.WORKBOOK_INPUTS)
    # xlwings passes ``caller`` after every parameter (the last one is ``forwards``)
    assert fn(None, None, None, None, False, None, caller) == ALVH_NETVEGA(POS, MKT, CURVE)
    assert fn(None, None, None, "Tail", False, None, caller) == ALVH_NETVEGA(POS, MKT, CURVE,
                                                                           "Tail")
    # a workbook with ALVH_FORWARDS: the no-argument form reads it too (SPX legs on forwards)
    fwd = [["Expiry", "Forward", "Discount"], ["2027-01-08", 6731.5, 0.9935]]
    book.names["ALVH_FORWARDS"] = name("ALVH_FORWARDS", fwd)
    on_forward = ALVH_NETVEGA(POS, MKT, CURVE, forwards=fwd)
    assert on_forward != ALVH_NETVEGA(POS, MKT, CURVE)
    assert fn(None, None, None, None, False, None, caller) == on_forward
    del book.names["ALVH_CURVE"]
    assert fn(None, None, None, None, False, None, caller) == (
        "#ALVH! defined name ALVH_CURVE does not refer to one range")


def test_flag_is_per_cell_and_reports_clashing_shapes():
    assert ALVH_FLAG([[1], [2]], [[5], [-1]]) == [
        ["OK"], ["#ALVH! limit (row 2 of its range): expected a number > 0, got -1"]]
    assert ALVH_FLAG([[1], [2], [3]], [[1], [2]]) == "#ALVH! ranges do not line up: value 3x1, " \
                                                     "limit 2x1"
    assert ALVH_FLAG(5, float("inf")).startswith("#ALVH! limit: expected a finite number")


def test_empty_ranges_count_as_omitted():
    base = ALVH_NETVEGA(POS, MKT, CURVE)
    assert ALVH_NETVEGA(POS, MKT, CURVE, [], [[]]) == base


def test_market_rejects_duplicate_and_unknown_fields():
    dup = [*MKT, ["SpxSpot", 6800]]
    assert "SpxSpot is given twice" in ALVH_NETVEGA(POS, dup, CURVE)
    typo = [*MKT, ["RiskFreeRate", 0.04]]
    assert 'unknown field "RiskFreeRate"' in ALVH_NETVEGA(POS, typo, CURVE)


def test_flag_bad_cells_do_not_reach_the_arithmetic():
    # pytest turns RuntimeWarning into an error: an overflow on the bad cell would fail here.
    assert ALVH_FLAG(5, 10, 1e308) == "#ALVH! warn: expected a fraction in (0, 1], got 1e+308"
