"""`alvh-xl check WORKBOOK`: list everything that stops a shared ALVH workbook from working.

Prints one line per problem (sheet, cell or row, column, reason) and exits 1 if there is
any; notes (e.g. an expired leg valued at intrinsic) are printed but do not fail. Anything
that makes a shared workbook unsafe (macros, external links, DDE, embedded objects, data
connections, file hyperlinks, very hidden sheets, xlwings.conf settings choosing code) is a
problem. ``--strip OUT`` writes a copy without those (values kept) and checks the copy.
A path that cannot be used (missing, a folder, a device, OUT = WORKBOOK) exits 2.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workbook", help="the .xlsx workbook to check")
    parser.add_argument("--allow-values", action="store_true",
                        help="accept blocks holding values instead of ALVH_* formulas (a "
                             "workbook written by Refresh or `alvh-xl report`)")
    parser.add_argument("--strip", metavar="OUT",
                        help="write OUT (.xlsx): a copy without macros, links to other files, "
                             "DDE, embedded objects, connections, file hyperlinks, very hidden "
                             "sheets and xlwings.conf settings other than UDF Modules = "
                             "alvh_xl.udfs (values kept); then check OUT")


def run(args: argparse.Namespace) -> int:
    from ..errors import count
    from ..fileio import input_file, input_workbook
    from ..tools.check import check_workbook

    workbook = input_workbook(args.workbook)
    if args.strip:
        from ..tools.strip import strip_copy

        removed = strip_copy(workbook, args.strip)
        for finding in removed:
            print(f"removed: {finding}")
        print(f"Wrote {args.strip} ({len(removed)} unsafe item{'s' if len(removed) != 1 else ''}"
              f" removed from {workbook.name}); checking it:")
        workbook = input_file(args.strip, "stripped copy")
    result = check_workbook(workbook, allow_values=args.allow_values)
    for finding in result.findings:
        print(finding)
    errors = len(result.errors)
    notes = len(result.findings) - errors
    summary = (f"{result.path.name}: {result.names} names, {result.formulas} formulas, "
               f"{count(result.legs, 'leg')} valued")
    noted = count(notes, "note")
    if errors:
        print(f"{summary}; {count(errors, 'problem')}{f', {noted}' if notes else ''}")
        return 1
    print(f"{summary}: OK{f' ({noted})' if notes else ''}")
    return 0
