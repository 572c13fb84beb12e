"""`alvh-xl calc build|install|remove|status`: the ALVH functions in LibreOffice Calc.

``build`` writes alvh_xl.oxt (works anywhere, needs no LibreOffice). ``install`` builds it for
this Python and adds it with LibreOffice's own ``unopkg`` for the current user, or into the
profile named by ``--profile`` (a LibreOffice user installation folder, as in
``soffice -env:UserInstallation=file:///…``); ``remove`` takes it out again; ``status`` says
whether it is installed, which Python it runs, and starts that Python's worker once to check
it answers. Close LibreOffice first: unopkg cannot change a profile LibreOffice has open.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

from ..tools import calc as build
from ..tools import libreoffice as lo


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    b = sub.add_parser("build", help=f"write {build.OXT_NAME} (any OS; no LibreOffice needed)")
    b.add_argument("--out", type=Path, default=Path("."), help="folder to write it to "
                   "(default: current folder)")
    for p in (b, i := sub.add_parser("install", help="build for this Python and install it "
                                                     "with unopkg")):
        p.add_argument("--python", metavar="PATH", help="Python that runs the functions "
                       "(default: this one, " + sys.executable + ")")
        p.add_argument("--call-timeout", type=float, default=build.CALL_TIMEOUT, metavar="S",
                       help="seconds one function call may take before the worker is "
                            f"stopped (default {build.CALL_TIMEOUT:g})")
    r = sub.add_parser("remove", help="uninstall it with unopkg")
    s = sub.add_parser("status", help="installed? which Python? does its worker answer?")
    for p in (i, r, s):
        p.add_argument("--profile", type=Path, metavar="DIR", help="LibreOffice user "
                       "installation folder (default: the user's own profile)")
        p.add_argument("--unopkg", metavar="PATH", help="LibreOffice's unopkg (default: "
                       "found on PATH or in the usual install folders)")


def run(args: argparse.Namespace) -> int:
    if args.action == "build":
        python = args.python or sys.executable
        path = build.build_calc_addin(args.out, python, call_timeout=args.call_timeout)
        print(f"Wrote {path} (functions run by {python})")
        return 0
    return {"install": _install, "remove": _remove, "status": _status}[args.action](args)


def _unopkg(args: argparse.Namespace, *extra: str, run_as: lo.RunAs | None = None):
    command = [lo.find_program("unopkg", args.unopkg), *extra, *lo.profile_arg(args.profile)]
    return lo.run(command, run_as or lo.RunAs())


def _install(args: argparse.Namespace) -> int:
    python = _interpreter(args.python) if args.python else sys.executable
    run_as = lo.run_as_for(args.profile)
    if args.profile is not None:
        lo.ensure_profile(args.profile, run_as)
    folder = Path(tempfile.mkdtemp(prefix="alvh-calc-"))
    try:
        folder.chmod(0o755)                 # readable by the profile's owner (see RunAs)
        oxt = build.build_calc_addin(folder, python, call_timeout=args.call_timeout)
        done = _unopkg(args, "add", "--force", "--suppress-license", str(oxt), run_as=run_as)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if done.returncode != 0 or not _listed(args, run_as):
        print(f"alvh-xl calc install: unopkg did not install {build.OXT_NAME} (exit "
              f"{done.returncode}): {_output(done)}", file=sys.stderr)
        return 1
    print(f"Installed {build.EXTENSION_ID} {build.__version__} into "
          f"{args.profile or 'your LibreOffice profile'}; ALVH_* functions run {python}.")
    print("Restart LibreOffice, then open the template: the ALVH blocks compute in Calc.")
    return 0


def _interpreter(python: str) -> str:
    """The Python the worker will run, as an absolute path (symlinks kept, as a virtual
    environment needs); PathError (exit 2) when no such program can be run."""
    from ..errors import PathError

    found = shutil.which(python)
    if found is None:
        raise PathError(f"--python {python}: no such program, or not executable; give the "
                        "path of the Python that has alvh_xl")
    return str(Path(found).absolute())


def _remove(args: argparse.Namespace) -> int:
    run_as = lo.run_as_for(args.profile)
    done = _unopkg(args, "remove", build.EXTENSION_ID, run_as=run_as)
    if _listed(args, run_as):
        print(f"alvh-xl calc remove: {build.EXTENSION_ID} is still installed (exit "
              f"{done.returncode}): {_output(done)}", file=sys.stderr)
        return 1
    where = str(args.profile) if args.profile else "your LibreOffice profile"
    if done.returncode == 0:
        print(f"Removed {build.EXTENSION_ID} from {where}.")
    else:                                   # unopkg: "no such extension deployed"
        print(f"{build.EXTENSION_ID} was not installed in {where}.")
    return 0


def _status(args: argparse.Namespace) -> int:
    listing = _unopkg(args, "list", build.EXTENSION_ID,
                      run_as=lo.run_as_for(args.profile)).stdout or ""
    if not _is_registered(listing):
        print(f"{build.EXTENSION_ID} is not installed"
              f"{' in ' + str(args.profile) if args.profile else ''}.")
        return 1
    version = re.search(r"Version:\s*(\S+)", listing)
    print(f"{build.EXTENSION_ID} {version.group(1) if version else '?'} is installed"
          f"{' in ' + str(args.profile) if args.profile else ''}.")
    config = _installed_config(listing, args.profile)
    if config is None:
        print("  its alvh_calc.json was not found in the profile", file=sys.stderr)
        return 1
    print(f"  Python: {config['python']}")
    from ..calc.client import default_log_path

    print(f"  functions: {len(config['functions'])}; worker log: "
          f"{config.get('log') or default_log_path()}")
    return _check_worker(config)


def _check_worker(config: dict) -> int:
    from ..calc.client import WorkerBug, WorkerClient, WorkerUnavailable

    client = WorkerClient([config["python"], *config["worker_args"]],
                          start_timeout=config["start_timeout"], call_timeout=60,
                          retry_after=0, env=lo.office_env())
    try:
        answer = client.call("ALVH_FLAG", [7.0, 3.04])
    except (WorkerUnavailable, WorkerBug) as exc:
        print(f"  worker: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    missing = sorted({f["name"] for f in config["functions"]} - set(client.info["functions"]))
    print(f"  worker: {client.info['version']} answers (ALVH_FLAG(7, 3.04) = {answer})")
    if missing:
        print(f"  this alvh_xl lacks {', '.join(missing)}: install the add-in again",
              file=sys.stderr)
        return 1
    return 0


def _listed(args: argparse.Namespace, run_as: lo.RunAs) -> bool:
    return _is_registered(_unopkg(args, "list", build.EXTENSION_ID, run_as=run_as).stdout or "")


def _is_registered(listing: str) -> bool:
    return f"Identifier: {build.EXTENSION_ID}" in listing and re.search(
        r"is registered:\s*yes", listing) is not None


def _installed_config(listing: str, profile: Path | None) -> dict | None:
    """The installed copy of alvh_calc.json (unopkg lists the extension's folder)."""
    m = re.search(r"URL:\s*vnd\.sun\.star\.expand:\$UNO_USER_PACKAGES_CACHE/(\S+?\.oxt)\b",
                  listing)
    if not m:
        return None
    base = (Path(profile) if profile else _default_profile()) / "user" / "uno_packages" / "cache"
    path = base / m.group(1) / "alvh_calc.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _default_profile() -> Path:
    home = Path.home()
    if sys.platform == "win32":
        import os

        return Path(os.environ.get("APPDATA", home)) / "LibreOffice" / "4"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "LibreOffice" / "4"
    return home / ".config" / "libreoffice" / "4"


def _output(done) -> str:
    return " ".join(((done.stdout or "") + (done.stderr or "")).split()) or "no output"
