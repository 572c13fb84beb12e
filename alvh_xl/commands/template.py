"""`alvh-xl template [PATH]`: write a fresh copy of the ALVH template workbook.

The committed ``workbooks/alvh_template.xlsx`` is exactly this output (sample book valued on
the layout's valuation date; live ALVH_* formulas stored with their results).
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_NAME = "alvh_template.xlsx"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=DEFAULT_NAME,
                        help=f"where to write the workbook (default ./{DEFAULT_NAME})")
    parser.add_argument("--static", action="store_true",
                        help="values only, no ALVH_* formulas (for viewers without alvh_xl, "
                             "e.g. LibreOffice, which recalculates array formulas on open)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")


def run(args: argparse.Namespace) -> int:
    from ..errors import PathError
    from ..fileio import output_file
    from ..tools.template import build_template

    path = Path(args.path)
    if path.suffix.lower() != ".xlsx":
        raise PathError(f"template {path}: the template is an .xlsx file; name it *.xlsx")
    output_file(path, what="template")
    if path.exists() and not args.force:
        raise PathError(f"template {path} exists; pass --force to overwrite it")
    build_template(path, live=not args.static)
    kind = "static snapshot" if args.static else "template"
    print(f"wrote {kind} {path}")
    return 0
