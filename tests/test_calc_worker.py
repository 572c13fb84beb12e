"""The Calc add-in's pipe: framing, the worker (alvh_xl.calc.worker) and its client.

* The worker answers exactly what the same function answers through xlwings' own Office.js
  custom-function machinery (values and '#ALVH!' texts), for every argument shape Calc sends.
* The client (the code LibreOffice's Python runs) restarts a dead worker once, and otherwise
  answers an '#ALVH!' text naming the cause: missing interpreter, alvh_xl not importable,
  a worker that keeps dying, one that hangs (stopped after the call timeout).
  Misbehaving workers: tests/calc_fake_worker.py, which speaks the same protocol.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import sys
import time

import numpy as np
import pytest
from conftest import ROOT
from openpyxl.utils.datetime import to_excel
from xlcall import needs_xlwings, xl_call

from alvh_xl import udfs
from alvh_xl.calc import worker
from alvh_xl.calc.client import (
    WorkerBug,
    WorkerClient,
    WorkerUnavailable,
    encode_frame,
    read_frame,
    resolve_names,
    write_frame,
)
from alvh_xl.tools import calc as build
from alvh_xl.xl.workbook import read_inputs

TEMPLATE = ROOT / "workbooks" / "alvh_template.xlsx"
WORKER = [sys.executable, *build.WORKER_ARGS]


# --- framing --------------------------------------------------------------------------------

def test_frames_round_trip_and_end_of_stream():
    messages = [{"call": "ALVH_FLAG", "args": [7.0, [[1, None, "x"]]]}, {"value": "é ✓"},
                {"value": [[float(i)] * 50 for i in range(2000)]}]
    buf = io.BytesIO(b"".join(encode_frame(m) for m in messages))
    assert [read_frame(buf) for _ in messages] == messages
    assert read_frame(buf) is None                              # clean end of stream
    cut = io.BytesIO(encode_frame({"value": 1})[:-2])
    assert read_frame(cut) is None                              # the writer died mid-frame
    out = io.BytesIO()
    write_frame(out, {"value": None})
    assert out.getvalue()[:4] == len(b'{"value":null}').to_bytes(4, "big")
    with pytest.raises(ValueError):
        encode_frame({"value": float("nan")})                   # never sent: not JSON


# --- what the worker hands to a function and sends back ------------------------------------

def test_arguments_take_xlwings_shapes_and_defaults():
    def f(a, b=None, c=0.75, d="bsm"):
        return [a, b, c, d]

    # omitted (None) or a single empty cell -> default; scalar -> 1x1; 1-D -> one row
    assert worker.prepare(f, [3.0, None, [[None]]]) == [[[3.0]], None, 0.75, "bsm"]
    assert worker.prepare(f, [[1.0, 2.0], [[1, 2], [3, 4]]]) == [
        [[1.0, 2.0]], [[1, 2], [3, 4]], 0.75, "bsm"]
    assert worker.prepare(f, [[[None, None]]])[0] == [[None, None]]   # 2 empty cells: a range
    with pytest.raises(TypeError):
        worker.prepare(f, [1, 2, 3, 4, 5])


def test_results_become_cells_dates_as_excel_serials():
    when = dt.datetime(2026, 11, 24, 16, 0)
    cells = worker.to_cells([["a", np.float64(1.5), np.int64(2), np.bool_(True)],
                             [dt.date(2026, 11, 24), when, np.datetime64("2027-01-08"),
                              float("nan")],
                             [None, dt.time(16, 0), np.datetime64("NaT"), float("inf")]])
    expected = [["a", 1.5, 2, True],
                [to_excel(dt.date(2026, 11, 24)), to_excel(when), to_excel(dt.date(2027, 1, 8)),
                 None],
                [None, 2 / 3, None, None]]
    diff = _same(cells, expected)
    assert not diff, f"calculated {cells}, expected {expected} (openpyxl's to_excel): {diff}"
    assert cells[0][3] is True
    assert worker.to_cells(np.float64(2.5)) == 2.5 and worker.to_cells("x") == "x"
    assert worker.to_cells([1, 2]) == [[1, 2]]
    with pytest.raises(TypeError):
        worker.to_cells([[object()]])


def _matrix(value):
    """Any result as a 2-D list; xlwings' Office.js dates ({'basicValue': serial}) as serials."""
    rows = value if isinstance(value, list) else [[value]]
    return [[v["basicValue"] if isinstance(v, dict) else v for v in row] for row in rows]


def _calc_value(v):
    """What Calc passes for a workbook value: numbers as floats, dates as serials."""
    if isinstance(v, (dt.date, dt.datetime)):
        return float(to_excel(v))
    if isinstance(v, dt.time):
        return (v.hour * 3600 + v.minute * 60 + v.second) / 86400
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    return v


def _as_calc(cells):
    return [[_calc_value(v) for v in row] for row in cells]


def _same(a, b, path="") -> list[str]:
    """Differences between two cell results ("" and None are both an empty cell)."""
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in _same(x, y, f"{path}[{i}]")]
    a = None if a == "" else a
    b = None if b == "" else b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return [] if math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) else [f"{path}: {a} vs {b}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


@pytest.fixture(scope="module")
def template_inputs():
    raw = read_inputs(TEMPLATE).raw
    return {k: _as_calc(v) for k, v in raw.items()}


@pytest.fixture(scope="module")
def live_worker():
    client = WorkerClient(WORKER, start_timeout=120, call_timeout=120)
    yield client
    client.close()


@needs_xlwings
def test_worker_answers_as_xlwings_office_js(live_worker, template_inputs):
    """Same arguments (as Calc sends them) → same cells as xlwings' Office.js path."""
    p, m, c = (template_inputs[k] for k in ("ALVH_POSITIONS", "ALVH_MARKET", "ALVH_CURVE"))
    t = template_inputs["ALVH_THRESHOLDS"]
    calls = [
        ("ALVH_FLAG", [7.0, 3.04]),
        ("ALVH_FLAG", [[[1.0], [2.5], [9.0]], 3.0, None]),
        ("ALVH_BSM", ["price", "C", 100.0, 100.0, 1.0, 0.2]),
        ("ALVH_BSM", [[["price", "delta", "vega"]], "P", [[90.0], [100.0]], 100.0, 0.5, 0.25,
                      0.03, None]),
        ("ALVH_BSM", ["price", "X", 100.0, 100.0, 1.0, 0.2]),          # '#ALVH!' per cell
        ("ALVH_IV", [7.9655674554058, "C", 100.0, 100.0, 1.0]),
        ("ALVH_NETVEGA", [p, m, c]),
        ("ALVH_NETVEGA", [p, m, c, "", 1.0]),
        ("ALVH_LAYERS", [p, m, c, t]),
        ("ALVH_LEGS", [p, m, c]),
        ("ALVH_SHOCKPNL", [p, m, c, [[-10.0, -5.0, -2.0, 2.0, 5.0, 10.0]], "abs", 1.0]),
        ("ALVH_LAYERS", [[["Layer", "Qty"]], m, c, t]),                 # bad input: '#ALVH!'
    ]
    for name, args in calls:
        ours = _matrix(live_worker.call(name, args))
        theirs = _matrix(xl_call(name, *args))
        diff = _same(ours, theirs)
        assert not diff, f"{name}{tuple(args)[:2]}…: worker vs xlwings: {diff[:5]}"
    assert live_worker.call("ALVH_BSM", ["price", "X", 100.0, 100.0, 1.0, 0.2]).startswith(
        "#ALVH! cp: expected C or P (Call/Put, or 1/-1)")


def test_worker_lists_every_udfs_function(live_worker):
    live_worker.call("ALVH_FLAG", [1.0, 2.0])
    expected = sorted(n for n, f in vars(udfs).items() if n.startswith("ALVH_") and callable(f))
    assert live_worker.info["functions"] == expected
    assert live_worker.info["python"] == sys.executable
    answer = live_worker.call("ALVH_NOSUCH", [1.0])
    assert answer.startswith("#ALVH! ") and "ALVH_NOSUCH" in answer


def test_dead_worker_restarts_once(live_worker):
    import os
    import signal

    live_worker.call("ALVH_FLAG", [7.0, 3.04])
    starts, pid = live_worker.starts, live_worker.pid
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    assert live_worker.call("ALVH_FLAG", [7.0, 3.04]) == "BREACH"
    assert live_worker.starts == starts + 1 and live_worker.pid != pid


# --- misbehaving workers --------------------------------------------------------------------

@pytest.fixture
def fake(tmp_path):
    script = ROOT / "tests" / "calc_fake_worker.py"
    counter = tmp_path / "starts.txt"

    def make(mode: str, **kw) -> WorkerClient:
        kw.setdefault("start_timeout", 30)
        kw.setdefault("call_timeout", 30)
        return WorkerClient([sys.executable, str(script), mode, str(counter)],
                            log_path=str(tmp_path / "worker.log"), **kw)

    make.starts = lambda: int(counter.read_text()) if counter.exists() else 0
    return make


def test_a_worker_that_died_once_is_restarted(fake):
    client = fake("die-once")
    try:
        assert client.call("ALVH_X", [1.0, 2.0]) == [["ALVH_X", 2]]
        assert fake.starts() == 2
    finally:
        client.close()


def test_a_worker_that_keeps_dying_answers_the_cause(fake):
    client = fake("die", retry_after=30)
    try:
        answer = _unavailable(client)
        assert "exited with code 3" in answer and "Segmentation fault" in answer, answer
        assert fake.starts() == 2                       # first start + the one restart
        t0 = time.monotonic()
        assert _unavailable(client) == answer            # within retry_after: no new start
        assert time.monotonic() - t0 < 0.5 and fake.starts() == 2
    finally:
        client.close()


def test_missing_interpreter_is_named(tmp_path):
    client = WorkerClient([str(tmp_path / "no" / "python"), *build.WORKER_ARGS])
    answer = _unavailable(client)
    assert answer.startswith("#ALVH! alvh_xl worker: cannot run ") and "no/python" in answer
    assert "alvh-xl calc install" in answer


def test_python_without_alvh_xl_is_named(tmp_path):
    # -S: no site-packages (where alvh_xl is installed); the current folder (the checkout,
    # which holds alvh_xl/) is not on the worker's sys.path either
    client = WorkerClient([sys.executable, "-S", *build.WORKER_ARGS],
                          log_path=str(tmp_path / "w.log"))
    answer = _unavailable(client)
    assert "No module named 'alvh_xl'" in answer, answer


def test_start_failure_quotes_the_log(fake):
    answer = _unavailable(fake("no-ready"))
    assert "numpy is broken here" in answer and "code 4" in answer, answer


def test_a_hung_worker_is_stopped_after_the_call_timeout(fake):
    client = fake("hang", call_timeout=1.0)
    try:
        t0 = time.monotonic()
        answer = _unavailable(client)
        waited = time.monotonic() - t0
        assert "did not finish within 1 s" in answer, answer
        assert waited < 5, f"blocked {waited:.1f} s for a 1 s timeout"
        assert client.pid is None                         # stopped; restarts on next call
    finally:
        client.close()


def test_an_unwritable_log_is_not_fatal(fake, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    client = fake("echo")
    client.log_path = str(blocker / "sub" / "worker.log")       # cannot be created
    try:
        assert client.call("ALVH_X", [1.0]) == [["ALVH_X", 1]]
    finally:
        client.close()


def test_a_hung_start_is_not_waited_for_again(fake):
    client = fake("hang-start", start_timeout=1.0, retry_after=30)
    try:
        assert "did not start within 1 s" in _unavailable(client)
        t0 = time.monotonic()
        assert "did not start within 1 s" in _unavailable(client)    # answered at once
        assert time.monotonic() - t0 < 0.5 and fake.starts() == 1
    finally:
        client.close()


def test_a_bug_in_alvh_xl_stays_loud(fake):
    client = fake("bug")
    try:
        with pytest.raises(WorkerBug, match="ZeroDivisionError"):
            client.call("ALVH_X", [])
    finally:
        client.close()


def _unavailable(client: WorkerClient) -> str:
    with pytest.raises(WorkerUnavailable) as info:
        client.call("ALVH_X", [1.0, 2.0])
    text = str(info.value)
    assert text.startswith("#ALVH! ") and len(text) <= 250, text
    return text


# --- formula names Calc left unresolved ----------------------------------------------------

@pytest.mark.parametrize("formula, expected", [
    ("=alvh_flag(7;3.04)", "=ALVH_FLAG(7;3.04)"),
    ("=ALVH_FLAG(7;3.04)", "=ALVH_FLAG(7;3.04)"),              # bare name: never resolved
    ("{=_xludf.alvh_bsm(\"alvh_flag(\";A1)}", "{=ALVH_BSM(\"alvh_flag(\";A1)}"),
    ("=SUM(A1)+alvh_flag(B1; \"x\"\"alvh_bsm(\")", "=SUM(A1)+ALVH_FLAG(B1; \"x\"\"alvh_bsm(\")"),
    ("=ORG.ALVH.CALC.FUNCTIONS.ALVH_FLAG(1;2)", None),         # resolved by Calc
    ("=alvh_nope(1)+SUM(A1)", None),                            # not one of ours
    ("=Sheet1.alvh_flag", None),
])
def test_unresolved_names_are_rewritten(formula, expected):
    assert resolve_names(formula, ["ALVH_FLAG", "ALVH_BSM"]) == expected
