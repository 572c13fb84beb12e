"""`alvh-xl check WORKBOOK`: list everything that stops a shared ALVH workbook from working.

Prints one line per problem (sheet, cell or row, column, reason) and exits 1 if there is
any; notes (e.g. an expired leg valued at intrinsic) are printed but do not fail.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workbook", help="the .xlsx workbook to check")
    parser.add_argument("--allow-values", action="store_true",
                        help="accept blocks holding values instead of ALVH_* formulas (a "
                             "workbook written by Refresh or `alvh-xl report`)")


def run(args: argparse.Namespace) -> int:
    from ..tools.check import check_workbook

    result = check_workbook(args.workbook, allow_values=args.allow_values)
    for finding in result.findings:
        print(finding)
    errors = len(result.errors)
    notes = len(result.findings) - errors
    summary = (f"{result.path.name}: {result.names} names, {result.formulas} formulas, "
               f"{result.legs} legs valued")
    if errors:
        print(f"{summary}; {errors} problem{'s' if errors != 1 else ''}"
              f"{f', {notes} notes' if notes else ''}")
        return 1
    print(f"{summary}: OK{f' ({notes} notes)' if notes else ''}")
    return 0
