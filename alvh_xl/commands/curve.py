"""`alvh-xl curve --date YYYY-MM-DD FILE…`: the VIX futures curve of one day from CFE files.

Prints ``Expiry,Price`` CSV (ISO dates, VIX points) on stdout, or with ``--into WORKBOOK --out
COPY`` replaces the body of the workbook's ``CurveTable`` in a copy (the input is never
written). Futures left out (expired, no settlement that day, untrusted weekly prices) and notes
go to stderr. See :mod:`alvh_xl.book.cfe` for the files it reads.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from ..book.cfe import CfeCurve, read_cfe_curve
from ..errors import InputError, NoSolutionError

CURVE_TABLE = "CurveTable"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", metavar="FILE", nargs="+",
                        help="CFE daily settlement CSV and/or per-contract VX_YYYY-MM-DD.csv")
    parser.add_argument("--date", required=True, metavar="YYYY-MM-DD",
                        help="the trade date whose settlements make the curve")
    parser.add_argument("--trust-weeklies", action="store_true",
                        help="keep weekly futures whose printed price repeats another "
                             "contract's (left out by default)")
    parser.add_argument("--into", metavar="WORKBOOK", help="workbook whose CurveTable to fill")
    parser.add_argument("--out", metavar="COPY", help="where to write the filled copy")


def run(args: argparse.Namespace) -> int:
    _check_paths(args)
    try:
        date = dt.date.fromisoformat(args.date)
    except ValueError:
        raise InputError(f"--date {args.date!r}: expected YYYY-MM-DD") from None
    if args.into:
        _check_valuation_date(args.into, date)
    curve = read_cfe_curve(args.files, date, trust_weeklies=args.trust_weeklies)
    _report(curve)
    if curve.points.empty:
        raise NoSolutionError(f"no VX future settled on {date.isoformat()} in the files given")
    rows = [[e, float(p)] for e, p in zip(curve.points["expiry"], curve.points["price"],
                                          strict=True)]
    if args.into:
        from ..tools.xlsxedit import edit_copy
        from ..xl.marking import cell_ranges

        changed = edit_copy(args.into, args.out,
                            tables={CURVE_TABLE: [["Expiry", "Price"], *rows]})
        print(f"wrote {args.out}: {CURVE_TABLE} now holds {len(rows)} futures of "
              f"{date.isoformat()}; cells changed: {cell_ranges(changed) if changed else 'none'}")
        return 0
    lines = ["Expiry,Price", *(f"{e.isoformat()},{p:.10g}" for e, p in rows)]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _check_valuation_date(workbook: str, date: dt.date) -> None:
    """InputError (exit 1, nothing written) when the workbook is valued on another day than
    the curve's: the same rule as ``mark`` and Refresh, which refuse files of another day."""
    from ..xl.layout import LAYOUT
    from ..xl.workbook import open_workbook, read_inputs

    market = read_inputs(open_workbook(workbook), LAYOUT).get("ALVH_MARKET")
    day = market.valuation.date()
    if day != date:
        raise InputError(f"{workbook}: ValuationDate is {day.isoformat()}, the curve is of "
                         f"{date.isoformat()}: not written (give --date {day.isoformat()}, or "
                         f"set ValuationDate to {date.isoformat()} first)")


def _check_paths(args: argparse.Namespace) -> None:
    """PathError (exit 2) for a CFE file or workbook that cannot be read, or a copy that
    cannot be written (or would overwrite an input)."""
    from ..errors import PathError
    from ..fileio import input_file, input_workbook, output_file

    files = [input_file(f, "CFE file") for f in args.files]
    if bool(args.into) != bool(args.out):
        raise PathError("--into WORKBOOK and --out COPY go together: the workbook to read and "
                        "the copy to write")
    if args.into:
        into = input_workbook(args.into)
        output_file(args.out, what="copy", not_same_as=[into, *files])


def _report(curve: CfeCurve) -> None:
    for item in curve.left_out:
        print(f"left out: {item}", file=sys.stderr)
    for note in curve.notes:
        print(f"note: {note}", file=sys.stderr)
