"""Run LibreOffice's own programs (``unopkg``, ``soffice``) for the Calc add-in.

* ``office_env()``: the environment to start them in. An activated virtual environment's
  ``bin`` folder on PATH makes LibreOffice's embedded Python pick up that environment, and
  then every Python component fails to load — an .xlsx that calls the add-in does not even
  open ("source file could not be loaded", LibreOffice 7.4). So those folders, VIRTUAL_ENV,
  PYTHONHOME and PYTHONPATH are left out.
* A *profile* is a LibreOffice user installation directory (``-env:UserInstallation``); None
  means the user's normal one. A new profile is initialised by LibreOffice itself before
  ``unopkg`` touches it (an extension added to a profile that only ``unopkg`` created makes
  soffice abort with a DeploymentException).
* ``unopkg`` refuses per-user installs when run as root. Run as root with a profile owned by
  another user, it runs as that user (so the profile stays that user's); with a root-owned or
  the default profile it reports that plainly instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

RECALC_ALWAYS = 0           # Calc's "Recalculation on file load": 0 always, 1 never, 2 prompt
PROGRAM_DIRS = (
    "/usr/lib/libreoffice/program", "/usr/lib64/libreoffice/program",
    "/opt/libreoffice/program", "/Applications/LibreOffice.app/Contents/MacOS",
    r"C:\Program Files\LibreOffice\program", r"C:\Program Files (x86)\LibreOffice\program",
)
_DROP = ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "__PYVENV_LAUNCHER__")


class OfficeError(InputError):
    """LibreOffice is missing or one of its programs failed (the message says which)."""


def find_program(name: str, explicit: str | None = None) -> str:
    """Path of a LibreOffice program (``unopkg``, ``soffice``): ``explicit``, PATH, or the
    usual install folders."""
    if explicit:
        if not Path(explicit).is_file():
            raise OfficeError(f"{explicit}: no such program")
        return explicit
    names = [name, f"{name}.com", f"{name}.exe"] if sys.platform == "win32" else [name]
    for n in names:
        found = shutil.which(n, path=office_env().get("PATH"))
        if found:
            return found
    for folder in PROGRAM_DIRS:
        for n in names:
            if (Path(folder) / n).is_file():
                return str(Path(folder) / n)
    raise OfficeError(f"LibreOffice's {name} was not found (is LibreOffice installed? on "
                      "Debian/Ubuntu: apt-get install libreoffice-calc-nogui python3-uno)")


def office_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) without virtual-environment settings."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _DROP}
    parts = [p for p in env.get("PATH", "").split(os.pathsep)
             if p and not (Path(p).parent / "pyvenv.cfg").is_file()]
    env["PATH"] = os.pathsep.join(parts)
    return env


def profile_arg(profile: Path | None) -> list[str]:
    """``-env:UserInstallation=file:///…`` for a named profile (nothing for the default)."""
    return [] if profile is None else [f"-env:UserInstallation={Path(profile).resolve().as_uri()}"]


@dataclass(frozen=True)
class RunAs:
    """Who runs LibreOffice's programs: this process (uid None) or the profile's owner."""

    uid: int | None = None
    gid: int | None = None
    home: str | None = None

    def kwargs(self) -> dict:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def run_as_for(profile: Path | None, shared: bool = False) -> RunAs:
    """This process, or (as root) the owner of ``profile``; refuses root per-user installs."""
    if shared or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return RunAs()
    owner = _owner(profile) if profile is not None else None
    if owner is None or owner[0] == 0:
        where = ("or name a profile folder owned by that user with --profile" if profile is None
                 else f"or give --profile a folder owned by that user (--profile {profile} is "
                 f"owned by root: chown it, or its parent, to that user)")
        raise OfficeError(
            "unopkg refuses per-user extensions when run as root: run `alvh-xl calc "
            f"install|remove|status` as the user who runs LibreOffice, {where}")
    import pwd

    try:
        home = pwd.getpwuid(owner[0]).pw_dir
    except KeyError:
        home = None
    if not home or not os.access(home, os.W_OK):
        home = str(_existing(profile))
    return RunAs(owner[0], owner[1], home)


def _existing(path: Path) -> Path:
    path = Path(path).resolve()
    while not path.exists():
        path = path.parent
    return path


def _owner(path: Path) -> tuple[int, int] | None:
    st = _existing(path).stat()
    return st.st_uid, st.st_gid


def run(command: list[str], run_as: RunAs | None = None, timeout: float = 300,
        ) -> subprocess.CompletedProcess:
    """Run a LibreOffice program in ``office_env()``; output captured as text."""
    run_as = run_as or RunAs()
    env = office_env()
    if run_as.home:
        env["HOME"] = run_as.home
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL, **run_as.kwargs())
    except subprocess.TimeoutExpired as exc:
        raise OfficeError(f"{Path(command[0]).name} did not finish within {timeout:g} s "
                          f"({' '.join(command[1:3])} …)") from exc


def ensure_profile(profile: Path, run_as: RunAs | None = None,
                   soffice: str | None = None) -> None:
    """Let LibreOffice create ``profile`` if it does not hold a user installation yet."""
    run_as = run_as or RunAs()
    if (Path(profile) / "user" / "registrymodifications.xcu").is_file():
        return
    Path(profile).mkdir(parents=True, exist_ok=True)
    if run_as.uid is not None:
        os.chown(profile, run_as.uid, run_as.gid)
    done = run([find_program("soffice", soffice), *profile_arg(profile), "--headless",
                "--norestore", "--terminate_after_init"], run_as)
    if not (Path(profile) / "user").is_dir():
        raise OfficeError(f"LibreOffice did not create the profile {profile} "
                          f"(exit {done.returncode}): {(done.stderr or done.stdout).strip()}")


def set_recalc_on_load(profile: Path, mode: int = RECALC_ALWAYS) -> None:
    """Make Calc recalculate .xlsx (and .ods) files when they are loaded in ``profile``
    (Tools ▸ Options ▸ Calc ▸ Formula ▸ Recalculation on File Load); replaces earlier values."""
    path = Path(profile) / "user" / "registrymodifications.xcu"
    text = path.read_text(encoding="utf-8")
    if "</oor:items>" not in text:
        raise OfficeError(f"{path}: not a LibreOffice registrymodifications.xcu")
    names = ("OOXMLRecalcMode", "ODFRecalcMode")
    text = re.sub(r'<item oor:path="/org\.openoffice\.Office\.Calc/Formula/Load">'
                  rf'<prop oor:name="(?:{"|".join(names)})"[^>]*>.*?</item>\n?', "", text,
                  flags=re.S)
    items = "".join(
        f'<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="{name}" '
        f'oor:op="fuse"><value>{mode}</value></prop></item>\n' for name in names)
    path.write_text(text.replace("</oor:items>", items + "</oor:items>"), encoding="utf-8")
