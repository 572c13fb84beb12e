"""Every file alvh_xl writes goes through here: path checks, atomic writes, a writer lock.

* ``input_file`` / ``output_file`` / ``output_dir`` refuse, with one sentence (``PathError``),
  paths that cannot work: missing, a folder where a file is needed (or the reverse), a FIFO
  or device (``/dev/full`` would swallow a write, a FIFO blocks a read forever), an
  unwritable folder, an output that is one of the inputs.
* ``atomic_write`` writes to a temporary file in the target's folder, flushes and fsyncs it,
  renames it over the target (``os.replace``) and fsyncs the folder: a crash, a kill or a full
  disk at any moment leaves the previous file (or none), never a truncated one.
  Temporary names are ``.<name>.alvh-<host>-<pid>-<random>.tmp``; ``cleanup_orphans`` removes
  those a killed run left behind (its process is gone, or the file is untouched for an hour),
  never a running writer's.
* ``exclusive_lock`` serialises read-modify-write cycles on one file across processes with an
  advisory lock on ``.<name>.alvh.lock`` beside it (``fcntl.flock`` on POSIX,
  ``msvcrt.locking`` on Windows). The lock file stays (deleting it would race).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import socket
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import PathError

#: A temporary file not modified for this long is an orphan even if its pid looks alive
#: (pid reuse, or a writer on another machine sharing the folder). No alvh_xl write takes
#: minutes, and a live writer keeps touching its file.
STALE_AFTER_S = 3600.0
#: Errors of the destination (not of the data being written): reported as one sentence.
_DESTINATION_ERRNOS = {getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS",
                                                         "EACCES", "EPERM", "EIO")
                       if hasattr(errno, name)}


def _host_tag() -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname())[:32] or "host"


_TEMP_RE = re.compile(r"\.alvh-(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-[0-9a-f]+\.tmp$")


# --------------------------------------------------------------------------- path checks

def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)                 # follows symlinks: a link to /dev/full is a device
    except FileNotFoundError:
        return None
    except NotADirectoryError:               # a parent is a file
        return None


def input_file(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` as a readable regular file, or ``PathError`` saying why not.

    ``what`` names the file in the sentence ("workbook", "history", …)."""
    p = Path(path)
    st = _stat(p)
    if st is None:
        _check_folder(p.parent, what, p, write=False)
        raise PathError(f"{what} {p}: no such file")
    if not stat.S_ISREG(st.st_mode):
        raise PathError(f"{what} {p} is {_kind(st.st_mode)}, not a file")
    if not os.access(p, os.R_OK):
        raise PathError(f"{what} {p} cannot be read (permission denied)")
    return p


def input_workbook(path: str | os.PathLike[str], what: str = "workbook") -> Path:
    """``path`` as a readable .xlsx/.xlsm file, or ``PathError`` saying why not."""
    p = input_file(path, what)
    if p.suffix.lower() not in (".xlsx", ".xlsm"):
        raise PathError(f"{what} {p}: expected an Excel workbook (.xlsx or .xlsm)")
    return p


def output_file(path: str | os.PathLike[str], *, what: str = "output",
                not_same_as: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """``path`` as a file that can be (re)written atomically, or ``PathError`` saying why not.

    Refused: a folder, a device or FIFO (``/dev/full``), a read-only file, a missing or
    unwritable folder, a path that is one of ``not_same_as`` (the inputs). Symbolic links are
    resolved, so the file they point to is replaced and the link kept."""
    p = Path(path)
    st = _stat(p)
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise PathError(f"{what} {p} is {_kind(st.st_mode)}; give a file name")
        if not os.access(p, os.W_OK):
            raise PathError(f"{what} {p} is read-only")
        p = Path(os.path.realpath(p))
    for other in not_same_as:
        if _same_file(p, Path(other)):
            raise PathError(f"{what} {p} is the input {other}: it would be overwritten; "
                            "choose another name")
    _check_folder(p.parent, what, p, write=True)
    return p


def output_dir(path: str | os.PathLike[str], *, what: str = "output folder",
               create: bool = False) -> Path:
    """``path`` as a folder files can be written into (created if ``create``), or
    ``PathError``: a file where a folder is needed, a missing parent that is a file, or no
    write permission."""
    p = Path(path)
    st = _stat(p)
    if st is not None and not stat.S_ISDIR(st.st_mode):
        kind = "a file" if stat.S_ISREG(st.st_mode) else _kind(st.st_mode)
        raise PathError(f"{what} {p} is {kind}, not a folder")
    if st is None:
        base = _nearest_existing(p)
        if not base.is_dir():       # e.g. out/x where out is a file
            raise PathError(f"{what} {p} cannot be created: {base} is a file, not a folder")
        if not os.access(base, os.W_OK | os.X_OK):
            raise PathError(f"{what} {p} cannot be created: no permission to write in {base}")
        if create:
            try:
                p.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise PathError(f"{what} {p} cannot be created: {exc.strerror}") from exc
        return p
    if not os.access(p, os.W_OK | os.X_OK):
        raise PathError(f"{what} {p}: no permission to write in this folder")
    return p


def _check_folder(folder: Path, what: str, target: Path, *, write: bool) -> None:
    """The folder of ``target`` exists and is a folder (and is writable if ``write``)."""
    base = _nearest_existing(folder)
    if not base.is_dir():
        raise PathError(f"{what} {target}: {base} is a file, not a folder")
    if base != Path(os.path.abspath(folder)):
        raise PathError(f"{what} {target}: folder {folder} does not exist")
    if write and not os.access(base, os.W_OK | os.X_OK):
        raise PathError(f"{what} {target}: no permission to write in folder {folder}")


def _nearest_existing(path: Path) -> Path:
    """``path`` (absolute) or its nearest ancestor that exists."""
    p = Path(os.path.abspath(path))
    while not os.path.lexists(p) and p != p.parent:
        p = p.parent
    return p


def _same_file(a: Path, b: Path) -> bool:
    with contextlib.suppress(OSError):
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


# --------------------------------------------------------------------------- atomic write

def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[Any]], object], *,
                 binary: bool = False, encoding: str | None = "utf-8",
                 newline: str | None = "", what: str = "output",
                 verify: Callable[[Path], object] | None = None) -> Path:
    """Write a file all-or-nothing: ``write(fh)`` fills a temporary file beside ``path``.

    ``binary`` opens the temporary file in ``"wb"`` mode, else text with ``encoding`` and
    ``newline`` as ``open()`` takes them (default: UTF-8, no newline translation). After
    ``write`` returns, the file is flushed and fsynced, ``verify(temp path)`` (if given) may
    still refuse it by raising, then it is renamed over ``path`` and the folder fsynced.
    On any exception the temporary file is removed and the previous file (if any) is left
    untouched; a full disk or a read-only folder becomes one ``PathError`` sentence. The new
    file keeps the permissions of the one it replaces. Returns the path written (symbolic
    links resolved)."""
    target = output_file(path, what=what)
    folder = target.parent
    cleanup_orphans(folder, target.name)
    existed = target.exists()
    fd, tmp = _create_temp(folder, target.name, what)
    try:
        try:
            kw = {} if binary else {"encoding": encoding, "newline": newline}
            with os.fdopen(fd, "wb" if binary else "w", **kw) as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            if existed:
                with contextlib.suppress(OSError):
                    os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        except OSError as exc:
            if exc.errno in _DESTINATION_ERRNOS:
                kept = "the previous file is unchanged" if existed else "nothing was left there"
                raise PathError(f"cannot write {what} {target}: {_why(exc)}; "
                                f"{kept}") from exc
            raise
        if verify is not None:
            verify(tmp)
        try:
            os.replace(tmp, target)
        except PermissionError as exc:
            raise PathError(f"cannot replace {what} {target}: it is open in another program "
                            f"or protected ({exc.strerror})") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)
    return target


def _create_temp(folder: Path, name: str, what: str) -> tuple[int, Path]:
    prefix = f".{name}.alvh-{_host_tag()}-{os.getpid()}-"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = folder / f"{prefix}{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp        # the umask applies, as for open()
        except FileExistsError:
            continue
        except OSError as exc:
            raise PathError(f"cannot write {what} in folder {folder}: "
                            f"{_why(exc)}") from exc
    raise PathError(f"cannot create a temporary file in folder {folder}")


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:               # some file systems cannot fsync a folder
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def temp_files(folder: str | os.PathLike[str], name: str) -> list[Path]:
    """Temporary files of ``atomic_write`` for target ``name`` in ``folder`` (any writer)."""
    import glob

    pattern = os.path.join(glob.escape(str(folder)), f".{glob.escape(name)}.alvh-*.tmp")
    return [Path(p) for p in glob.glob(pattern) if _TEMP_RE.search(p)]


def cleanup_orphans(folder: str | os.PathLike[str], name: str, *,
                    stale_after: float = STALE_AFTER_S) -> list[Path]:
    """Remove temporary files a killed run left for target ``name``; returns those removed.

    A temporary file is an orphan when it was made on this machine by a process that no
    longer runs, or when it has not been modified for ``stale_after`` seconds. A running
    writer's file (this process's included) is kept."""
    removed = []
    host, now = _host_tag(), time.time()
    for tmp in temp_files(folder, name):
        m = _TEMP_RE.search(tmp.name)
        try:
            age = now - tmp.stat().st_mtime
        except FileNotFoundError:
            continue
        dead = m is not None and m["host"] == host and not pid_alive(int(m["pid"]))
        if dead or age > stale_after:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
                removed.append(tmp)
    return removed


def pid_alive(pid: int) -> bool:
    """Is process ``pid`` running on this machine (a zombie counts as running)?"""
    if pid <= 0:
        return False
    if os.name == "nt":
        return _pid_alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:              # exists, owned by someone else
        return True
    return True


def _pid_alive_windows(pid: int) -> bool:
    # os.kill on Windows terminates the process: ask the kernel instead.
    import ctypes

    kernel32 = ctypes.windll.kernel32          # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)    # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return kernel32.GetLastError() == 5              # access denied: it exists
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259                          # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


# --------------------------------------------------------------------------- lock

def lock_path(path: str | os.PathLike[str]) -> Path:
    """The lock file guarding ``path``: ``.<name>.alvh.lock`` in the same folder."""
    p = Path(path)
    return p.with_name(f".{p.name}.alvh.lock")


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike[str], *, timeout: float = 60.0,
                   on_wait: Callable[[str], object] | None = None,
                   poll: float = 0.05) -> Iterator[Path]:
    """Hold an exclusive advisory lock on ``path`` for the ``with`` block.

    Every alvh_xl process that rewrites ``path`` takes this lock first, so read-modify-write
    cycles run one after the other. If another process holds it, ``on_wait(sentence)`` is
    called once and the lock is retried every ``poll`` s for up to ``timeout`` s, then
    ``PathError``. The lock is released when the block ends or the process dies."""
    lock = lock_path(path)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise PathError(f"cannot lock {path}: {_why(exc)} ({lock})") from exc
    try:
        deadline = time.monotonic() + timeout
        told = False
        while not _try_lock(fd):
            holder = _holder(fd)
            if time.monotonic() >= deadline:
                raise PathError(f"{path} is still being updated by another alvh-xl run"
                                f"{holder} after {timeout:g} s; try again when it has finished")
            if not told and on_wait is not None:
                on_wait(f"{path} is being updated by another alvh-xl run{holder}; "
                        f"waiting for it (up to {timeout:g} s)")
                told = True
            time.sleep(poll)
        _write_holder(fd)
        try:
            yield lock
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


_WIN_LOCK_OFFSET = 1 << 30          # lock a byte far from the pid text, which stays readable


def _try_lock(fd: int) -> bool:
    if os.name == "nt":
        import msvcrt

        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)       # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):
        return False
    return True


def _unlock(fd: int) -> None:
    if os.name == "nt":
        import msvcrt

        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)       # type: ignore[attr-defined]
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


def _write_holder(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())


def _holder(fd: int) -> str:
    """' (process 123 on host)' from the lock file, or '' if unreadable."""
    with contextlib.suppress(OSError, ValueError):
        os.lseek(fd, 0, os.SEEK_SET)
        pid, host = os.read(fd, 200).decode().split()[:2]
        return f" (process {int(pid)} on {host})"
    return ""


# --------------------------------------------------------------------------- CLI messages

def _why(exc: OSError) -> str:
    return (exc.strerror or str(exc)).rstrip(".").lower()


def os_error_sentence(exc: OSError) -> str:
    """One sentence for an ``OSError`` that reached the command line (no traceback)."""
    where = exc.filename if exc.filename is not None else "a file"
    text = (exc.strerror or str(exc)).rstrip(".")
    if exc.errno == errno.ENOSPC:
        return f"cannot write {where}: the disk is full ({text.lower()})"
    if isinstance(exc, PermissionError):
        return f"{where}: permission denied"
    return f"{where}: {text.lower()}"
