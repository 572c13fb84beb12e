"""A misbehaving Calc worker for tests: speaks alvh_xl.calc.client's protocol.

    python calc_fake_worker.py MODE COUNTER_FILE

MODE: ``echo`` (answers [[name, number of args]]), ``die`` (exits with code 3 on every
call), ``die-once`` (only in its first process), ``hang`` (never answers a call),
``hang-start`` (never sends its handshake), ``bug`` (reports an unexpected exception),
``no-ready`` (exits with code 4 before the handshake).
COUNTER_FILE counts the processes started.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from alvh_xl.calc.client import read_frame, write_frame  # noqa: E402

mode, counter = sys.argv[1], Path(sys.argv[2])
n = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(n))
out, inp = sys.stdout.buffer, sys.stdin.buffer
if mode == "no-ready":
    print("Traceback: ImportError: numpy is broken here", file=sys.stderr, flush=True)
    sys.exit(4)
if mode == "hang-start":
    time.sleep(60)
write_frame(out, {"ready": {"python": sys.executable, "version": "fake",
                            "functions": ["ALVH_X"]}})
while True:
    msg = read_frame(inp)
    if msg is None:
        sys.exit(0)
    if mode == "die" or (mode == "die-once" and n == 1):
        print("Fatal Python error: Segmentation fault", file=sys.stderr, flush=True)
        os._exit(3)
    if mode == "hang":
        time.sleep(60)
    if mode == "bug":
        write_frame(out, {"bug": f"{msg['call']}: ZeroDivisionError: division by zero"})
        continue
    write_frame(out, {"value": [[msg["call"], len(msg["args"])]]})
