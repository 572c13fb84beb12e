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
from alvh_xl.fileio import cleanup_orphans, exclusive_lock, temp_files
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
    assert sorted(p.name for p in tmp_path.iterdir()) == [".book_history.csv.alvh.lock",
                                                          "book_history.csv"]


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



@pytest.mark.parametrize("content", [b"", b"root:x:0:0\nbin:x:1:1\nsys,x,3,3\n",
                                     b"PK\x03\x04\x14\x00\x97\xff\xfe binary"],
                         ids=["empty", "ragged text", "binary (an xlsx given as history)"])
def test_a_file_that_is_not_a_history_is_refused_with_a_sentence(tmp_path, content):
    path = tmp_path / "h.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match="not an alvh-xl history") as err:
        read_history(path)
    assert "h.csv" in str(err.value), str(err.value)
    with pytest.raises(InputError, match="not an alvh-xl history"):
        append_snapshot(path, snapshot(valuation()))
    assert path.read_bytes() == content             # the file is left as it was

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
    temps = temp_files(path.parent, "h.csv")
    assert len(temps) == 1 and 0 < temps[0].stat().st_size < len(before)   # half written
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL
    proc.stdout.close()
    assert path.read_bytes() == before                       # previous history intact
    assert read_history(path)["Date"].nunique() == 30
    # The next append works, keeps everything and removes the dead writer's temp file.
    hist = append_snapshot(path, read_history(new))
    assert hist["Date"].nunique() == 31 and not temp_files(path.parent, "h.csv")


# A writer that stays loaded: each "go" forks a process that appends and exits, so kills
# land on a real write without paying Python's start-up for every kill point.
ZYGOTE = textwrap.dedent("""
    import os, sys, time
    from alvh_xl.risk import history as h

    path, new = sys.argv[1], sys.argv[2]
    snap = h.read_history(new)
    plain = h._write
    def timed(frame, fh):
        t0 = time.perf_counter()
        plain(frame, fh)
        timed.seconds = time.perf_counter() - t0
    h._write = timed
    for line in sys.stdin:
        cmd = line.split()
        if cmd[0] == "measure":                  # one full append, timing the write
            h.append_snapshot(cmd[1], snap)
            print(f"{timed.seconds:.6f}", flush=True)
        elif cmd[0] == "go":
            pid = os.fork()
            if pid == 0:
                h.append_snapshot(path, snap)
                os._exit(0)
            print(pid, flush=True)
        elif cmd[0] == "reap":
            print(os.waitpid(int(cmd[1]), 0)[1], flush=True)
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="SIGKILL at chosen moments needs fork")
def test_sigkill_at_any_moment_leaves_old_or_new_never_partial(tmp_path):
    """Kills before the write starts, just after the temporary file appears, a quarter and
    three quarters into the write, and after the rename: the history is always the old or
    the new file, and the next write removes what the killed writer left."""
    path, new = _seed(tmp_path, 400)                  # ~5k rows: the write takes ~0.1 s
    before = path.read_bytes()
    ref = tmp_path / "ref" / "h.csv"
    ref.parent.mkdir()
    ref.write_bytes(before)
    zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE, str(path), str(new)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(line: str) -> str:
        zygote.stdin.write(line + "\n")
        zygote.stdin.flush()
        return zygote.stdout.readline().strip()

    write_s = float(ask(f"measure {ref}"))
    after = ref.read_bytes()
    assert after != before
    outcomes = []
    try:
        for label, delay in (("before the write", None), ("temp file appears", 0.0),
                             ("a quarter in", 0.25 * write_s), ("three quarters in",
                                                                  0.75 * write_s),
                             ("after the rename", "done")):
            path.write_bytes(before)
            pid = int(ask("go"))
            if delay == "done":
                deadline = time.monotonic() + 30
                while path.read_bytes() == before:
                    assert time.monotonic() < deadline
                    time.sleep(0.005)
                time.sleep(0.05)
            elif delay is not None:
                deadline = time.monotonic() + 30
                while not temp_files(path.parent, "h.csv"):
                    assert time.monotonic() < deadline, "the writer never started writing"
                    time.sleep(0.0002)
                time.sleep(delay)
            os.kill(pid, signal.SIGKILL)
            status = int(ask(f"reap {pid}"))
            killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
            data = path.read_bytes()
            left = temp_files(path.parent, "h.csv")
            outcomes.append((label, killed, "old" if data == before else
                             "new" if data == after else "TORN", len(left)))
            assert data in (before, after), outcomes[-1]
            cleanup_orphans(path.parent, "h.csv")          # what the next write does first
            assert not temp_files(path.parent, "h.csv")
    finally:
        zygote.stdin.close()
        zygote.wait(timeout=30)
        zygote.stdout.close()
    print(f"write {write_s:.3f} s; (kill point, killed, file, temps left): {outcomes}")
    # At least one kill landed while the temporary file was being written.
    assert any(killed and state == "old" and temps for _, killed, state, temps in outcomes), \
        outcomes


# --- concurrency: two writers at once never lose a date -------------------------------------

WORKER = textwrap.dedent("""
    import sys, time
    from alvh_xl.risk import history as h

    use_lock = sys.argv[1] == "lock"
    plain = h._write
    def slow(frame, fh):              # widen the read-modify-write window to 50 ms
        time.sleep(0.05)
        plain(frame, fh)
    h._write = slow
    if not use_lock:                  # the control: no lock, as before this change
        import contextlib
        h.exclusive_lock = lambda *a, **k: contextlib.nullcontext()
    for line in sys.stdin:
        path, new = line.split()
        waited = []
        h.update_history(path, h.read_history(new), on_wait=waited.append)
        print("WAITED" if waited else "DIRECT", flush=True)
""")


def _rounds(tmp_path, mode: str, rounds: int) -> tuple[int, int]:
    """(dates lost, waits) over ``rounds`` rounds of two processes appending at once."""
    seed = snapshot(valuation("2026-11-20"))
    snaps = []
    for i, date in enumerate(("2026-11-24", "2026-11-25")):
        snaps.append(tmp_path / f"snap{i}.csv")
        snapshot(valuation(date)).to_csv(snaps[-1], index=False)
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, mode], cwd=ROOT,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for _ in range(2)]
    lost = waits = 0
    try:
        for r in range(rounds):
            hist = tmp_path / f"{mode}{r}" / "h.csv"
            hist.parent.mkdir()
            append_snapshot(hist, seed)
            for w, snap in zip(workers, snaps, strict=True):
                w.stdin.write(f"{hist} {snap}\n")
                w.stdin.flush()
            answers = [w.stdout.readline().strip() for w in workers]
            waits += answers.count("WAITED")
            dates = set(read_history(hist)["Date"])
            lost += len({"2026-11-20", "2026-11-24", "2026-11-25"} - dates)
            assert not temp_files(hist.parent, "h.csv")
    finally:
        for w in workers:
            w.stdin.close()
            w.wait(timeout=30)
            w.stdout.close()
    return lost, waits


def test_two_concurrent_writers_never_lose_a_date(tmp_path):
    lost, waits = _rounds(tmp_path, "lock", 20)
    print(f"20 rounds of 2 concurrent appends: dates lost {lost}, second writer waited {waits}")
    assert lost == 0
    assert waits >= 10            # they really overlapped, and the second one was told


def test_without_the_lock_the_same_race_loses_dates(tmp_path):
    """The control: the test above can fail. Without the lock, appends overlap and lose."""
    lost, _ = _rounds(tmp_path, "nolock", 3)
    assert lost >= 1


# --- CSV injection ----------------------------------------------------------------------------

HOSTILE_TEXT = ["=cmd|' /C calc'!A0", "+1+cmd|'/C calc'!A0", "-2+3", "@SUM(1+1)*cmd|'/c x'!A0",
                "\t=1+1", "\r=1+1", '=HYPERLINK("http://attacker.example","x")', "'=already",
                "''", "'", "-"]


def test_hostile_text_is_escaped_in_the_file_and_read_back_exactly(tmp_path):
    import csv

    pos = copy.deepcopy(POS)
    for i, text in enumerate(HOSTILE_TEXT[:8]):
        pos[i + 1][0] = text                          # Layer
        pos[i + 1][1] = HOSTILE_TEXT[(i + 3) % len(HOSTILE_TEXT)]       # Strategy
    snap = snapshot(valuation(positions=pos))
    path = tmp_path / "h.csv"
    append_snapshot(path, snap)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    text_cols = [header.index(c) for c in ("Key", "Layer", "Strategy")]
    cells = [r[j] for r in rows[1:] for j in text_cols if r[j]]
    assert cells and not [c for c in cells if c[0] in "=+-@\t\r"], \
        [c for c in cells if c[0] in "=+-@\t\r"]
    numbers = [float(r[header.index("Delta")]) for r in rows[1:] if r[header.index("Delta")]]
    assert min(numbers) < 0                          # negative numbers stay plain numbers
    assert not [r[header.index("Delta")] for r in rows[1:]
                if r[header.index("Delta")].startswith("'")]
    back = read_history(path)
    pd.testing.assert_frame_equal(back, snap, check_dtype=False)
    firsts = {str(v)[:1] for c in ("Layer", "Strategy", "Key") for v in snap[c].dropna()}
    assert set("=+-@'") <= firsts           # the hostile texts did reach the file


# --- bad history paths -------------------------------------------------------------------------

def test_special_and_missing_history_paths_are_refused_at_once(tmp_path):
    from alvh_xl.errors import PathError

    snap = snapshot(valuation())
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for path, pattern in [("/dev/full", "history /dev/full is a device"),
                          (fifo, "is a FIFO"), (tmp_path, "is a folder"),
                          (tmp_path / "nodir" / "h.csv", "folder .*nodir does not exist")]:
        t0 = time.perf_counter()
        with pytest.raises(PathError, match=pattern):
            append_snapshot(path, snap)
        with pytest.raises((PathError, MissingInputError)):
            read_history(path)
        assert time.perf_counter() - t0 < 1.0


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
    from alvh_xl.xl.layout import INPUT_BY_NAME

    sample = INPUT_BY_NAME["ALVH_POSITIONS"].sample          # one leg row per sample row
    assert (first["Level"] == "leg").sum() == len(sample)
    assert (first["Level"] == "layer").sum() == len({r[0] for r in sample})
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


def _cli(*args, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "alvh_xl.cli", "snapshot", *map(str, args)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kw)


def test_snapshot_command_refuses_bad_history_paths_with_exit_2(tmp_path, capsys):
    from alvh_xl import cli

    wb = make_workbook(tmp_path / "desk.xlsx")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for history, text in [(fifo, "is a FIFO (named pipe); give a file name"),
                          (tmp_path, "is a folder; give a file name"),
                          (tmp_path / "nodir" / "h.csv", "nodir does not exist"),
                          (wb, "is the input")]:
        assert cli.main(["snapshot", str(wb), "--history", str(history)]) == 2, history
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and text in err, (history, err)
    assert cli.main(["snapshot", str(tmp_path / "missing.xlsx")]) == 2
    assert "missing.xlsx: no such file" in capsys.readouterr().err
    # A real process: /dev/full is refused at once (it used to be read until killed).
    t0 = time.perf_counter()
    proc = _cli(wb, "--history", "/dev/full")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and err == ("alvh-xl snapshot: history /dev/full is a device; "
                                            "give a file name\n"), (out, err)
    assert time.perf_counter() - t0 < 30


def test_snapshot_command_waits_for_a_running_update_and_says_so(tmp_path):
    import datetime as dt

    wb = make_workbook(tmp_path / "desk.xlsx")
    other = make_workbook(tmp_path / "other.xlsx", date=dt.date(2026, 11, 25))
    hist = tmp_path / "h.csv"
    with exclusive_lock(hist):
        proc = _cli(wb, "--history", hist)
        line = proc.stderr.readline()
        assert line.startswith(f"alvh-xl snapshot: {hist} is being updated by another alvh-xl "
                               f"run (process {os.getpid()} on "), line
        assert proc.poll() is None and not hist.exists()       # still waiting
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "2026-11-24 appended" in out
    # Two real `alvh-xl snapshot` runs at once with different dates: both land.
    procs = [_cli(wb, "--history", hist), _cli(other, "--history", hist)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sorted(set(read_history(hist)["Date"])) == ["2026-11-24", "2026-11-25"]


def test_snapshot_says_what_it_could_not_use(tmp_path, capsys):
    """A threshold that does not parse (every layer then recorded as 'no limit') and a curve
    point typed past its table are named by the snapshot command; the book row's LeftOut
    counts the cell left out."""
    import shutil

    import openpyxl

    from alvh_xl import cli
    from alvh_xl.xl import layout as L

    path = tmp_path / "desk.xlsx"
    shutil.copy(ROOT / "workbooks" / "alvh_template.xlsx", path)
    wb = openpyxl.load_workbook(path)
    wb[L.THRESHOLDS]["B3"] = "twelve"
    wb[L.MARKET]["E15"] = "2027-08-18"                     # under the curve table
    wb.save(path)
    hist = tmp_path / "h.csv"
    assert cli.main(["snapshot", str(path), "--history", str(hist)]) == 0
    out = capsys.readouterr().out
    assert "thresholds not used" in out and "row 3 (Limit)" in out, out
    assert "Market!E15" in out, out
    book = read_history(hist).query("Level == 'book'")
    assert book["LeftOut"].iat[0] == 1, book
