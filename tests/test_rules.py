"""The layer rules table: parsing (problems name the rule row and column), first match
wins, blanks match anything, {n} numbers expiries in order, the default rules."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from alvh_xl.book.rules import (
    DEFAULT_RULES,
    RULE_HEADERS,
    assign_layers,
    default_rules_table,
    parse_layer_rules,
)
from alvh_xl.errors import InputError

NAT = np.datetime64("NaT", "D")


def _legs(*legs):
    inst, root, exp, strat = zip(*legs, strict=True)
    return (np.array(inst, dtype=object), np.array(root, dtype=object),
            np.array([np.datetime64(e, "D") if e else NAT for e in exp]),
            np.array(strat, dtype=object))


BOOK = _legs(("SPXW", "SPXW", "2026-12-18", ""), ("SPX", "SPX", "2026-12-18", ""),
             ("VIX", "VIX", "2026-11-18", ""), ("VX", "VX", "2026-12-16", ""),
             ("VIX", "VIXW", "2026-11-25", ""), ("VX", "VX", "2026-11-18", ""),
             ("ETP", "VXX", None, ""), ("ETP", "UVXY", "2026-12-18", ""),
             ("MES", "MES", "2026-12-18", ""), ("XSP", "XSP", "2026-12-18", ""))


def test_default_rules():
    layers, reasons = assign_layers(*BOOK, DEFAULT_RULES)
    assert layers.tolist() == ["Core", "Core", "VIX L1", "VIX L3", "VIX L2", "VIX L1", "Tail",
                               "Tail", "Core", "Core"]
    assert not any(reasons)


def test_default_rules_table_parses_back():
    table = default_rules_table()
    assert table[0] == list(RULE_HEADERS)
    assert tuple(parse_layer_rules(table)) == tuple(
        r.__class__(r.layer, r.instruments, r.roots, r.expiry_from, r.expiry_to, r.strategy,
                    i) for i, r in enumerate(DEFAULT_RULES, start=2))


def test_first_match_wins_and_ranges_and_roots(tmp_path):
    path = tmp_path / "rules.csv"
    path.write_text("instrument,ROOT,Expiry From,ExpiryTo,Strategy,Layer\n"
                    "VIX,VIXW,,,,VIX weeklies\n"
                    "\"VIX, VX\",,2026-11-01,2026-11-30,,VIX Nov\n"
                    "VIX;VX,,,,,VIX back {n}\n"
                    ",,,,,Other\n")
    rules = parse_layer_rules(path)
    layers, reasons = assign_layers(*BOOK, rules)
    assert layers.tolist() == ["Other", "Other", "VIX Nov", "VIX back 1", "VIX weeklies",
                               "VIX Nov", "Other", "Other", "Other", "Other"]


def test_strategy_criterion_and_unmatched_legs():
    rules = parse_layer_rules([["Strategy", "Layer"], ["ic-dec", "Core"]])
    legs = _legs(("SPX", "SPX", "2026-12-18", "IC-Dec"), ("SPX", "SPX", "2026-12-18", ""))
    layers, reasons = assign_layers(*legs, rules)
    assert layers.tolist() == ["Core", ""]
    assert reasons.tolist() == ["", "no layer rule matches"]


def test_expiry_order_needs_an_expiry():
    rules = parse_layer_rules([["Instrument", "Layer"], ["ETP", "Tail {n}"]])
    legs = _legs(("ETP", "VXX", None, ""), ("ETP", "VXX", "2026-12-18", ""))
    layers, reasons = assign_layers(*legs, rules)
    assert layers.tolist() == ["", "Tail 1"]
    assert "no expiry to order by" in reasons[0] and "row 2" in reasons[0]


def test_problems_name_the_rule_row_and_column():
    cells = [["Instrument", "ExpiryFrom", "ExpiryTo", "Layer"],
             ["VIX", "soon", None, "L1"],
             ["FOO", None, None, "X {k}"],
             ["VX", dt.date(2027, 1, 1), dt.date(2026, 1, 1), None]]
    with pytest.raises(InputError) as err:
        parse_layer_rules(cells, name="LayerRulesTable", first_row=4)
    text = str(err.value)
    for part in ('LayerRulesTable row 5 (ExpiryFrom): expected a date, got "soon"',
                 "row 6 (Instrument): FOO unknown", "row 6 (Layer)",
                 "row 7 (Layer): blank", "row 7: ExpiryFrom 2027-01-01 is after ExpiryTo"):
        assert part in text, f"missing {part!r} in {text!r}"


def test_missing_layer_column():
    with pytest.raises(InputError, match="missing column layer"):
        parse_layer_rules([["Instrument"], ["VIX"]])
