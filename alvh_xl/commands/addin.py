"""`alvh-xl addin build|install|remove|status`: the ALVH ribbon add-in for desktop Excel.

``build`` works anywhere (it only rewrites xlwings' template with zipfile). ``install``,
``remove`` and ``status`` need Excel on Windows or macOS: they call xlwings' own CLI
(``xlwings addin install|remove|status --file alvh_xl.xlam``, which copies the file into or
out of Excel's start-up folder) and update xlwings' user config so the add-in and the
worksheet functions find this Python and ``alvh_xl.udfs``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ..fileio import atomic_write
from ..tools import addin

Runner = Callable[..., "subprocess.CompletedProcess[str]"]
SUPPORTED = ("win32", "darwin")
INSTALLED_MARK = "The add-in is installed at"  # xlwings.cli.addin_status output


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = sub.add_parser("build", help=f"write {addin.ADDIN_FILE} (works on any OS)")
    build.add_argument("--out", type=Path, default=Path("."),
                       help="folder to write the add-in to (default: current folder)")
    build.add_argument("--interpreter-win", metavar="PATH",
                       help="Python the add-in runs on Windows (default: xlwings' fallback)")
    build.add_argument("--interpreter-mac", metavar="PATH",
                       help="Python the add-in runs on macOS (default: xlwings' fallback)")
    sub.add_parser("install", help="build for this Python and install into Excel's start-up "
                                   "folder (Windows/macOS)")
    sub.add_parser("remove", help="remove the add-in from Excel's start-up folder")
    sub.add_parser("status", help="show whether the add-in is installed and how it is set up")


def unsupported_message(action: str) -> str:
    return (f"alvh-xl addin {action} needs desktop Excel on Windows or macOS; on this system "
            f"use 'alvh-xl addin build' to write {addin.ADDIN_FILE}, or 'alvh-xl lite' for "
            "xlwings Lite.")


def xlwings_command(*args: str) -> list[str]:
    """xlwings' own CLI, run by this Python (same xlwings as the add-in template)."""
    return [sys.executable, "-m", "xlwings.cli", *args]


def run(args: argparse.Namespace, *, platform: str = sys.platform, home: Path | None = None,
        runner: Runner = subprocess.run) -> int:
    if args.action == "build":
        configured = args.interpreter_win or args.interpreter_mac
        settings = addin.addin_settings(args.interpreter_win, args.interpreter_mac)
        path = addin.build_addin(args.out, settings if configured else None)
        print(f"Wrote {path}")
        return 0
    if platform not in SUPPORTED:
        print(unsupported_message(args.action), file=sys.stderr)
        return 1
    config = addin.user_config_path(platform, home or Path.home())
    action = {"install": _install, "remove": _remove, "status": _status}[args.action]
    return action(platform, config, runner)


def _xlwings(runner: Runner, *args: str) -> str:
    done = runner(xlwings_command(*args), capture_output=True, text=True)
    out = (done.stdout or "") + (done.stderr or "")
    if out.strip():
        print(out.rstrip())
    return out


def _installed(runner: Runner) -> bool:
    return INSTALLED_MARK in _xlwings(runner, "addin", "status", "--file", addin.ADDIN_FILE)


def _read(config: Path) -> str:
    # default encoding, as xlwings' own writer (xlwings.cli.update_user_config) uses
    return config.read_text() if config.is_file() else ""


def _write_config(config: Path, updates: dict[str, str | None]) -> None:
    config.parent.mkdir(parents=True, exist_ok=True)
    text = addin.merge_config(_read(config), updates)
    atomic_write(config, lambda fh: fh.write(text), encoding=None, newline=None,
                 what="xlwings config")       # default encoding and newlines, as xlwings
    for key, value in updates.items():
        print(f"{config}: {key} = {value}" if value is not None else f"{config}: {key} removed")


def _install(platform: str, config: Path, runner: Runner) -> int:
    exe = sys.executable
    settings = (addin.addin_settings(interpreter_mac=exe) if platform == "darwin"
                else addin.addin_settings(interpreter_win=exe))
    with tempfile.TemporaryDirectory() as tmp:
        path = addin.build_addin(tmp, settings)
        _xlwings(runner, "addin", "install", "--file", str(path))
    if not _installed(runner):
        print(f"alvh-xl addin install: xlwings did not install {addin.ADDIN_FILE} (see above)",
              file=sys.stderr)
        return 1
    _write_config(config, addin.install_updates(_read(config), platform, sys.executable))
    print("Restart Excel: the ALVH tab's Refresh runs alvh_xl.main() with this Python.")
    if platform == "win32":
        print("Worksheet functions =ALVH_...(): install the xlwings add-in too "
              "('xlwings addin install') and click Import Functions on its ribbon tab.")
    return 0


def _remove(platform: str, config: Path, runner: Runner) -> int:
    _xlwings(runner, "addin", "remove", "--file", addin.ADDIN_FILE)
    if config.is_file():
        _write_config(config, addin.remove_updates(_read(config)))
    if _installed(runner):
        print(f"alvh-xl addin remove: {addin.ADDIN_FILE} is still installed (see above)",
              file=sys.stderr)
        return 1
    return 0


def _status(platform: str, config: Path, runner: Runner) -> int:
    _installed(runner)
    settings = addin.parse_config(_read(config))
    key = addin.interpreter_key(platform)
    modules: Sequence[str] = (settings.get("udf modules") or "").split(";")
    print(f"{config}: {key} = {settings.get(key.lower(), '(not set)')}"
          f"{' (this Python)' if settings.get(key.lower()) == sys.executable else ''}")
    print(f"{config}: UDF MODULES {'includes' if addin.UDF_MODULE in modules else 'lacks'} "
          f"{addin.UDF_MODULE}")
    return 0
