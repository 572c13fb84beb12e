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
    from ..fileio import atomic_write, output_dir

    texts = files(args.wheel)
    if args.out:
        output_dir(args.out, create=True)
        for name, text in texts.items():
            atomic_write(args.out / name, lambda fh, text=text: fh.write(text), what=name)
            print(f"Wrote {args.out / name}")
        return 0
    print("In the xlwings Lite editor, add these lines to requirements.txt (keep the lines "
          "already there) and paste the main.py text into main.py.\n")
    for name, text in texts.items():
        print(f"==> {name} <==\n{text}")
    return 0
