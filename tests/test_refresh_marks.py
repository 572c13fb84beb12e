"""Refresh (and the report) mark the book first from the Market table's ChainFile / CurveFile
(issue 10 item 5): only SpxSpot, ForwardsTable, CurveTable and — with MarkPrices TRUE — the
Price/IV cells of quoted legs change; every changed cell is listed; no other typed cell moves.

References: the chain's own bid/ask read here with the csv module (mid = (bid+ask)/2), put–call
parity at the chain's quotes for the forward and discount, the CFE file's Price column read
with the csv module for the curve.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from alvh_xl.xl import layout as L
from alvh_xl.xl.refresh import refresh_workbook
from alvh_xl.xl.workbook import FileWorkbook

ROOT = Path(__file__).parent.parent
TEMPLATE = ROOT / "workbooks" / "alvh_template.xlsx"
DATA = Path(__file__).parent / "data"
CHAIN = DATA / "spx_quotedata_2025-10-01_exp2026-04-17_cboe.csv"
CFE = DATA / "cfe" / "cfe_vx_daily_settlement_2026-10-05.csv"
POS_HEADERS = L.INPUT_BY_NAME["ALVH_POSITIONS"].headers
COL = {h: j + 1 for j, h in enumerate(POS_HEADERS)}
EXPIRY = dt.datetime(2026, 4, 17)
# (Layer, Instrument, Type, Strike, Qty, IV typed, Price typed): the last strike is not listed
LEGS = [("Core", "SPX", "P", 6000, -2, 0.25, 11.0), ("Core", "SPX", "P", 6500, 2, 0.22, 22.0),
        ("Core", "SPX", "C", 7200, 2, 0.15, 33.0), ("Core", "SPX", "C", 7600, -2, 0.14, 4.0),
        ("Core", "SPX", "P", 6801, 1, 0.2, 99.0)]
UNQUOTED_ROW = 6


def chain_quotes(path: Path) -> dict[tuple[str, float], tuple[float, float]]:
    """(type, strike) → (bid, ask) of the 2026-04-17 SPX series, read with the csv module."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    head = next(i for i, r in enumerate(rows) if "Strike" in r)
    h = rows[head]
    puts = h.index("Puts")
    out = {}
    for r in rows[head + 1:]:
        if any(r):
            k = float(r[h.index("Strike")])
            out[("C", k)] = (float(r[h.index("Bid")]), float(r[h.index("Ask")]))
            out[("P", k)] = (float(r[h.index("Bid", puts)]), float(r[h.index("Ask", puts)]))
    return out


def make_book(tmp_path: Path, *, date: str, chain: str | None = None, curve: str | None = None,
              mark: bool = True) -> Path:
    """The template with the LEGS book (a VX future too), valued on ``date``, naming the
    files (relative to the workbook's folder) in the Market table."""
    shutil.copy(CHAIN, tmp_path / "chain.csv")
    shutil.copy(CFE, tmp_path / "settle.csv")
    path = tmp_path / "book.xlsx"
    shutil.copy(TEMPLATE, path)
    wb = openpyxl.load_workbook(path)
    ws = wb[L.POSITIONS]
    for r in range(2, ws.max_row + 1):
        for c in range(1, len(POS_HEADERS) + 1):
            ws.cell(r, c).value = None
    rows = [(layer, "IC", inst, t, k, EXPIRY, q, None, iv, price) for layer, inst, t, k, q, iv,
            price in LEGS]
    rows.append(("VIX L1", None, "VX", None, None, dt.datetime(2026, 12, 16), 1, None, None,
                 None))
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            ws.cell(2 + i, j + 1).value = v
    market = wb[L.MARKET]
    fields = {market.cell(r, 1).value: r for r in range(2, market.max_row + 1)}
    market.cell(fields["ValuationDate"], 2).value = dt.datetime.fromisoformat(date)
    market.cell(fields["ChainFile"], 2).value = chain
    market.cell(fields["CurveFile"], 2).value = curve
    market.cell(fields["MarkPrices"], 2).value = mark
    wb.save(path)
    return path


def all_cells(path: Path) -> dict[str, object]:
    wb = openpyxl.load_workbook(path, data_only=True)
    return {f"{ws.title}!{c.coordinate}": c.value for ws in wb.worksheets
            for row in ws.iter_rows() for c in row if c.value is not None}


def refresh(path: Path):
    io = FileWorkbook(path)
    result = refresh_workbook(io, now=dt.datetime(2025, 10, 1, 18, 30))
    io.save(path)
    return result


INPUT_SHEETS = (L.POSITIONS, L.MARKET, L.THRESHOLDS, L.HEDGES, L.SCENARIOS, L.SIGNALS)


def _output_area(sheet: str, ref: str) -> bool:
    r, c = L.cell_ref(ref)
    for o in L.OUTPUTS:
        r0, c0 = L.cell_ref(o.anchor)
        if o.sheet == sheet and r0 - 2 <= r < r0 + o.max_rows and c0 <= c < c0 + o.max_cols:
            return True
    return False


def input_cells(cells: dict[str, object]) -> dict[str, object]:
    """Cells of the input sheets outside the output blocks (Scenarios and Signals hold both)."""
    return {k: v for k, v in cells.items() if k.split("!")[0] in INPUT_SHEETS
            and not _output_area(*k.split("!"))}


def test_refresh_marks_prices_ivs_spot_and_forwards_and_nothing_else(tmp_path):
    path = make_book(tmp_path, date="2025-10-01", chain="chain.csv")
    before = input_cells(all_cells(path))
    result = refresh(path)
    after = input_cells(all_cells(path))
    quotes = chain_quotes(CHAIN)
    price, iv = f"{L.POSITIONS}!{L.col_letter(COL['Price'])}", \
        f"{L.POSITIONS}!{L.col_letter(COL['IV'])}"
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    marked_rows = range(2, 2 + len(LEGS) - 1)
    expected_cells = {f"{price}{r}" for r in marked_rows} | {f"{iv}{r}" for r in marked_rows}
    spot_row = next(int(k.split("!A")[1]) for k, v in before.items()
                    if k.startswith(f"{L.MARKET}!A") and v == "SpxSpot")
    forwards = {k for k in changed if k.startswith(f"{L.MARKET}!") and k.split("!")[1][0]
                in "HIJ"}
    assert changed == expected_cells | {f"{L.MARKET}!B{spot_row}"} | forwards, \
        sorted(changed - expected_cells)
    # prices are the chain's mids; the unquoted leg keeps what was typed, and is named
    for r, (_, _, t, k, *_rest) in zip(marked_rows, LEGS, strict=False):
        bid, ask = quotes[(t, float(k))]
        assert after[f"{price}{r}"] == (bid + ask) / 2
        assert 0.05 < after[f"{iv}{r}"] < 1.0 and after[f"{iv}{r}"] != before[f"{iv}{r}"]
    assert after[f"{price}{UNQUOTED_ROW}"] == 99.0 and after[f"{iv}{UNQUOTED_ROW}"] == 0.2
    assert after[f"{L.MARKET}!B{spot_row}"] == 6711.2002
    # the forward and discount satisfy put–call parity at the chain's mids near the money
    fwd = [after[k] for k in sorted(forwards) if k.startswith(f"{L.MARKET}!I")]
    disc = [after[k] for k in sorted(forwards) if k.startswith(f"{L.MARKET}!J")]
    assert len(fwd) == len(disc) == 1
    for k in (6600.0, 6700.0, 6800.0):
        c = sum(quotes[("C", k)]) / 2
        p = sum(quotes[("P", k)]) / 2
        assert c - p == pytest.approx(disc[0] * (fwd[0] - k), abs=2.0)
    # the message lists every changed cell and the leg not marked, and the refresh is OK
    message = cell_text(path, L.MESSAGE_CELL)
    p, v = L.col_letter(COL["Price"]), L.col_letter(COL["IV"])
    assert (f"9 cells changed ({L.MARKET}!B{spot_row}, {L.POSITIONS}!{p}2:{p}5, {v}2:{v}5)"
            in message), message
    assert "Forwards table Market!H1:J" in message
    assert f"Positions row {UNQUOTED_ROW}" in message and "6801" in message
    assert result.ok, result.message
    assert set(result.inputs.marks.changed) == expected_cells | {f"{L.MARKET}!B{spot_row}"}


def cell_text(path: Path, where: tuple[str, str]) -> str:
    return str(openpyxl.load_workbook(path, data_only=True)[where[0]][where[1]].value)


def test_the_valuation_uses_the_marked_cells(tmp_path):
    """After the marks, the Legs block shows the marked IVs and the SPX legs priced on the
    chain's forward (Black-76), as a fresh refresh of the marked workbook does."""
    path = make_book(tmp_path, date="2025-10-01", chain="chain.csv")
    first = refresh(path)
    wb = openpyxl.load_workbook(path)
    wb[L.MARKET].cell(next(r for r in range(2, 40) if wb[L.MARKET].cell(r, 1).value ==
                           "ChainFile"), 2).value = None
    wb.save(path)
    second = refresh(path)                                  # no files named: no marks
    assert second.inputs.marks is None
    # the same to the last bits openpyxl keeps when it saves a float (16 digits)
    def close(x, y):
        if isinstance(x, float) and isinstance(y, float):
            return x == pytest.approx(y, rel=1e-13, abs=1e-12)
        return x == y

    legs1, legs2 = first.outputs["legs"], second.outputs["legs"]
    assert len(legs1) == len(legs2)
    for a, b in zip(legs1, legs2, strict=True):
        assert all(close(x, y) for x, y in zip(a, b, strict=True)), (a, b)
    assert close(first.outputs["netvega_raw"][0][0], second.outputs["netvega_raw"][0][0])
    underlying = legs1[0].index("Underlying")
    assert [r[underlying] for r in legs1[1:6]] == ["SPX fwd 2026-04-17"] * 5


def test_mark_prices_false_leaves_price_and_iv_as_typed(tmp_path):
    path = make_book(tmp_path, date="2025-10-01", chain="chain.csv", mark=False)
    before = all_cells(path)
    result = refresh(path)
    after = all_cells(path)
    for r in range(2, 2 + len(LEGS)):
        for col in ("Price", "IV"):
            key = f"{L.POSITIONS}!{L.col_letter(COL[col])}{r}"
            assert after[key] == before[key]
    assert "MarkPrices is FALSE" in result.message
    assert result.ok and len(result.inputs.marks.changed) == 1       # SpxSpot only


def test_a_chain_of_another_day_is_not_used_and_the_refresh_says_so(tmp_path):
    path = make_book(tmp_path, date="2025-10-02", chain="chain.csv")
    before = input_cells(all_cells(path))
    result = refresh(path)
    assert input_cells(all_cells(path)) == before
    assert not result.ok
    assert "quoted on 2025-10-01, the valuation date is 2025-10-02: not used" in result.message
    assert "quoted on 2025-10-01" in cell_text(path, L.MESSAGE_CELL)


@pytest.mark.parametrize(("name", "words"), [
    ("nosuch.csv", "no such file"), ("sub", "a folder, not a file"),
    ("settle.csv", "Cboe chain settle.csv")])
def test_an_unusable_chain_file_is_a_problem_in_the_headline_message(tmp_path, name, words):
    (tmp_path / "sub").mkdir()
    path = make_book(tmp_path, date="2025-10-01", chain=name)
    before = input_cells(all_cells(path))
    result = refresh(path)
    assert input_cells(all_cells(path)) == before
    assert not result.ok and words in result.message, result.message
    assert words in cell_text(path, L.MESSAGE_CELL)


def cfe_settles(path: Path) -> list[tuple[dt.date, float]]:
    """Monthly VX settlements of the file (weeklies repeat the front month's price)."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [(dt.date.fromisoformat(r["Expiration Date"]), float(r["Price"])) for r in rows
            if r["Symbol"].startswith("VX/")]


def test_refresh_fills_the_curve_from_the_cfe_file(tmp_path):
    path = make_book(tmp_path, date="2026-10-05", curve="settle.csv")
    before = input_cells(all_cells(path))
    result = refresh(path)
    after = input_cells(all_cells(path))
    wb = openpyxl.load_workbook(path, data_only=True)
    ws = wb[L.MARKET]
    table = ws.tables["CurveTable"]
    last = openpyxl.utils.cell.range_boundaries(table.ref)[3]
    rows = [(ws.cell(r, 5).value, ws.cell(r, 6).value) for r in range(2, last + 1)
            if ws.cell(r, 5).value is not None]
    assert [(d.date(), p) for d, p in rows] == cfe_settles(CFE)
    changed = {k.split("!")[1] for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert all(c[0] in "EF" for c in changed), changed                  # only the curve
    assert "Curve table" in result.message and "left out" in result.message   # weeklies named
    assert result.ok, result.message


def test_the_report_marks_its_copy_and_never_the_source(tmp_path):
    path = make_book(tmp_path, date="2025-10-01", chain="chain.csv")
    source = path.read_bytes()
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "alvh_xl.cli", "report", str(path), "--json",
                           "--no-charts", "--out", str(out)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert path.read_bytes() == source
    price = L.col_letter(COL["Price"])
    assert f"{L.POSITIONS}!{price}2" in payload["marks"]["changed"]
    assert payload["marks"]["tables"] == {"ALVH_FORWARDS": 1}
    copy = openpyxl.load_workbook(out / "book_report.xlsx", data_only=True)
    bid, ask = chain_quotes(CHAIN)[("P", 6000.0)]
    assert copy[L.POSITIONS][f"{price}2"].value == (bid + ask) / 2
    assert any("Marked:" in n["reason"] for n in payload["notes"])


def test_the_report_shows_a_refused_chain_under_the_headline(tmp_path):
    """A ChainFile of another day is refused by Refresh with an alert; the report printed it
    only as a yellow "note" after every table, under an "OK" headline (review finding). It is
    now a "not marked" line right under the headline, once."""
    path = make_book(tmp_path, date="2025-10-02", chain="chain.csv")
    proc = subprocess.run([sys.executable, "-m", "alvh_xl.cli", "report", str(path),
                           "--no-charts", "--out", str(tmp_path / "out")], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())                  # the terminal wraps at 80 columns
    refused = ("not marked ChainFile chain.csv was quoted on 2025-10-01, the valuation date is "
               "2025-10-02: not used")
    assert refused in text, proc.stdout
    assert text.index(refused) < text.index("Layers ($ per vol point)"), proc.stdout
    assert text.count("chain.csv was quoted") == 1, proc.stdout


def test_snapshot_marks_from_the_market_files_like_the_report(tmp_path):
    """A workbook naming ChainFile / CurveFile: `alvh-xl snapshot` records the figures the
    report (and Refresh, whose History rows are written after marking) shows, not those of
    the unmarked cells (review finding: snapshot recorded net vega 2.19 where the report of
    the same workbook said 4.61)."""
    import csv as csv_module

    path = make_book(tmp_path, date="2025-10-01", chain="chain.csv")
    cli = [sys.executable, "-m", "alvh_xl.cli"]
    report = subprocess.run([*cli, "report", str(path), "--json", "--no-charts", "--out",
                             str(tmp_path / "out")], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    want = json.loads(report.stdout)["net_vega"]
    snap = subprocess.run([*cli, "snapshot", str(path), "--history", "h.csv"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert snap.returncode == 0, snap.stderr
    with open(tmp_path / "h.csv", newline="") as fh:
        rows = list(csv_module.DictReader(fh))
    book = next(r for r in rows if r["Level"] == "book")
    got = {"raw": float(book["RawVega"]), "weighted": float(book["WeightedVega"])}
    for k in ("raw", "weighted"):
        assert got[k] == pytest.approx(want[k], rel=1e-12, abs=1e-12), (k, got, want)
    assert "Marked:" in snap.stdout, snap.stdout


def test_a_price_cell_holding_a_formula_is_not_overwritten(tmp_path):
    """Classic Excel's seam reports formulas: a Price cell computed by the user stays."""
    path = make_book(tmp_path, date="2025-10-01", chain="chain.csv")
    price = f"{L.col_letter(COL['Price'])}3"

    class WithFormula(FileWorkbook):
        def formula_at(self, sheet, anchor):
            return "=0.5*(X1+Y1)" if (sheet, anchor) == (L.POSITIONS, price) else None

    io = WithFormula(path)
    result = refresh_workbook(io)
    io.save(path)
    assert f"{L.POSITIONS}!{price} holds a formula" in result.message
    assert not result.ok
    assert openpyxl.load_workbook(path)[L.POSITIONS][price].value == 22.0


def run_mark(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "alvh_xl.cli", "mark", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_the_mark_command_is_the_same_marking_as_refresh(tmp_path):
    """`alvh-xl mark` writes into a copy exactly the cells Refresh writes into the workbook."""
    path = make_book(tmp_path, date="2025-10-01")          # no ChainFile: the CLI names it
    source = path.read_bytes()
    proc = run_mark(str(path), "--chain", "chain.csv", "--out", "marked.xlsx", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert path.read_bytes() == source
    assert "wrote marked.xlsx: 12 cells changed" in proc.stdout     # 9 cells, 3 of forwards
    assert f"row {UNQUOTED_ROW}: SPX 2026-04-17 6801 P: strike not listed" in proc.stdout
    marked = all_cells(tmp_path / "marked.xlsx")
    (tmp_path / "r").mkdir()
    refreshed = make_book(tmp_path / "r", date="2025-10-01", chain="chain.csv")
    refresh(refreshed)
    by_refresh = all_cells(refreshed)
    for sheet in (L.POSITIONS, L.MARKET):
        a = {k: v for k, v in input_cells(marked).items() if k.startswith(sheet + "!")}
        b = {k: v for k, v in input_cells(by_refresh).items() if k.startswith(sheet + "!")}
        b = {k: v for k, v in b.items() if not (sheet == L.MARKET and v in ("chain.csv",))}
        a = {k: v for k, v in a.items() if not (sheet == L.MARKET and v in ("chain.csv",))}
        assert a.keys() == b.keys()
        for k in a:            # floats to the 16 digits openpyxl keeps when it saves Refresh's
            assert a[k] == (pytest.approx(b[k], rel=1e-15) if isinstance(b[k], float)
                            else b[k]), (k, a[k], b[k])


def test_the_mark_command_refuses_a_chain_of_another_day_unless_asked(tmp_path):
    path = make_book(tmp_path, date="2026-11-24")
    proc = run_mark(str(path), "--chain", "chain.csv", "--out", "m.xlsx", cwd=tmp_path)
    assert proc.returncode == 1 and not (tmp_path / "m.xlsx").exists()
    assert "quoted on 2025-10-01, the valuation date is 2026-11-24: not used" in proc.stderr
    assert "nothing written (1 problem)" in proc.stderr
    proc = run_mark(str(path), "--chain", "chain.csv", "--out", "m.xlsx", "--set-valuation",
                    cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ws = openpyxl.load_workbook(tmp_path / "m.xlsx", data_only=True)[L.MARKET]
    values = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, ws.max_row + 1)}
    assert values["ValuationDate"].date() == dt.date(2025, 10, 1)
    time = values["ValuationTime"]
    assert (time.hour, time.minute) == (18, 1)              # "October 1, 2025 at 6:01 PM EDT"
    assert "valuation set to the chains' quote time 2025-10-01 18:01" in proc.stdout


def test_the_mark_command_names_its_chain_option_not_the_market_cell(tmp_path):
    """`alvh-xl mark --chain FILE` problems name `--chain FILE` (the user typed no ChainFile
    cell), name the file once, and a chain of another day points at --set-valuation (review
    finding: "ChainFile vix.csv: Cboe chain vix.csv: …", and no way out named)."""
    path = make_book(tmp_path, date="2026-11-24")
    shutil.copy(DATA / "cboe" / "vix_options_processed_commit2023-09-04_4expiries_from_cboe.csv",
                tmp_path / "vix.csv")
    proc = run_mark(str(path), "--chain", "chain.csv", "--out", "m.xlsx", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "ChainFile" not in proc.stderr, proc.stderr
    assert ("alvh-xl mark: --chain chain.csv was quoted on 2025-10-01, the valuation date is "
            "2026-11-24: not used" in proc.stderr), proc.stderr
    assert "--set-valuation" in proc.stderr, proc.stderr
    proc = run_mark(str(path), "--chain", "vix.csv", "--out", "m.xlsx", "--set-valuation",
                    cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "ChainFile" not in proc.stderr and proc.stderr.count("vix.csv") == 1, proc.stderr
    assert "--quote-time" in proc.stderr, proc.stderr


def test_set_valuation_to_another_day_says_the_curve_and_market_levels_are_of_the_old_day(
        tmp_path):
    """`mark --set-valuation` moving the valuation to another day leaves CurveTable, VixSpot,
    Vvix and the rates as typed for the old day; it says so and how to re-mark the curve
    (review finding: the book silently valued a 2025 chain on a 2026 curve)."""
    path = make_book(tmp_path, date="2026-11-24")
    proc = run_mark(str(path), "--chain", "chain.csv", "--out", "m.xlsx", "--set-valuation",
                    cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert ("note: CurveTable, VixSpot, Vvix, Rate, DivYield and the ETP prices still hold what "
            "was typed for 2026-11-24; update them for 2025-10-01 (the curve: alvh-xl curve "
            "--date 2025-10-01 FILE --into m.xlsx --out …)" in proc.stdout), proc.stdout
    path = make_book(tmp_path, date="2025-10-01")            # same day: nothing to say
    proc = run_mark(str(path), "--chain", "chain.csv", "--out", "m2.xlsx", "--set-valuation",
                    cwd=tmp_path)
    assert proc.returncode == 0 and "still hold" not in proc.stdout, proc.stdout


def test_legs_imported_without_a_price_or_iv_are_marked(tmp_path):
    """A broker export without marks (tastytrade history, a plain OCC CSV) imports legs with
    Price and IV blank; `alvh-xl mark` is the step that fills them, so it must mark them, not
    skip them as 'left out by the positions reader'. Reference: the chain's mids (csv)."""
    path = make_book(tmp_path, date="2025-10-01")
    wb = openpyxl.load_workbook(path)
    ws = wb[L.POSITIONS]
    for r in range(2, 2 + len(LEGS)):
        ws.cell(r, COL["IV"]).value = ws.cell(r, COL["Price"]).value = None
    wb.save(path)
    proc = run_mark(str(path), "--chain", "chain.csv", "--out", "marked.xlsx", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "left the row out" not in proc.stdout, proc.stdout
    quotes = chain_quotes(CHAIN)
    ws = openpyxl.load_workbook(tmp_path / "marked.xlsx", data_only=True)[L.POSITIONS]
    for r, (_, _, t, k, *_rest) in zip(range(2, 2 + len(LEGS) - 1), LEGS, strict=False):
        bid, ask = quotes[(t, float(k))]
        price, iv = ws.cell(r, COL["Price"]).value, ws.cell(r, COL["IV"]).value
        assert price == (bid + ask) / 2, (r, t, k, bid, ask, price)
        assert isinstance(iv, float) and 0.05 < iv < 1.0, (r, t, k, iv)
    # the strike the chain does not list stays blank and is named with its reason
    assert ws.cell(UNQUOTED_ROW, COL["Price"]).value is None
    assert f"row {UNQUOTED_ROW}: SPX 2026-04-17 6801 P: strike not listed" in proc.stdout
