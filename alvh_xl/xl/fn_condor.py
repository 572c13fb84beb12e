"""Iron condor Excel functions: ALVH_CONDOR (one row per Strategy group) and ALVH_BREAKEVENS.

Units (see alvh_xl.risk.condor): strikes and break-evens in SPX index points; Credit in
points per condor; CreditUSD, MaxProfit, MaxLoss in $ for the whole position; ReturnOnRisk
and ProbBetween as fractions. A break-even that does not exist reads as words, not a blank.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..book import Problem
from ..conventions import DEFAULT_VOL_SHIFTS
from ..risk.condor import (
    NONE_TEXT,
    breakeven_migration,
    check_shift_count,
    condor_report,
    find_condors,
    no_condor_message,
    resolve_strategy,
)
from .cells import number_list, scalar_text
from .fn_book import DOC_CURVE, DOC_FWD, DOC_MKT, DOC_POS, valuation
from .frames import frame_to_cells
from .registry import WORKBOOK_INPUTS, excel

DOC_STRATEGY = "optional Strategy id, e.g. IC-Jan (blank = all / the first condor)"
DOC_SHIFTS = "optional vol shifts in weighted vol points (default -10,-5,-2,0,2,5,10)"
EXPIRY_NONE = "none (see Note)"
MIGRATION_HEADER = ("Shift", "T0Low", "T0High")


@excel(positions=DOC_POS, market=DOC_MKT, curve=DOC_CURVE, strategy=DOC_STRATEGY,
       forwards=DOC_FWD, workbook_inputs=WORKBOOK_INPUTS)
def ALVH_CONDOR(positions=None, market=None, curve=None, strategy=None, forwards=None):
    """Iron condors: credit (index pts per condor; CreditUSD $), max profit/loss ($), break-evens at expiry and T+0, return on risk, risk-neutral P(between break-evens). Other Strategy groups: the reason."""
    def compute():
        val = valuation(positions, market, curve, forwards)
        report = condor_report(val)
        table = report.table
        name = scalar_text(strategy, "strategy")
        if name not in (None, ""):
            groups = list(table["Strategy"])
            table = table[table["Strategy"] == resolve_strategy(name, groups)]
        notes = list(val.problems)
        if name in (None, "") and report.condors.size == 0:    # not an error: a note
            notes.append(Problem(None, None, no_condor_message(report.reasons),
                                 left_out=False, table="condor"))
        return frame_to_cells(_in_words(table), notes)
    return compute()


@excel(positions=DOC_POS, market=DOC_MKT, curve=DOC_CURVE, strategy=DOC_STRATEGY,
       vol_shifts=DOC_SHIFTS, forwards=DOC_FWD, workbook_inputs=WORKBOOK_INPUTS)
def ALVH_BREAKEVENS(positions=None, market=None, curve=None, strategy=None, vol_shifts=None,
                    forwards=None):
    """T+0 break-evens (SPX points) of one iron condor under each vol shift (each leg's IV + w x shift): Shift, T0Low, T0High; words where none within +/-50% of spot. Default: the first condor."""
    def compute():
        shifts = _shifts(vol_shifts)
        val = valuation(positions, market, curve, forwards)
        name = scalar_text(strategy, "strategy")
        condors, reasons, _ = find_condors(val)
        if name in (None, "") and condors.size == 0:
            return [list(MIGRATION_HEADER), ["Note", no_condor_message(reasons), None]]
        table = breakeven_migration(val, name, shifts)
        cells = frame_to_cells(table.astype(object).where(table.notna(), NONE_TEXT))
        if name in (None, "") and condors.size > 1:
            cells.append(["Strategy", str(condors.strategy[0]), "(the first condor)"])
        return cells
    return compute()


def _in_words(table: pd.DataFrame) -> pd.DataFrame:
    """Condor rows: a missing break-even as words (T+0: none within ±50%)."""
    out = table.astype(object).where(table.notna(), None)
    condor = table["Qty"].notna().to_numpy()
    for col, text in (("BreakevenLow", EXPIRY_NONE), ("BreakevenHigh", EXPIRY_NONE),
                      ("T0BreakevenLow", NONE_TEXT), ("T0BreakevenHigh", NONE_TEXT)):
        missing = condor & table[col].isna().to_numpy()
        out.loc[missing, col] = text
    return out


def _shifts(values: Any) -> np.ndarray:
    """Vol shifts from a range; blank cells skipped; all blank → the default ladder."""
    out = number_list(values, "vol_shifts", DEFAULT_VOL_SHIFTS)
    check_shift_count(out, "vol_shifts")
    return out
