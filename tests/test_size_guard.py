"""The size guard (alvh_xl.xlsx_package.guard_workbook) refuses, in seconds and with bounded
memory, packages that would make a reader use gigabytes; whole-column names are clamped with
used_extent, checked against openpyxl's own reading."""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
import time
import zipfile
import zlib
from pathlib import Path

import hostile
import openpyxl
import pytest

from alvh_xl import xlsx_package
from alvh_xl.errors import WorkbookError
from alvh_xl.xlsx_package import guard_workbook, used_extent

ROOT = Path(__file__).parent.parent
TEMPLATE = hostile.TEMPLATE
POSITIONS_PART = "xl/worksheets/sheet3.xml"


# --------------------------------------------------------------------------- a real zip bomb

def _raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def bomb_stream(header: bytes, unit: bytes, repeats: int, footer: bytes
                ) -> tuple[bytes, int, int]:
    """(raw deflate stream, CRC-32, size) of header + unit × repeats + footer, built in
    milliseconds: after a full flush the compressor starts afresh, so the compressed unit is
    the same bytes every time and can be repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(header) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(unit) + c.flush(zlib.Z_FULL_FLUSH)
    assert c.compress(unit) + c.flush(zlib.Z_FULL_FLUSH) == block
    tail = c.compress(footer) + c.flush()
    crc = zlib.crc32(header)
    for _ in range(repeats):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(footer, crc)
    return head + block * repeats + tail, crc, len(header) + len(unit) * repeats + len(footer)


def write_zip(path: Path, entries: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip file from (name, raw deflate data, crc, uncompressed size) entries, written by
    hand so that sizes can be anything (including lies)."""
    central, offset = b"", 0
    with open(path, "wb") as fh:
        for name, data, crc, size in entries:
            n = name.encode()
            local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc,
                                len(data), size, len(n), 0) + n
            fh.write(local)
            fh.write(data)
            central += struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc,
                                    len(data), size, len(n), 0, 0, 0, 0, 0, offset) + n
            offset += len(local) + len(data)
        fh.write(central)
        fh.write(struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                             len(central), offset, 0))
    return path


def template_entries(replace: dict[str, tuple[bytes, int, int]] | None = None):
    replace = replace or {}
    out = []
    with zipfile.ZipFile(TEMPLATE) as z:
        for info in z.infolist():
            if info.filename in replace:
                out.append((info.filename, *replace[info.filename]))
            else:
                data = z.read(info.filename)
                out.append((info.filename, _raw_deflate(data), zlib.crc32(data), len(data)))
    return out


def positions_bomb(path: Path, gigabytes: float) -> Path:
    """The template with its Positions sheet holding ``gigabytes`` of rows (no r=, legal),
    each one cell: openpyxl would build ~40 million cells per GB."""
    with zipfile.ZipFile(TEMPLATE) as z:
        sheet = z.read(POSITIONS_PART)
    head, rest = sheet.split(b"<sheetData>", 1)
    _, tail = rest.split(b"</sheetData>", 1)
    unit = b"<row><c><v>1</v></c></row>" * ((1 << 20) // 26)
    repeats = int(gigabytes * 1e9 / len(unit))
    stream = bomb_stream(head + b"<sheetData>", unit, repeats, b"</sheetData>" + tail)
    return write_zip(path, template_entries({POSITIONS_PART: stream}))


def test_the_bomb_helper_builds_a_valid_zip(tmp_path):
    """The fixture itself: zipfile reads the small bomb back byte for byte (CRC checked)."""
    path = positions_bomb(tmp_path / "small.xlsx", 0.002)
    with zipfile.ZipFile(path) as z:
        data = z.read(POSITIONS_PART)
        assert z.testzip() is None
    assert data.count(b"<row><c><v>1</v></c></row>") == (1 << 20) // 26


def test_a_two_gigabyte_bomb_is_refused_in_seconds_with_little_memory(tmp_path):
    t0 = time.perf_counter()
    path = positions_bomb(tmp_path / "bomb.xlsx", 2.0)
    build_s = time.perf_counter() - t0
    assert path.stat().st_size < 6_000_000, path.stat().st_size     # a few MB on disk
    child = textwrap.dedent("""
        import resource, sys, time
        from alvh_xl.errors import WorkbookError
        from alvh_xl.xlsx_package import guard_workbook
        t0 = time.perf_counter()
        try:
            guard_workbook(sys.argv[1])
        except WorkbookError as exc:
            print(exc)
        print(time.perf_counter() - t0)
        try:            # this process's peak (ru_maxrss would include the forked parent's)
            status = open("/proc/self/status").read()
            print(int(status.split("VmHWM:")[1].split()[0]))
        except OSError:
            print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """)
    proc = subprocess.run([sys.executable, "-c", child, str(path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    message, seconds, max_rss_kb = proc.stdout.splitlines()
    print(f"bomb: {path.stat().st_size:,} bytes built in {build_s:.1f} s; refused in "
          f"{float(seconds):.3f} s, child max RSS {int(max_rss_kb) / 1024:.0f} MB")
    assert message == ("bomb.xlsx: refused before reading: its parts would decompress to "
                       "2,000 MB (limit 200 MB for an ALVH workbook)"), message
    assert float(seconds) < 2.0 and int(max_rss_kb) < 100_000
    # The command line says the same sentence, exit 1.
    proc = subprocess.run([sys.executable, "-m", "alvh_xl.cli", "check", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 1 and proc.stderr.strip() == f"alvh-xl check: {message}"


def test_a_bomb_under_the_total_limit_is_refused_by_its_ratio(tmp_path):
    path = positions_bomb(tmp_path / "bomb150.xlsx", 0.15)
    with pytest.raises(WorkbookError, match=r"part xl/worksheets/sheet3.xml is compressed "
                                            r"[\d,]+ : 1 .* like a zip bomb"):
        guard_workbook(path)


def test_lying_sizes_stop_at_the_declared_size(tmp_path):
    """A part claiming 5 kB whose stream holds 1 GB: zipfile stops at 5 kB, the CRC fails,
    and the guard says the part is damaged (no gigabyte is decompressed)."""
    with zipfile.ZipFile(TEMPLATE) as z:
        sheet = z.read(POSITIONS_PART)
    data, crc, _ = bomb_stream(sheet[:200], b"<row/>" * 100_000, 1600, b"")
    path = write_zip(tmp_path / "liar.xlsx",
                     template_entries({POSITIONS_PART: (data, crc, 5000)}))
    t0 = time.perf_counter()
    with pytest.raises(WorkbookError, match="part xl/worksheets/sheet3.xml is damaged"):
        guard_workbook(path)
    assert time.perf_counter() - t0 < 2.0


# --------------------------------------------------------------------------- rows and cells

def test_a_cell_in_the_last_row_is_refused_naming_the_sheet(tmp_path):
    wb = openpyxl.load_workbook(TEMPLATE)
    wb["Positions"]["N1048576"] = "x"
    wb.save(tmp_path / "deep.xlsx")
    t0 = time.perf_counter()
    with pytest.raises(WorkbookError) as err:
        guard_workbook(tmp_path / "deep.xlsx")
    assert str(err.value) == (
        "deep.xlsx: refused before reading: sheet 'Positions' declares a used range down to "
        "row 1,048,576 (an ALVH workbook uses at most 200,000 rows); clear the cells below "
        "its data")
    assert time.perf_counter() - t0 < 2.0


def test_row_numbers_past_the_limit_are_refused_even_with_a_small_dimension(tmp_path):
    pkg = hostile.Package()
    pkg.add_cells("Signals", [("A", "><v>1</v>")], row=250_001)
    path = pkg.save(tmp_path / "rows.xlsx")
    with pytest.raises(WorkbookError, match="sheet 'Signals' has a row 250,001"):
        guard_workbook(path)


def test_too_many_cells_too_many_parts_a_dtd_and_junk(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_package, "MAX_CELLS", 500)      # the template holds more
    with pytest.raises(WorkbookError, match="it holds more than 500 cells"):
        guard_workbook(TEMPLATE)
    monkeypatch.undo()
    many = tmp_path / "many.xlsx"
    with zipfile.ZipFile(many, "w") as z:
        for i in range(xlsx_package.MAX_PARTS + 1):
            z.writestr(f"x/{i}.xml", b"")
    with pytest.raises(WorkbookError, match=r"the package lists 5,001 parts"):
        guard_workbook(many)
    pkg = hostile.Package()
    part = pkg.sheet_part("Market")
    pkg.set(part, pkg.text(part).replace(
        "<worksheet ", '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">]><worksheet ', 1))
    with pytest.raises(WorkbookError, match=f"part {part} declares a DTD"):
        guard_workbook(pkg.save(tmp_path / "dtd.xlsx"))
    junk = tmp_path / "junk.xlsx"
    junk.write_text("not a zip")
    with pytest.raises(WorkbookError, match="junk.xlsx: not a readable .xlsx workbook"):
        guard_workbook(junk)


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """The template with 2,000 legs."""
    from alvh_xl.tools.synthetic import big_book, write_positions

    path = tmp_path_factory.mktemp("big") / "big.xlsx"
    path.write_bytes(TEMPLATE.read_bytes())
    write_positions(path, big_book(2_000))
    return path


def test_real_workbooks_pass(big):
    guard_workbook(TEMPLATE)
    t0 = time.perf_counter()
    guard_workbook(big)
    assert time.perf_counter() - t0 < 1.0


# --------------------------------------------------------------------------- used extent

def openpyxl_extent(path: Path, sheet: str) -> tuple[int, int]:
    """The reference: last row and column of a non-empty cell, as openpyxl reads them."""
    ws = openpyxl.load_workbook(path)[sheet]
    cells = [(c.row, c.column) for row in ws.iter_rows() for c in row if c.value is not None]
    return (max(r for r, _ in cells), max(c for _, c in cells)) if cells else (0, 0)


def test_used_extent_matches_openpyxl(big):
    for path in (TEMPLATE, big):
        for sheet in ("Positions", "Dashboard", "Signals", "xlwings.conf"):
            assert used_extent(path, sheet) == openpyxl_extent(path, sheet), (path, sheet)
    assert used_extent(big, "Positions")[0] == 2_001
    with pytest.raises(WorkbookError, match="no sheet 'Nope'"):
        used_extent(TEMPLATE, "Nope")


def test_used_extent_ignores_formatting_and_follows_cells_without_refs(tmp_path):
    pkg = hostile.Package()
    part = pkg.sheet_part("Positions")
    text = pkg.text(part)
    # styled but empty cells far below, then rows and cells without r= (placed in order)
    text = text.replace("</sheetData>", '<row r="400"><c r="Z400" s="1"/></row>'
                                        "</sheetData>")
    pkg.set(part, text)
    styled = pkg.save(tmp_path / "styled.xlsx")
    assert used_extent(styled, "Positions") == openpyxl_extent(TEMPLATE, "Positions")
    pkg.set(part, text.replace("</sheetData>", "<row><c/><c><v>5</v></c></row>"
                                               "<row><c><v>6</v></c></row></sheetData>"))
    no_refs = pkg.save(tmp_path / "norefs.xlsx")
    width = openpyxl_extent(TEMPLATE, "Positions")[1]
    assert used_extent(no_refs, "Positions") == (402, width) == openpyxl_extent(no_refs,
                                                                                "Positions")


def test_a_whole_column_name_is_not_an_error(tmp_path):
    """ALVH_POSITIONS = Positions!$A:$N passes the guard; its used extent is the data's."""
    wb = openpyxl.load_workbook(TEMPLATE)
    from openpyxl.workbook.defined_name import DefinedName

    del wb.defined_names["ALVH_POSITIONS"]
    wb.defined_names["ALVH_POSITIONS"] = DefinedName("ALVH_POSITIONS",
                                                     attr_text="Positions!$A:$N")
    path = tmp_path / "columns.xlsx"
    wb.save(path)
    guard_workbook(path)
    assert used_extent(path, "Positions") == openpyxl_extent(TEMPLATE, "Positions")


def test_the_guard_and_fileio_need_only_the_standard_library():
    """Readers run the guard before anything heavy: importing it loads no engine library."""
    script = ("import sys, json, alvh_xl.xlsx_package, alvh_xl.fileio\n"
              "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    import json

    assert not {"numpy", "pandas", "openpyxl", "xlwings"} & set(json.loads(out))
