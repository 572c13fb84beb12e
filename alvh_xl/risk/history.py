"""History store: one snapshot per valuation date, appended atomically to a CSV (SPEC §8).

A snapshot is one tidy frame with a row per leg, per layer and for the book:

* ``Level`` "book" (Key PORTFOLIO), "layer" (Key = layer name) or "leg" (Key = a stable leg
  key: Layer|Instrument|Type|Strike|Expiry|Underlying, with "#2", "#3" … for repeats);
* layer/book rows: RawVega, WeightedVega, VolOfVolVega ($ per vol point), DollarDelta ($ per
  100 % SPX move), DollarGamma ($ per 1 % SPX move, per 1 %), Theta ($ per day), Limit,
  Utilization, Flag, and ``Shock±Δ`` full-revaluation P&L ($) for each weighted vol shift Δ;
  the book row also SpxSpot, VixSpot, Vvix and LeftOut (input rows the engine left out);
* leg rows: Qty, Multiplier, UnderlyingPrice, IV (decimal), Price, Value and position Greeks
  exactly as in ``BookValuation.legs`` (Delta/Gamma per 1 point of the leg's own underlying,
  Vega per vol point, Theta per calendar day).

Dates are ISO text (YYYY-MM-DD), times HH:MM:SS. The store is one CSV file, pandas only.
Text cells that a spreadsheet would run as a formula (``=…``, ``+…``, ``-…``, ``@…``) are
written with a leading apostrophe and read back without it (``book.csvsafe``). Updates take
an exclusive lock on the file and write it atomically (``fileio``): two runs at once both land,
a crash leaves the old or the new history, never a partial one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..book import Thresholds
from ..book.csvsafe import FORMULA_TRIGGERS, escape_cell, unescape_cell
from ..conventions import DEFAULT_VOL_SHIFTS, PORTFOLIO
from ..errors import InputError, MissingInputError
from ..fileio import atomic_write, exclusive_lock, input_file, output_file
from .aggregation import layer_codes, layers_table
from .scenarios import _as_shifts, full_pnl
from .valuation import BookValuation

ID_COLUMNS = ("Date", "Time", "Level", "Key", "Layer")
LAYER_METRICS = ("RawVega", "WeightedVega", "VolOfVolVega", "DollarDelta", "DollarGamma",
                 "Theta", "Measure", "Target", "Limit", "Warn", "Utilization", "Flag")
BOOK_MARKET = ("SpxSpot", "VixSpot", "Vvix", "LeftOut")
LEG_FIELDS = ("Row", "Strategy", "Instrument", "Type", "Strike", "Expiry", "Underlying",
              "Status", "Qty", "Multiplier", "T", "UnderlyingPrice", "IV", "Price", "Value",
              "Delta", "Gamma", "Vega", "Theta", "Vanna", "Volga", "Charm", "VolExposure",
              "Weight", "WeightedVolExposure", "VolOfVolExposure")
TEXT_COLUMNS = ("Date", "Time", "Level", "Key", "Layer", "Measure", "Flag", "Strategy",
                "Instrument", "Type", "Expiry", "Underlying", "Status")
LEVEL_ORDER = {"book": 0, "layer": 1, "leg": 2}


def shock_column(shift: float) -> str:
    """Column name of the P&L under a weighted vol shift: −10 → 'Shock-10', 2 → 'Shock+2'."""
    return f"Shock{shift:+g}"


def leg_keys(legs: pd.DataFrame) -> np.ndarray:
    """Stable key of each leg (same instrument in the same layer on two dates → same key)."""
    k = legs["Strike"].to_numpy(float)
    strike = pd.Series(np.where(np.isnan(k), "", np.char.mod("%g", np.nan_to_num(k))),
                       index=legs.index, dtype=object)
    expiry = pd.to_datetime(legs["Expiry"]).dt.strftime("%Y-%m-%d").fillna("")
    base = (legs["Layer"].astype(str) + "|" + legs["Instrument"].astype(str) + "|"
            + legs["Type"].astype(str) + "|" + strike + "|" + expiry + "|"
            + legs["Underlying"].astype(str))
    nth = base.groupby(base).cumcount().to_numpy()
    return np.where(nth == 0, base, base + "#" + (nth + 1).astype(str)).astype(object)


def snapshot(val: BookValuation, thresholds: Thresholds | None = None,
             shifts=DEFAULT_VOL_SHIFTS) -> pd.DataFrame:
    """The tidy snapshot frame of one valuation (book row, layer rows, leg rows)."""
    shifts = _as_shifts(shifts, "shifts")
    legs = val.legs
    when = val.market.valuation
    layers = layers_table(val, thresholds).rename(
        columns={"Delta": "DollarDelta", "Gamma": "DollarGamma"})
    # Full-revaluation P&L under each weighted absolute vol shift, by layer (in order of first
    # appearance, as in layers_table) and for the book: the numbers of ALVH_SHOCKPNL.
    codes, names = layer_codes(val)
    total, by_layer = full_pnl(val.state, vol_shift=shifts, volvol_beta=val.market.volvol_beta,
                               groups=codes, group_count=len(names))
    ladder = np.vstack([by_layer.T, total])
    agg = layers.assign(Level=["layer"] * len(names) + ["book"], Key=layers["Layer"])
    for j, s in enumerate(shifts):
        agg[shock_column(float(s))] = ladder[:, j]
    m = val.market
    left_out = sum(p.left_out for p in val.problems)
    for col, v in zip(BOOK_MARKET, (m.spx_spot, m.vix_spot, m.vvix, left_out), strict=True):
        agg[col] = np.where(agg["Level"] == "book", v, np.nan)
    agg["Layer"] = np.where(agg["Level"] == "book", PORTFOLIO, agg["Layer"])
    agg = pd.concat([agg.iloc[[-1]], agg.iloc[:-1]], ignore_index=True)

    leg_rows = legs[list(LEG_FIELDS)].copy()
    leg_rows["Expiry"] = pd.to_datetime(legs["Expiry"]).dt.strftime("%Y-%m-%d")
    leg_rows.insert(0, "Layer", legs["Layer"].to_numpy(dtype=object))
    leg_rows.insert(0, "Key", leg_keys(legs))
    leg_rows.insert(0, "Level", "leg")
    out = pd.concat([agg, leg_rows], ignore_index=True)
    out.insert(0, "Time", when.strftime("%H:%M:%S"))
    out.insert(0, "Date", when.date().isoformat())
    rest = [c for c in out.columns if c not in ID_COLUMNS]
    out = out[list(ID_COLUMNS) + rest]
    text = [c for c in TEXT_COLUMNS if c in out.columns]
    out[text] = out[text].astype(object).where(out[text].notna() & (out[text] != ""), np.nan)
    return out


def default_history_path(workbook: str | Path) -> Path:
    """Where a workbook's history lives by default: ``<stem>_history.csv`` beside it."""
    path = Path(workbook)
    return path.with_name(f"{path.stem}_history.csv")


def read_history(path: str | Path) -> pd.DataFrame:
    """The history frame stored at ``path`` (a CSV written by ``append_snapshot``).

    ``MissingInputError`` if there is no such file; ``PathError`` if its folder is missing or
    it is a folder, FIFO or device (``/dev/full`` is refused before anything is read)."""
    path = _check_path(path)
    if not os.path.lexists(path) and path.absolute().parent.is_dir():
        raise MissingInputError(f"history: file not found: {path}")
    input_file(path, "history")
    try:
        frame = pd.read_csv(path, dtype={c: object for c in TEXT_COLUMNS},
                            keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        reason = "empty" if isinstance(exc, pd.errors.EmptyDataError) else (
            "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else "not a regular CSV")
        raise InputError(f"history {path.name}: not an alvh-xl history file ({reason}); give "
                         "the CSV `alvh-xl snapshot` writes, or a new file name") from None
    missing = [c for c in ID_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"history {path.name}: not an alvh-xl history file (missing column"
                         f"{'s' if len(missing) > 1 else ''} {', '.join(missing)})")
    frame = _map_text(frame, unescape_cell)
    bad = ~frame["Date"].fillna("").str.fullmatch(r"\d{4}-\d{2}-\d{2}")
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise InputError(f"history {path.name}: Date must be YYYY-MM-DD, got "
                         f"{frame['Date'].iat[i]!r}", row=i + 2, column="Date")
    return frame


@dataclass(frozen=True)
class HistoryUpdate:
    """The full history after an update, and whether the snapshot's date was there before."""

    frame: pd.DataFrame
    replaced: bool


def update_history(path: str | Path, snap: pd.DataFrame, *, timeout: float = 60.0,
                   on_wait: Callable[[str], object] | None = None) -> HistoryUpdate:
    """Add ``snap`` to the history at ``path``; rows of the same date are replaced.

    The read-modify-write runs under an exclusive lock on the file (another run updating it
    at the same time is waited for, ``on_wait`` is told once, ``PathError`` after
    ``timeout`` s). The whole history is written to a temporary file in the same folder,
    fsynced and renamed over the old one: a crash at any moment leaves either the old or the
    new history, never a partial one."""
    path = output_file(_check_path(path), what="history")
    dates = snap["Date"].unique()
    if len(dates) != 1:
        raise InputError(f"history: a snapshot holds one date, got {len(dates)}")
    with exclusive_lock(path, timeout=timeout, on_wait=on_wait):
        replaced = False
        if path.exists():
            old = read_history(path)
            keep = old["Date"] != dates[0]
            replaced = not bool(keep.all())
            old = old[keep]
            frame = pd.concat([old, snap], ignore_index=True) if len(old) else snap.copy()
        else:
            frame = snap.copy()
        frame = sort_history(frame)
        escaped = _map_text(frame, escape_cell)
        atomic_write(path, lambda fh: _write(escaped, fh), what="history")
    return HistoryUpdate(frame, replaced)


def append_snapshot(path: str | Path, snap: pd.DataFrame) -> pd.DataFrame:
    """``update_history(path, snap).frame``: the full history after adding ``snap``."""
    return update_history(path, snap).frame


def sort_history(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by date, then book / layer / leg, keeping each snapshot's own order within."""
    level = frame["Level"].map(LEVEL_ORDER).fillna(len(LEVEL_ORDER))
    order = np.lexsort((np.arange(len(frame)), level.to_numpy(), frame["Date"].to_numpy(str)))
    return frame.iloc[order].reset_index(drop=True)


def history_sheet_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The History sheet table: one row per date and layer, then PORTFOLIO, with its metrics."""
    rows = frame[frame["Level"].isin(("layer", "book"))]
    order = np.lexsort((np.arange(len(rows)), (rows["Level"] == "book").to_numpy(),
                        rows["Date"].to_numpy(str)))
    rows = rows.iloc[order].assign(Flag=rows["Flag"].iloc[order].fillna("")
                                   if "Flag" in rows.columns else "")
    shocks = [c for c in frame.columns if c.startswith("Shock")]
    shocks.sort(key=lambda c: float(c[len("Shock"):]))
    cols = ["Date", "Layer", "RawVega", "WeightedVega", "VolOfVolVega", "Flag",
            "Utilization", "Theta", *shocks]
    cols = [c for c in cols if c in rows.columns]
    return rows[cols].reset_index(drop=True)


def _check_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        raise InputError("history: Parquet needs pyarrow, which alvh-xl does not depend on; "
                         "use a .csv history file")
    return path


def _map_text(frame: pd.DataFrame, fn: Callable[[object], object]) -> pd.DataFrame:
    """``frame`` with ``fn`` applied to the text cells that begin with a formula character or
    an apostrophe (the only ones ``escape_cell`` / ``unescape_cell`` change)."""
    out = frame
    starts = FORMULA_TRIGGERS | {"'"}
    for col in frame.columns:
        s = frame[col]
        text = isinstance(s.dtype, pd.StringDtype) or s.dtype == object and (
            pd.api.types.infer_dtype(s, skipna=True) in ("string", "mixed", "mixed-integer"))
        if not text:
            continue
        mask = s.str[:1].isin(starts).to_numpy(bool)
        if mask.any():
            if out is frame:
                out = frame.copy()
            out[col] = s.where(~mask, s[mask].map(fn))
    return out


def _write(frame: pd.DataFrame, fh) -> None:
    """CSV text of the history (floats at full round-trip precision)."""
    frame.to_csv(fh, index=False, lineterminator="\n")
