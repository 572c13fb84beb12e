"""The Calc add-in's side of the pipe: one long-lived worker process of the user's Python.

This module runs inside LibreOffice's own Python (shipped in the .oxt as
``pythonpath/alvh_calc_client.py``), which may be another version without numpy, so it uses
the standard library only and keeps to Python 3.8 syntax. The worker
(``python -m alvh_xl.calc.worker``) runs the interpreter recorded when the add-in was built.

Protocol: each message is a 4-byte big-endian length followed by that many bytes of UTF-8
JSON. The worker first sends ``{"ready": {...}}``; then each request ``{"call": name,
"args": [...]}`` gets one reply: ``{"value": cells}`` (an '#ALVH! …' text for an expected
error, as in Excel) or ``{"bug": text}`` for an unexpected exception in alvh_xl.

Nothing waits longer than the computation: a dead worker is noticed when its pipe closes, a
hung one when ``call_timeout`` (seconds) runs out. A dead or missing worker is restarted once
per call; when that fails too, ``WorkerUnavailable`` carries an '#ALVH! …' text naming the
cause, and calls in the next ``retry_after`` seconds answer it at once instead of waiting for
another failed start.
"""

from __future__ import annotations

import json
import os
import queue
import re
import struct
import subprocess
import threading
import time

ERROR_PREFIX = "#ALVH!"
HEADER = struct.Struct(">I")
MAX_MESSAGE = 1 << 30          # 1 GiB: anything larger is a corrupt length prefix
LOG_TAIL = 400                 # characters of the worker's log quoted in a cell message
_CALL = re.compile(r"(?<![\w.$])(_xludf\.)?([A-Za-z_][\w]*)(?=\s*\()", re.IGNORECASE)


def default_log_path() -> str:
    """Where the worker's stderr goes unless the add-in's config names a file (one folder per
    user in the temporary folder)."""
    import getpass
    import tempfile

    try:
        user = getpass.getuser()
    except Exception:                       # no user name in the environment or passwd
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return os.path.join(tempfile.gettempdir(), f"alvh_xl-calc-{user}", "worker.log")


class WorkerUnavailable(Exception):
    """The worker could not answer; ``str(exc)`` is the '#ALVH! …' cell text."""


class WorkerBug(Exception):
    """alvh_xl raised an unexpected exception (a bug): it must stay loud, not become text."""


class _Died(Exception):
    """The worker process is gone (or never started); the message says why."""


# --------------------------------------------------------------------------- framing


def encode_frame(message) -> bytes:
    """One message (plain JSON values, no NaN) as length-prefixed bytes."""
    data = json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(len(data)) + data


def write_frame(stream, message) -> None:
    """Send one message on a binary stream."""
    stream.write(encode_frame(message))
    stream.flush()


def read_frame(stream):
    """The next message from a binary stream, or None at end of stream."""
    head = _read_exactly(stream, HEADER.size)
    if head is None:
        return None
    (size,) = HEADER.unpack(head)
    if size > MAX_MESSAGE:
        raise ValueError(f"message of {size} bytes: the stream is out of step")
    body = _read_exactly(stream, size)
    if body is None:
        return None
    return json.loads(body.decode("utf-8"))


def _read_exactly(stream, n: int):
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


# --------------------------------------------------------------------------- the client


class WorkerClient:
    """Calls functions in one worker process, started on first use.

    ``command``: the worker's command line (interpreter first). ``log_path``: file that
    receives the worker's stderr (its tracebacks); the last lines name the cause when it dies.
    """

    def __init__(self, command, *, start_timeout: float = 120.0, call_timeout: float = 600.0,
                 retry_after: float = 15.0, log_path: str | None = None, env=None):
        self.command = list(command)
        self.start_timeout = float(start_timeout)
        self.call_timeout = float(call_timeout)
        self.retry_after = float(retry_after)
        self.log_path = log_path
        self.env = env
        self.info: dict = {}
        self.starts = 0
        self._proc = None
        self._replies: queue.Queue | None = None
        self._reader: threading.Thread | None = None
        self._log_start = 0
        self._lock = threading.Lock()
        self._failure = ""
        self._failed_at = -1e300

    # ---- public

    def call(self, function: str, args: list):
        """The worker's reply value for ``function(*args)``.

        Raises WorkerUnavailable (cell text) or WorkerBug (an exception inside alvh_xl)."""
        with self._lock:
            if time.monotonic() - self._failed_at < self.retry_after:
                raise WorkerUnavailable(self._failure)
            try:
                return self._call_once(function, args)
            except _Died:
                self._stop()
            try:                                       # the one restart
                return self._call_once(function, args)
            except _Died as exc:
                self._stop()
                self._failure = _cell_text(f"alvh_xl worker: {exc}")
                self._failed_at = time.monotonic()
                raise WorkerUnavailable(self._failure) from None

    def close(self) -> None:
        """Stop the worker (it also exits by itself when this process goes away)."""
        with self._lock:
            self._stop()

    @property
    def pid(self):
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    # ---- internals

    def _call_once(self, function: str, args: list):
        if self._proc is None or self._proc.poll() is not None:
            self._stop()
            self._start()
        request = encode_frame({"call": function, "args": args})
        try:
            self._proc.stdin.write(request)
            self._proc.stdin.flush()
        except OSError as exc:
            raise _Died(self._death(f"the pipe to the worker broke ({exc})")) from None
        reply = self._next(self.call_timeout, f"{function} did not finish")
        if "value" in reply:
            return reply["value"]
        if "bug" in reply:
            raise WorkerBug(reply["bug"])
        raise _Died(f"unexpected reply {str(reply)[:80]}")

    def _start(self) -> None:
        self.starts += 1
        log = self._open_log()
        try:
            self._proc = subprocess.Popen(
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                env=self.env, creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
        except OSError as exc:
            raise _Died(f"cannot run {self.command[0]} ({exc.strerror or exc}); build and "
                        "install the add-in again with `alvh-xl calc install` from the "
                        "Python that has alvh_xl") from None
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        self._replies = queue.Queue()
        self._reader = threading.Thread(target=_pump, args=(self._proc.stdout, self._replies),
                                        name="alvh-calc-worker-reader", daemon=True)
        self._reader.start()
        ready = self._next(self.start_timeout, "the worker did not start", starting=True)
        if "ready" not in ready:
            raise _Died(str(ready.get("fatal") or f"unexpected first reply {str(ready)[:80]}"))
        self.info = ready["ready"]

    def _next(self, timeout: float, what: str, starting: bool = False) -> dict:
        """The next reply; on timeout the worker is killed. A start that timed out is not
        tried again for ``retry_after`` seconds (a hung call is: other calls may be fine)."""
        try:
            item = self._replies.get(timeout=timeout)
        except queue.Empty:
            self._stop(kill=True)
            self._failure = _cell_text(f"alvh_xl worker: {what} within {timeout:g} s; it was "
                                       "stopped and starts again on a later call")
            if starting:
                self._failed_at = time.monotonic()
            raise WorkerUnavailable(self._failure) from None
        if isinstance(item, Exception):
            raise _Died(self._death(f"lost the worker ({item})"))
        if item is None:
            raise _Died(self._death("the worker exited"))
        return item

    def _death(self, what: str) -> str:
        code = None
        if self._proc is not None:
            try:
                code = self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
        cause = f"{what}" + (f" with code {code}" if code is not None else "")
        tail = self._log_tail()
        return f"{cause}: {tail}" if tail else cause

    def _stop(self, kill: bool = False) -> None:
        """End the worker: close its stdin (it exits at end of input), or kill it."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if kill:
            proc.kill()
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=2)          # it ends at the pipe's end of file
            self._reader = None
        proc.stdout.close()

    def _open_log(self):
        """The worker's stderr: the log file, or nowhere if it cannot be written."""
        self._log_start = 0
        if not self.log_path:
            return subprocess.DEVNULL
        try:
            os.makedirs(os.path.dirname(self.log_path) or ".", exist_ok=True)
            if os.path.exists(self.log_path) and os.path.getsize(self.log_path) > 1_000_000:
                os.remove(self.log_path)
            log = open(self.log_path, "ab")
        except OSError:
            self.log_path = None                  # causes are then named without the log
            return subprocess.DEVNULL
        self._log_start = log.tell()
        return log

    def _log_tail(self) -> str:
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            f.seek(self._log_start)
            text = f.read().decode("utf-8", "replace")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        return " / ".join(lines[-2:])[-LOG_TAIL:]


def _pump(stream, replies: queue.Queue) -> None:
    """Reader thread: every frame from the worker into ``replies``; None at the end."""
    try:
        while True:
            message = read_frame(stream)
            replies.put(message)
            if message is None:
                return
    except Exception as exc:                      # a broken frame: report it, then stop
        replies.put(exc)


def _cell_text(message: str, limit: int = 250) -> str:
    text = message if message.startswith(ERROR_PREFIX) else f"{ERROR_PREFIX} {message}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- formula names


def resolve_names(formula: str, names) -> str | None:
    """``formula`` (Calc API syntax) with every unresolved call of one of ``names`` written
    the way Calc resolves it, or None when it calls none of them unresolved.

    LibreOffice before OOXML compatibility-name support (e.g. 7.4) imports ``=ALVH_FLAG(…)``
    from an .xlsx as an unknown name (shown as ``alvh_flag`` and #NAME?); entering the same
    text again through the API finds the add-in by its English name (the API syntax shows a
    resolved call by its programmatic name, so a bare ``ALVH_…(`` is always unresolved).
    ``_xludf.`` (Excel's
    prefix for a user-defined function whose name clashes with a newer built-in) is dropped.
    Text inside string literals is left alone; resolved calls (``ORG.ALVH…ALVH_FLAG(``) do not
    match because a dot precedes the name.
    """
    wanted = {n.upper() for n in names}
    out, changed = [], False
    for literal, code in _split_strings(formula):
        if literal:
            out.append(code)
            continue

        def fix(m):
            nonlocal changed
            name = m.group(2).upper()
            if name not in wanted:
                return m.group(0)
            changed = True
            return name

        out.append(_CALL.sub(fix, code))
    return "".join(out) if changed else None


def _split_strings(formula: str):
    """(is_string_literal, text) pieces of a formula; "" inside a literal is an escaped quote."""
    pieces, start, inside, i = [], 0, False, 0
    while i < len(formula):
        if formula[i] == '"':
            if inside and i + 1 < len(formula) and formula[i + 1] == '"':
                i += 2
                continue
            if inside:
                pieces.append((True, formula[start:i + 1]))
                start = i + 1
            else:
                pieces.append((False, formula[start:i]))
                start = i
            inside = not inside
        i += 1
    pieces.append((inside, formula[start:]))
    return pieces
