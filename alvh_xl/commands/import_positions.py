"""`alvh-xl import-positions FILE`: positions from a broker export, as CSV or into a copy of a
workbook's Positions table.

Without ``--into``: the positions table's header and one row per mapped leg on stdout (CSV,
cells escaped for Excel); what was ignored (outside the ALVH universe), what could not be
mapped (with the reason) and notes on stderr. With ``--into WORKBOOK --out COPY``: the rows
replace the body of ``PositionsTable`` in COPY (WORKBOOK is never written), the layers from
``--rules``, else the workbook's ``LayerRulesTable``, else the default rules. A broker export
has no strategy: a contract the workbook's table already tags with one Strategy keeps it
(so condor analytics and Strategy rules still apply after a re-import).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import count

if TYPE_CHECKING:
    from ..book.brokers import BrokerImport, PositionsImport
    from ..book.rules import LayerRule

POSITIONS_TABLE = "PositionsTable"
RULES_TABLE = "LayerRulesTable"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="broker export: IBKR Flex Open Positions "
                        "CSV/XML, thinkorswim Position/Account Statement CSV, tastytrade "
                        "transaction CSV, or a CSV of OCC symbols and quantities")
    parser.add_argument("--broker", default="auto",
                        choices=("auto", "ibkr", "tos", "tastytrade", "occ"),
                        help="the file's format (default: detected)")
    parser.add_argument("--rules", metavar="RULES", help="layer rules table (CSV, or "
                        "book.xlsx#Name) with columns Instrument, Root, ExpiryFrom, ExpiryTo, "
                        "Strategy, Layer")
    parser.add_argument("--into", metavar="WORKBOOK", help="workbook whose PositionsTable the "
                        "rows replace, in the copy --out")
    parser.add_argument("--out", metavar="COPY", help="the copy to write (with --into)")
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="date that anchors one-digit "
                        "futures years in a plain OCC CSV (default today)")


def run(args: argparse.Namespace) -> int:
    from ..book.brokers import existing_strategies, positions_table, read_positions
    from ..errors import PathError
    from ..fileio import input_file

    source = input_file(args.file, "broker file")
    if bool(args.into) != bool(args.out):
        raise PathError("--into WORKBOOK and --out COPY go together")
    if args.into:
        _check_out(Path(args.into), Path(args.out), source)
    as_of = _as_of(args.as_of)
    rules = _rules(args)
    imported = read_positions(source, args.broker, as_of=as_of)
    strategies, notes = {}, []
    if args.into:
        from ..tools.xlsxedit import read_table

        data = read_table(args.into, POSITIONS_TABLE)
        strategies, notes = existing_strategies(data.header, data.rows)
    table = positions_table(imported, rules, strategies)
    kept = sum(1 for leg in table.rows if leg[table.header.index("Strategy")])
    if args.into:
        notes.append(f"Strategy kept from {Path(args.into).name} for {kept} of "
                     f"{count(len(table.rows), 'leg')} (a broker export has none)")
    imported.notes.extend(notes)
    _report(imported, table)
    if not args.into:
        write_csv(sys.stdout, [list(table.header), *table.rows])
        return 0
    if not table.rows:                # a copy without a book is no use, and looks like one
        print(f"{args.out} not written: no leg of {source.name} could be mapped, and the copy "
              f"would hold an empty {POSITIONS_TABLE}", file=sys.stderr)
        return 1
    from ..tools.xlsxedit import edit_copy

    changed = edit_copy(args.into, args.out,
                        tables={POSITIONS_TABLE: [list(table.header), *table.rows]})
    print(f"{args.out}: {POSITIONS_TABLE} holds {count(len(table.rows), 'leg')} from "
          f"{source.name} ({len(changed)} cells changed)", file=sys.stderr)
    return 0


def _check_out(workbook: Path, out: Path, source: Path) -> None:
    from ..fileio import input_workbook, output_file

    output_file(out, what="copy", not_same_as=[input_workbook(workbook), source])


def _as_of(text: str | None) -> dt.date | None:
    from ..errors import InputError

    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--as-of: expected a date like 2026-10-05, got {text!r}") from None


def _rules(args: argparse.Namespace) -> list[LayerRule] | tuple[LayerRule, ...]:
    from ..book.rules import DEFAULT_RULES, parse_layer_rules
    from ..fileio import input_file

    if args.rules:
        base = args.rules.rpartition("#")[0] if "#" in args.rules else args.rules
        input_file(base, "rules file")
        return parse_layer_rules(args.rules, name=f"layer rules ({Path(base).name})")
    if args.into:
        from ..book.xlsx import bounds
        from ..tools.xlsxedit import read_table, table_names

        if RULES_TABLE.casefold() in (n.casefold() for n in table_names(args.into)):
            data = read_table(args.into, RULES_TABLE)
            first_row = bounds(data.ref)[0]
            return parse_layer_rules([data.header, *data.rows], name=f"{RULES_TABLE} "
                                     f"({data.sheet})", first_row=first_row)
    return DEFAULT_RULES


def _report(imported: BrokerImport, table: PositionsImport) -> None:
    err = sys.stderr
    print(f"{imported.path.name}: {imported.broker}, {count(len(table.rows), 'leg')} mapped, "
          f"{len(imported.ignored)} ignored, {len(imported.unmapped)} not mapped", file=err)
    for title, items in (("not mapped", imported.unmapped),
                         ("layer not assigned", table.unassigned),
                         ("ignored (outside the ALVH universe)", imported.ignored)):
        if items:
            print(f"{title}:", file=err)
            for item in items:
                print(f"  {item}", file=err)
    for note in imported.notes:
        print(f"note: {note}", file=err)


def write_csv(stream: TextIO, rows: list[list[Any]]) -> None:
    """Rows as CSV safe to open in Excel: ISO dates, numbers without '.0', text escaped."""
    from ..book.csvsafe import escape_cell

    writer = csv.writer(stream, lineterminator="\n")
    for row in rows:
        writer.writerow([_text(v, escape_cell) for v in row])


def _text(value: Any, escape) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return escape(str(value))
