"""History store: snapshot contents, same-date replacement, atomic writes under SIGKILL."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alvh_xl.book import parse_curve, parse_market, parse_positions, parse_thresholds
from alvh_xl.errors import InputError, MissingInputError
from alvh_xl.risk.aggregation import layers_table
from alvh_xl.risk.history import (
    append_snapshot,
    default_history_path,
    history_sheet_rows,
    leg_keys,
    read_history,
    snapshot,
)
from alvh_xl.risk.scenarios import shock_ladder
from alvh_xl.risk.valuation import value_book

POS = [["Layer", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Qty", "Multiplier",
        "IV", "Price", "EntryPrice", "Underlying", "Leverage", "Beta"],
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
       ["SpxSpot", 6700], ["Rate", 0.04], ["DivYield", 0.013], ["VixSpot", 17.5],
       ["Vvix", 95]]
CURVE = [["Expiry", "Price"], ["2026-12-16", 18.6], ["2027-01-20", 19.5],
         ["2027-02-17", 20.2], ["2027-03-17", 20.7], ["2027-04-21", 21.0]]
TH = [["Layer", "Limit", "Target", "Warn", "Basis"], ["VIX L1", 12, 30, 0.75, None],
      ["VIX L2", 12, 900, 0.75, None], ["Tail", 12, 20, 0.75, None],
      ["PORTFOLIO", 0.08, 0, 0.75, "Core"]]
ROOT = Path(__file__).parent.parent


def valuation(date="2026-11-24", time_="16:00", spot=6700.0, iv_bump=0.0, fut_bump=0.0,
              etp=45.0, positions=None):
    """The sample book valued on ``date`` with the market moved as asked."""
    pos, mkt, cur = copy.deepcopy(positions or POS), copy.deepcopy(MKT), copy.deepcopy(CURVE)
    for r in pos[1:]:
        if r[8] is not None:
            r[8] += iv_bump
        if r[2] == "ETP":
            r[9] = etp
    mkt[1][1], mkt[2][1], mkt[3][1] = date, time_, spot
    for r in cur[1:]:
        r[1] += fut_bump
    return value_book(parse_positions(pos), parse_market(mkt), parse_curve(cur))


def test_snapshot_layer_rows_match_engine_tables():
    val = valuation()
    th = parse_thresholds(TH)
    snap = snapshot(val, th)
    layers = layers_table(val, th)
    agg = snap[snap["Level"] != "leg"].set_index("Layer")
    assert list(snap["Level"][:5]) == ["book", "layer", "layer", "layer", "layer"]
    assert set(snap["Date"]) == {"2026-11-24"} and set(snap["Time"]) == {"16:00:00"}
    for col in ("RawVega", "WeightedVega", "VolOfVolVega", "Theta", "Limit", "Utilization"):
        np.testing.assert_allclose(agg.loc[layers["Layer"], col], layers[col], rtol=1e-12)
    np.testing.assert_allclose(agg.loc[layers["Layer"], "DollarDelta"], layers["Delta"])
    assert list(agg.loc[layers["Layer"], "Flag"].fillna("")) == list(layers["Flag"])
    assert list(agg.loc[["VIX L1", "VIX L2", "Tail"], "Flag"]) == ["BREACH"] * 3
    assert agg.loc["Core", "Flag"] == "no limit"     # no threshold row: said so
    ladder = shock_ladder(val, by_layer=True)
    for _, row in ladder.iterrows():
        col = f"Shock{row['Shift']:+g}"
        assert agg.loc["PORTFOLIO", col] == pytest.approx(row["FullPnL"], abs=1e-8)
        for layer in ("Core", "VIX L1", "VIX L2", "Tail"):
            assert agg.loc[layer, col] == pytest.approx(row[layer], abs=1e-8)
    # Independent closed form: one VX future moves F + w·Δ, so P&L = 1000 · w · Δ.
    w = float(val.legs.loc[val.legs["Instrument"] == "VX", "Weight"].iat[0])
    assert agg.loc["VIX L2", "Shock-10"] == pytest.approx(1000 * w * -10, rel=1e-12)
    assert agg.loc["PORTFOLIO", "SpxSpot"] == 6700 and agg.loc["PORTFOLIO", "Vvix"] == 95
    assert agg.loc["PORTFOLIO", "LeftOut"] == 0


def test_snapshot_leg_rows_carry_price_iv_and_greeks():
    val = valuation()
    legs = snapshot(val)[lambda f: f["Level"] == "leg"].reset_index(drop=True)
    assert len(legs) == len(val.legs) == 8
    for col in ("Qty", "Multiplier", "UnderlyingPrice", "IV", "Price", "Value", "Delta",
                "Gamma", "Vega", "Theta", "VolExposure", "WeightedVolExposure"):
        np.testing.assert_array_equal(legs[col].to_numpy(float), val.legs[col].to_numpy(float))
    assert legs["Key"].iat[0] == "Core|SPX|P|6300|2027-01-08|SPX"
    assert legs["Key"].iat[7] == "Tail|ETP||||VXX 30d CM"
    assert legs["Expiry"].iat[6] == "2027-01-20"


def test_leg_keys_number_repeated_legs():
    pos = POS + [POS[1]]
    keys = leg_keys(valuation(positions=pos).legs)
    assert keys[0] == "Core|SPX|P|6300|2027-01-08|SPX"
    assert keys[-1] == "Core|SPX|P|6300|2027-01-08|SPX#2"
    assert len(set(keys)) == len(keys)


def test_round_trip_is_exact(tmp_path):
    snap = snapshot(valuation(), parse_thresholds(TH))
    path = tmp_path / "book_history.csv"
    append_snapshot(path, snap)
    back = read_history(path)
    pd.testing.assert_frame_equal(back, snap, check_dtype=False)     # floats bit-exact
    assert not list(tmp_path.glob(".*.tmp"))                          # no temp file left


def test_same_date_twice_keeps_one_snapshot(tmp_path):
    path = tmp_path / "h.csv"
    first = snapshot(valuation("2026-11-24"))
    append_snapshot(path, first)
    append_snapshot(path, snapshot(valuation("2026-11-25", spot=6710)))
    later_rows = path.read_text().splitlines()
    redo = snapshot(valuation("2026-11-24", spot=6690))
    hist = append_snapshot(path, redo)
    back = read_history(path)
    pd.testing.assert_frame_equal(back, hist)
    assert sorted(back["Date"].unique()) == ["2026-11-24", "2026-11-25"]
    assert (back["Date"] == "2026-11-24").sum() == len(redo)
    day1 = back[back["Date"] == "2026-11-24"]
    assert set(day1.loc[day1["Level"] == "leg", "UnderlyingPrice"].iloc[:4]) == {6690.0}
    assert day1["Value"].sum() != first["Value"].sum()
    # The other date's lines are untouched, byte for byte.
    keep = [r for r in later_rows if r.startswith("2026-11-25")]
    assert keep and set(keep) <= set(path.read_text().splitlines())


def test_history_sorted_by_date_whatever_the_append_order(tmp_path):
    path = tmp_path / "h.csv"
    for date in ("2026-11-26", "2026-11-24", "2026-11-25"):
        append_snapshot(path, snapshot(valuation(date)))
    back = read_history(path)
    assert list(dict.fromkeys(back["Date"])) == ["2026-11-24", "2026-11-25", "2026-11-26"]
    sheet = history_sheet_rows(back)
    assert len(sheet) == 3 * 5                       # 3 dates × (4 layers + PORTFOLIO)
    assert list(sheet["Layer"][:5]) == ["Core", "VIX L1", "VIX L2", "Tail", "PORTFOLIO"]
    assert list(sheet.columns[:6]) == ["Date", "Layer", "RawVega", "WeightedVega",
                                       "VolOfVolVega", "Flag"]
    assert "Shock-10" in sheet.columns and "Shock+10" in sheet.columns
    assert sheet["Flag"].iat[0] == "no limit"


def test_store_errors(tmp_path):
    snap = snapshot(valuation())
    with pytest.raises(InputError, match="Parquet"):
        append_snapshot(tmp_path / "h.parquet", snap)
    with pytest.raises(MissingInputError, match="not found"):
        read_history(tmp_path / "none.csv")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="not an alvh-xl history"):
        read_history(other)
    bad = tmp_path / "bad.csv"
    snap.assign(Date="24/11/2026").to_csv(bad, index=False)
    with pytest.raises(InputError, match="YYYY-MM-DD") as err:
        read_history(bad)
    assert err.value.row == 2
    two = pd.concat([snap, snapshot(valuation("2026-11-25"))])
    with pytest.raises(InputError, match="one date"):
        append_snapshot(tmp_path / "h.csv", two)


# --- crash safety: a real writer process killed with SIGKILL -------------------------------

CHILD = textwrap.dedent("""
    import os, sys, time
    from alvh_xl.risk import history as h

    path, new, pause = sys.argv[1], sys.argv[2], sys.argv[3] == "pause"
    snap = h.read_history(new)
    if pause:
        def half_then_wait(frame, fh):
            text = frame.to_csv(index=False, lineterminator="\\n")
            fh.write(text[: len(text) // 2])
            fh.flush()
            os.fsync(fh.fileno())
            print("MIDWRITE", flush=True)
            time.sleep(120)
            fh.write(text[len(text) // 2:])
        h._write = half_then_wait
    print("START", flush=True)
    h.append_snapshot(path, snap)
    print("DONE", flush=True)
""")


def _child(tmp_path, path, new, mode):
    script = tmp_path / "writer.py"
    script.write_text(CHILD)
    return subprocess.Popen([sys.executable, str(script), str(path), str(new), mode],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)


def _seed(tmp_path, n_dates):
    """A history of ``n_dates`` snapshots and a new snapshot file to append."""
    snap = snapshot(valuation())
    days = pd.date_range("2020-01-01", periods=n_dates, freq="D").strftime("%Y-%m-%d")
    old = pd.concat([snap.assign(Date=d) for d in days], ignore_index=True)
    path = tmp_path / "hist" / "h.csv"
    path.parent.mkdir()
    old.to_csv(path, index=False, lineterminator="\n")         # same format, written fast
    new = tmp_path / "new.csv"
    snapshot(valuation("2026-11-25", spot=6720)).to_csv(new, index=False)
    return path, new


def test_sigkill_mid_write_leaves_previous_history(tmp_path):
    path, new = _seed(tmp_path, 30)
    before = path.read_bytes()
    proc = _child(tmp_path, path, new, "pause")
    assert proc.stdout.readline().strip() == "START"
    assert proc.stdout.readline().strip() == "MIDWRITE"
    temps = list(path.parent.glob(".h.csv.*.tmp"))
    assert len(temps) == 1 and 0 < temps[0].stat().st_size < len(before)   # half written
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL
    proc.stdout.close()
    assert path.read_bytes() == before                       # previous history intact
    assert read_history(path)["Date"].nunique() == 30
    # The next append works and keeps everything (the dead writer's temp file is ignored).
    hist = append_snapshot(path, read_history(new))
    assert hist["Date"].nunique() == 31


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_sigkill_at_any_moment_leaves_old_or_new_never_partial(tmp_path):
    path, new = _seed(tmp_path, 3000)                 # ~40k rows: writing takes a while
    before = path.read_bytes()
    ref = tmp_path / "ref" / "h.csv"
    ref.parent.mkdir()
    ref.write_bytes(before)
    t0 = time.perf_counter()
    append_snapshot(ref, read_history(new))
    write_s = time.perf_counter() - t0
    after = ref.read_bytes()
    outcomes = []
    for frac in (0.0, 0.1, 0.3, 0.6, 0.9):
        path.write_bytes(before)
        for t in path.parent.glob(".h.csv.*.tmp"):
            t.unlink()
        proc = _child(tmp_path, path, new, "run")
        assert proc.stdout.readline().strip() == "START"
        deadline = time.monotonic() + 30
        while not list(path.parent.glob(".h.csv.*.tmp")) and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.0005)
        time.sleep(frac * write_s)
        proc.send_signal(signal.SIGKILL)
        rc = proc.wait(timeout=10)
        proc.stdout.close()
        data = path.read_bytes()
        assert data in (before, after)
        outcomes.append((rc, data == before, bool(list(path.parent.glob(".h.csv.*.tmp")))))
    print(f"write {write_s:.3f} s; kills (rc, old kept, temp left): {outcomes}")
    # At least one kill landed while the temp file was being written.
    assert any(rc == -signal.SIGKILL and old and tmp for rc, old, tmp in outcomes), outcomes


# --- `alvh-xl snapshot` ----------------------------------------------------------------------

def make_workbook(path, date=None, spot=None):
    """An .xlsx holding the layout's input tables (sample rows) under their defined names,
    with the market's ValuationDate / SpxSpot replaced when given."""
    import openpyxl
    from openpyxl.utils.cell import absolute_coordinate, quote_sheetname
    from openpyxl.workbook.defined_name import DefinedName

    from alvh_xl.xl.layout import LAYOUT, cell_ref

    book = openpyxl.Workbook()
    for table in LAYOUT.inputs:
        ws = book[table.sheet] if table.sheet in book.sheetnames else book.create_sheet(
            table.sheet)
        r0, c0 = cell_ref(table.anchor)
        rows = [list(table.headers), *[list(r) for r in table.sample]]
        if table.name == "ALVH_MARKET":
            fields = {"ValuationDate": date, "SpxSpot": spot}
            rows = [[r[0], fields[r[0]], *r[2:]] if fields.get(r[0]) is not None else r
                    for r in rows]
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                ws.cell(r0 + i, c0 + j).value = v
        ref = f"{quote_sheetname(table.sheet)}!{absolute_coordinate(table.ref)}"
        book.defined_names[table.name] = DefinedName(table.name, attr_text=ref)
    book.save(path)
    return path


def test_snapshot_command_appends_then_replaces(tmp_path, capsys):
    import argparse
    import datetime as dt

    from alvh_xl.commands import snapshot as cmd

    wb = make_workbook(tmp_path / "desk.xlsx")
    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    args = parser.parse_args([str(wb)])
    assert cmd.run(args) == 0
    hist_path = tmp_path / "desk_history.csv"
    out = capsys.readouterr().out
    assert str(hist_path) in out and "2026-11-24 appended" in out and "holds 1 date\n" in out
    first = read_history(hist_path)
    assert (first["Level"] == "leg").sum() == 8 and (first["Level"] == "layer").sum() == 4
    make_workbook(wb, spot=6750.0)
    assert cmd.run(args) == 0
    assert "2026-11-24 replaced" in capsys.readouterr().out
    again = read_history(hist_path)
    assert len(again) == len(first)
    assert set(again.loc[again["Instrument"] == "SPXW", "UnderlyingPrice"]) == {6750.0}
    make_workbook(wb, date=dt.date(2026, 11, 25))
    other = tmp_path / "elsewhere.csv"
    assert cmd.run(parser.parse_args([str(wb), "--history", str(other)])) == 0
    assert "2026-11-25 appended" in capsys.readouterr().out
    assert read_history(other)["Date"].unique().tolist() == ["2026-11-25"]
    assert default_history_path("/x/y/desk.xlsx") == Path("/x/y/desk_history.csv")
