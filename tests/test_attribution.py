"""P&L attribution between history snapshots: exact sums, linear legs, second-order rest."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from test_history import POS, valuation

from alvh_xl.errors import InputError
from alvh_xl.risk.attribution import ATTRIBUTION_COLUMNS, PARTS, attribute, iso_date
from alvh_xl.risk.history import append_snapshot, snapshot

LAYERS = ["Core", "VIX L1", "VIX L2", "Tail", "TOTAL"]


def two_day_history(tmp_path, eps=1.0, time_from="16:00", time_to="16:00", **to_kwargs):
    """History with the sample book on 24 Nov and 25 Nov, the market moved by ``eps``×
    (SPX +0.5 %, implied vols +0.3 pt, VIX futures +0.3, VXX +1 %)."""
    path = tmp_path / f"h{eps:g}.csv"
    a = valuation("2026-11-24", time_from)
    b = valuation("2026-11-25", time_to, spot=6700 * (1 + 0.005 * eps), iv_bump=0.003 * eps,
                  fut_bump=0.3 * eps, etp=45 * (1 + 0.01 * eps), **to_kwargs)
    append_snapshot(path, snapshot(a))
    return append_snapshot(path, snapshot(b)), a, b


def test_parts_sum_to_realised_and_realised_is_the_value_change(tmp_path):
    hist, a, b = two_day_history(tmp_path)
    att = attribute(hist)
    assert list(att.columns) == list(ATTRIBUTION_COLUMNS)
    assert list(att["Layer"]) == LAYERS
    assert set(att["From"]) == {"2026-11-24"} and set(att["To"]) == {"2026-11-25"}
    assert att["Days"].iat[0] == 1.0
    explained = att[list(PARTS)].sum(axis=1) + att["Unexplained"]
    np.testing.assert_allclose(explained, att["Realised"], rtol=1e-12, atol=1e-9)
    # Independent: the same legs, so realised = Σ value(25 Nov) − Σ value(24 Nov) per layer.
    diff = (b.legs.groupby("Layer")["Value"].sum() - a.legs.groupby("Layer")["Value"].sum())
    got = att.set_index("Layer")["Realised"]
    for layer in LAYERS[:-1]:
        assert got[layer] == pytest.approx(diff[layer], rel=1e-12)
    assert got["TOTAL"] == pytest.approx(diff.sum(), rel=1e-12)
    np.testing.assert_allclose(att.iloc[-1, 4:], att.iloc[:-1, 4:].sum(axis=0), rtol=1e-12)
    assert list(att["Legs"]) == [4, 2, 1, 1, 8]


def test_futures_and_etps_move_is_their_vol_exposure(tmp_path):
    att = attribute(two_day_history(tmp_path)[0]).set_index("Layer")
    # VX future: 1 × 1000 × 0.3 = 300; VXX: 100 shares × 0.45 = 45, nothing unexplained.
    assert att.loc["VIX L2", "Realised"] == pytest.approx(300.0, rel=1e-12)
    assert att.loc["Tail", "Realised"] == pytest.approx(45.0, rel=1e-12)
    for layer in ("VIX L2", "Tail"):
        # A VIX-linked leg's move with its future is its vol exposure at work: Vega.
        assert att.loc[layer, "Vega"] == pytest.approx(att.loc[layer, "Realised"], rel=1e-12)
        assert att.loc[layer, ["Delta", "Gamma", "VolOfVol", "Theta"]].abs().max() == 0.0
        assert abs(att.loc[layer, "Unexplained"]) < 1e-9


def test_one_day_move_is_mostly_explained(tmp_path):
    att = attribute(two_day_history(tmp_path)[0]).set_index("Layer")
    # Measured: Core unexplained 18.9 of −1270 realised (charm, vanna, volga over one day).
    for layer in ("Core", "VIX L1", "TOTAL"):
        assert abs(att.loc[layer, "Unexplained"]) < 0.03 * abs(att.loc[layer, "Realised"])
    assert att.loc["Core", "Theta"] > 0 > att.loc["Core", "Vega"]    # short premium
    assert att.loc["Core", "VolOfVol"] == 0.0                         # SPX legs: no vol-of-vol
    assert att.loc["VIX L1", "Delta"] == 0.0 < att.loc["VIX L1", "Vega"]   # futures rose


def test_unexplained_is_higher_order_for_a_tiny_move(tmp_path):
    """One minute apart (23:59 → 00:00): halving the move halves realised P&L but cuts the
    unexplained part at least by ~4 (second order or higher)."""
    res = {}
    for eps in (0.4, 0.2):
        hist, _, _ = two_day_history(tmp_path, eps, time_from="23:59", time_to="00:00")
        res[eps] = attribute(hist).set_index("Layer")
    assert res[0.4]["Days"].iat[0] == pytest.approx(1 / 1440)
    for layer in ("Core", "VIX L1", "TOTAL"):
        big, small = res[0.4].loc[layer], res[0.2].loc[layer]
        assert small["Realised"] / big["Realised"] == pytest.approx(0.5, abs=0.05)
        assert abs(small["Unexplained"]) < 0.3 * abs(big["Unexplained"])
        assert abs(big["Unexplained"]) < 2e-3 * abs(big["Realised"])


def test_new_closed_and_resized_legs(tmp_path):
    path = tmp_path / "h.csv"
    append_snapshot(path, snapshot(valuation("2026-11-24")))
    pos = copy.deepcopy(POS)
    pos[1][6] = -5                                           # resize the 6300 put
    del pos[8]                                               # close the ETP
    pos.append(["VIX L2", None, "VX", None, None, "2027-02-17", 2, None, None, None, None,
                None, None, None])                           # open a Feb future
    hist = append_snapshot(path, snapshot(valuation("2026-11-25", spot=6710, positions=pos)))
    att = attribute(hist).set_index("Layer")
    assert att.loc["TOTAL", ["Legs", "NewLegs", "ClosedLegs", "Resized"]].tolist() == [7, 1, 1, 1]
    assert att.loc["Tail", ["Legs", "ClosedLegs", "Realised"]].tolist() == [0, 1, 0.0]
    assert att.loc["VIX L2", ["Legs", "NewLegs"]].tolist() == [1, 1]
    # The resized leg earns the P&L of its earlier quantity (−10), not of the new one.
    a, b = valuation("2026-11-24"), valuation("2026-11-25", spot=6710, positions=pos)
    core_a = a.legs[a.legs["Layer"] == "Core"]
    unit_b = b.legs.loc[b.legs["Layer"] == "Core", "Price"].to_numpy()
    expect = float((core_a["Qty"] * core_a["Multiplier"] * (unit_b - core_a["Price"])).sum())
    assert att.loc["Core", "Realised"] == pytest.approx(expect, rel=1e-12)


def test_date_selection(tmp_path):
    path = tmp_path / "h.csv"
    for i, date in enumerate(("2026-11-24", "2026-11-25", "2026-11-27")):
        hist = append_snapshot(path, snapshot(valuation(date, spot=6700 + 10 * i)))
    pairs = lambda f: list(dict.fromkeys(zip(f["From"], f["To"], strict=True)))  # noqa: E731
    assert pairs(attribute(hist)) == [("2026-11-24", "2026-11-25"),
                                      ("2026-11-25", "2026-11-27")]
    span = attribute(hist, "2026-11-24", "2026-11-27")
    assert pairs(span) == [("2026-11-24", "2026-11-27")] and span["Days"].iat[0] == 3.0
    assert pairs(attribute(hist, date_from="2026-11-25")) == [("2026-11-25", "2026-11-27")]
    assert pairs(attribute(hist, date_to="2026-11-26")) == [("2026-11-24", "2026-11-25")]
    # The span's realised P&L is the sum of the consecutive ones (same legs, no trades).
    daily = attribute(hist).groupby("Layer", sort=False)["Realised"].sum()
    np.testing.assert_allclose(span.set_index("Layer")["Realised"], daily[span["Layer"]])
    with pytest.raises(InputError, match="no snapshot dated 2026-11-26"):
        attribute(hist, "2026-11-24", "2026-11-26")
    with pytest.raises(InputError, match="must be before"):
        attribute(hist, "2026-11-25", "2026-11-24")
    with pytest.raises(InputError, match="two snapshots"):
        attribute(hist, date_from="2026-11-27")
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        attribute(hist, date_from="25/11/2026")
    with pytest.raises(InputError, match="missing"):
        attribute(pd.DataFrame({"Date": ["2026-11-24"], "Level": ["book"]}))
    assert iso_date(pd.Timestamp("2026-11-24 16:00")) == "2026-11-24"


def test_attribution_command(tmp_path, capsys):
    import argparse
    import json

    from alvh_xl.commands import attribution as cmd

    hist, _, _ = two_day_history(tmp_path)
    path = tmp_path / "h1.csv"
    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    args = parser.parse_args([str(path), "--from", "2026-11-24", "--to", "2026-11-25",
                              "--json"])
    assert (args.date_from, args.date_to) == ("2026-11-24", "2026-11-25")
    assert cmd.run(args) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["Layer"] for r in records] == LAYERS
    total = records[-1]
    assert total["Realised"] == pytest.approx(
        sum(total[k] for k in (*PARTS, "Unexplained")), rel=1e-9)
    assert total["Realised"] == pytest.approx(attribute(hist)["Realised"].iat[-1], rel=1e-9)
    args.json = False
    assert cmd.run(args) == 0
    text = capsys.readouterr().out
    assert "2026-11-24 → 2026-11-25" in text and "TOTAL" in text and "Unexplained" in text
    assert f"{total['Realised']:,.2f}" in text


def test_book_with_every_leg_left_out(tmp_path):
    path = tmp_path / "h.csv"
    append_snapshot(path, snapshot(valuation("2026-11-24")))
    broken = [POS[0], ["Core", "IC", "SPX", "P", "abc", "2027-01-08", -1, None, 0.2, None,
                       None, None, None, None]]
    snap = snapshot(valuation("2026-11-25", positions=broken))
    assert list(snap["Level"]) == ["book"] and snap["LeftOut"].iat[0] == 1
    att = attribute(append_snapshot(path, snap)).set_index("Layer")
    assert att.loc["TOTAL", ["Legs", "ClosedLegs", "Realised", "Unexplained"]].tolist() == [
        0, 8, 0.0, 0.0]


def test_attribution_table_fits_an_80_column_terminal(tmp_path):
    """At 80 columns every number is printed whole (split into parts repeating the Layer
    column), never cut to "…" (review finding: `alvh-xl attribution` in an 80-column
    terminal showed "111…", "-18…")."""
    import io

    from rich.console import Console

    from alvh_xl.commands.attribution import print_attribution

    att = attribute(two_day_history(tmp_path)[0])
    out = io.StringIO()
    print_attribution(att, Console(file=out, width=80, color_system=None))
    text = out.getvalue()
    widest = max(len(line) for line in text.splitlines())
    assert "…" not in text and widest <= 80, f"width 80, widest line {widest}:\n{text}"
    for rec in att.to_dict("records"):
        for col in ("Realised", "Delta", "Gamma", "Vega", "VolOfVol", "Theta", "Unexplained"):
            assert f"{rec[col]:,.2f}" in text, (rec["Layer"], col, rec[col], text)
        assert str(rec["Layer"]) in text


def _held_value_change(a, b) -> float:
    """Independent book P&L of an unchanged book: Σ Qty·Multiplier·(Price_to − Price_from),
    pairing the legs by their row in the positions table (the same rows on both dates)."""
    pa = a.legs.set_index("Row")
    pb = b.legs.set_index("Row").loc[pa.index]
    return float((pa["Qty"] * pa["Multiplier"] * (pb["Price"] - pa["Price"])).sum())


def test_a_leg_priced_on_a_forward_the_next_day_is_still_the_same_leg(tmp_path):
    """Marking the book from a Cboe chain adds the condor's expiry to ALVH_FORWARDS: the SPX
    legs are then priced on that forward ('SPX fwd 2027-01-08'), but they are the same
    contracts, held on both dates; their P&L must not be dropped as closed + new legs."""
    from test_history import CURVE, MKT

    from alvh_xl.book import parse_curve, parse_market, parse_positions
    from alvh_xl.book.forwards import parse_forwards
    from alvh_xl.risk.valuation import value_book

    path = tmp_path / "h.csv"
    a = valuation("2026-11-24")
    mkt = copy.deepcopy(MKT)
    mkt[1][1], mkt[3][1] = "2026-11-25", 6710.0
    t = (pd.Timestamp("2027-01-08 16:00") - pd.Timestamp("2026-11-25 16:00")).days / 365.0
    fwd = 6710.0 * np.exp((0.04 - 0.013) * t)            # the carry forward, by hand
    forwards = parse_forwards([["Expiry", "Forward", "Discount"],
                               ["2027-01-08", fwd, float(np.exp(-0.04 * t))]])
    b = value_book(parse_positions(POS), parse_market(mkt), parse_curve(CURVE), forwards)
    assert b.legs["Underlying"].str.startswith("SPX fwd").sum() == 4, b.legs["Underlying"]
    append_snapshot(path, snapshot(a))
    att = attribute(append_snapshot(path, snapshot(b))).set_index("Layer")
    counts = att.loc["TOTAL", ["Legs", "NewLegs", "ClosedLegs"]].tolist()
    assert counts == [8, 0, 0], f"legs held / new / closed: expected [8, 0, 0], got {counts}"
    expected = _held_value_change(a, b)
    got = att.loc["TOTAL", "Realised"]
    assert got == pytest.approx(expected, rel=1e-12), (
        f"TOTAL Realised {got} vs independent Σ Qty·Mult·ΔPrice {expected} (rel 1e-12)")


def test_a_renamed_layer_keeps_its_legs_pnl_and_says_they_moved(tmp_path):
    """The trader renames layer Tail to 'Tail Hedge' overnight: its VXX shares were held on
    both dates, so their P&L is in the TOTAL (earned in the earlier layer, as the earlier
    quantity's is) and the move is said (Moved), not shown as a close and a new trade."""
    path = tmp_path / "h.csv"
    pos = copy.deepcopy(POS)
    pos[8][0] = "Tail Hedge"
    a = valuation("2026-11-24")
    b = valuation("2026-11-25", spot=6710, fut_bump=0.3, etp=46.0, positions=pos)
    append_snapshot(path, snapshot(a))
    att = attribute(append_snapshot(path, snapshot(b))).set_index("Layer")
    counts = att.loc["TOTAL", ["Legs", "NewLegs", "ClosedLegs", "Moved"]].tolist()
    assert counts == [8, 0, 0, 1], f"held / new / closed / moved: expected [8, 0, 0, 1], " \
                                    f"got {counts}"
    assert att.loc["Tail", "Moved"] == 1 and att.loc["Tail Hedge", "Legs"] == 0
    # VXX shares: 100 × (46 − 45) = 100 $, earned in the layer they were in on 24 Nov.
    assert att.loc["Tail", "Realised"] == pytest.approx(100.0, rel=1e-12)
    expected = _held_value_change(a, b)
    got = att.loc["TOTAL", "Realised"]
    assert got == pytest.approx(expected, rel=1e-12), (
        f"TOTAL Realised {got} vs independent Σ Qty·Mult·ΔPrice {expected} (rel 1e-12)")


def test_a_leg_left_out_by_an_input_error_is_said_not_shown_as_closed(tmp_path, capsys):
    """'ten' typed in a Qty on 25 Nov leaves that leg out of the 25 Nov snapshot (its book row
    says LeftOut 1). The leg was not closed: the attribution says the pair is incomplete
    (LeftOut on the TOTAL row; the command prints INCOMPLETE with the date)."""
    import argparse

    from alvh_xl.commands import attribution as cmd

    path = tmp_path / "h.csv"
    append_snapshot(path, snapshot(valuation("2026-11-24")))
    pos = copy.deepcopy(POS)
    pos[7][6] = "ten"                                         # the VX future's Qty
    snap = snapshot(valuation("2026-11-25", spot=6710, positions=pos))
    assert snap.loc[snap["Level"] == "book", "LeftOut"].iat[0] == 1
    att = attribute(append_snapshot(path, snap)).set_index("Layer")
    assert att.loc["TOTAL", "LeftOut"] == 1, att["LeftOut"]
    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    assert cmd.run(parser.parse_args([str(path)])) == 0
    text = capsys.readouterr().out
    assert "INCOMPLETE" in text and "2026-11-25" in text and "left out" in text, text
