"""`alvh-xl lite`: print (or write) the requirements.txt and main.py for xlwings Lite."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..tools import lite


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wheel", metavar="URL",
                        help="install alvh-xl from this wheel URL instead of PyPI "
                             "(an HTTPS address Excel may fetch)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="write requirements.txt and main.py into DIR instead of printing")


def files(wheel: str | None = None) -> dict[str, str]:
    """File name -> text, in the order the Lite editor shows its tabs."""
    return {"requirements.txt": lite.requirements_txt(wheel), "main.py": lite.main_py()}


def run(args: argparse.Namespace) -> int:
    texts = files(args.wheel)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            (args.out / name).write_text(text, encoding="utf-8")
            print(f"Wrote {args.out / name}")
        return 0
    print("In the xlwings Lite editor, add these lines to requirements.txt (keep the lines "
          "already there) and paste the main.py text into main.py.\n")
    for name, text in texts.items():
        print(f"==> {name} <==\n{text}")
    return 0
