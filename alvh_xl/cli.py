"""`alvh-xl` command line: the same engine as the Excel functions, without Excel.

Each subcommand lives in ``alvh_xl.commands.<name>`` with ``add_arguments(parser)`` and
``run(args) -> int``; modules are imported only when their command runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import AlvhError, PathError

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "report": ("alvh_xl.commands.report", "print the dashboard of a workbook (default: the "
               "bundled template) and write a filled copy and PNG charts"),
    "check": ("alvh_xl.commands.check", "validate an ALVH workbook: names, headers, formulas, "
              "rows"),
    "template": ("alvh_xl.commands.template", "write a fresh copy of the template workbook"),
    "snapshot": ("alvh_xl.commands.snapshot", "append today's figures of a workbook to its "
                 "history file"),
    "attribution": ("alvh_xl.commands.attribution", "explain P&L between history snapshots "
                    "(delta, gamma, vega, theta, unexplained)"),
    "chain": ("alvh_xl.commands.chain", "implied forward, discount, IVs and deltas of a Cboe "
              "quotedata.csv chain beside Cboe's"),
    "import-positions": ("alvh_xl.commands.import_positions", "positions from a broker export "
                         "(IBKR, thinkorswim, tastytrade, OCC CSV) as CSV or into a copy of a "
                         "workbook"),
    "mark": ("alvh_xl.commands.mark", "fill SpxSpot, the forwards and option Price/IV cells "
             "of a copy of a workbook from Cboe chain downloads"),
    "curve": ("alvh_xl.commands.curve", "the VIX futures curve of one day from CFE settlement "
              "files (CSV, or into a copy of a workbook)"),
    "addin": ("alvh_xl.commands.addin", "build / install / remove the ALVH ribbon add-in"),
    "lite": ("alvh_xl.commands.lite", "print requirements.txt and main.py for xlwings Lite"),
    "demo": ("alvh_xl.commands.demo", "print a small demo of the pricing functions"),
}


def _chosen(argv: list[str] | None) -> str | None:
    args = sys.argv[1:] if argv is None else argv
    return next((a for a in args if not a.startswith("-")), None)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alvh-xl", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = _chosen(argv)
    for name, (module, text) in COMMANDS.items():
        p = sub.add_parser(name, help=text, description=text)
        if name == chosen:       # import only the module of the command that runs
            importlib.import_module(module).add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "_module", None):
        parser.print_help()
        return 2
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except PathError as exc:         # a file or folder that cannot be used: exit 2
        print(f"alvh-xl {args.command}: {exc}", file=sys.stderr)
        return 2
    except AlvhError as exc:
        print(f"alvh-xl {args.command}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:          # e.g. `alvh-xl report --json | head`: not an error
        sys.stderr.close()
        return 0
    except OSError as exc:           # the file system said no (EACCES, ENOSPC, …): exit 2
        from .fileio import os_error_sentence

        print(f"alvh-xl {args.command}: {os_error_sentence(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
