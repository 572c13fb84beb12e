"""Time LibreOffice Calc recalculating a workbook with the ALVH add-in (run by LibreOffice's
own Python, which has ``uno``; standard library otherwise).

    python3 calc_driver.py PROFILE WORKBOOK OUT.xlsx SHEET CELL VALUE

Starts a headless soffice on ``PROFILE``, then prints one JSON object with seconds for:
``load`` (open: import, the add-in's on-load name resolution; Calc computes cells lazily),
``first`` (the first hard recalculation of everything: the add-in's worker process starts and
computes every block), ``warm`` (a second one: the worker's caches hold every block),
``edit`` (set SHEET.CELL to VALUE, then recalculate what depends on it: those blocks are
computed afresh); and the text Calc shows in the ``check`` cells (Dashboard B4, D4) after the
edit. OUT.xlsx is the edited, recalculated workbook.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main(profile: str, workbook: str, out: str, sheet: str, cell: str, value: str) -> int:
    pipe = f"alvh-bench-{os.getpid()}"
    office = subprocess.Popen(
        ["soffice", f"-env:UserInstallation={Path(profile).resolve().as_uri()}", "--headless",
         "--invisible", "--norestore", f"--accept=pipe,name={pipe};urp;"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    desktop = None
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.monotonic() + 120
        while True:
            try:
                ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                if time.monotonic() > deadline or office.poll() is not None:
                    raise
                time.sleep(0.1)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        t0 = time.perf_counter()
        doc = desktop.loadComponentFromURL(Path(workbook).resolve().as_uri(), "_blank", 0,
                                           (prop("Hidden", True),))
        if doc is None:
            raise RuntimeError(f"LibreOffice could not open {workbook}")
        t1 = time.perf_counter()
        doc.calculateAll()
        t2 = time.perf_counter()
        doc.calculateAll()
        t3 = time.perf_counter()
        doc.getSheets().getByName(sheet).getCellRangeByName(cell).setValue(float(value))
        doc.calculate()
        t4 = time.perf_counter()
        dash = doc.getSheets().getByName("Dashboard")
        check = [dash.getCellRangeByName(a).getString() for a in ("B4", "D4")]
        doc.storeToURL(Path(out).resolve().as_uri(),
                       (prop("FilterName", "Calc MS Excel 2007 XML"),))
        doc.close(True)
        print(json.dumps({"load": t1 - t0, "first": t2 - t1, "warm": t3 - t2, "edit": t4 - t3,
                          "check": check}))
        return 0
    finally:
        if desktop is not None:
            try:
                desktop.terminate()
            except Exception:
                pass
        try:
            office.wait(timeout=60)
        except subprocess.TimeoutExpired:
            office.kill()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:7]))
