"""SPX forwards by expiry: the optional `Expiry | Forward | Discount` table (ALVH_FORWARDS).

Filled from a Cboe chain by put–call parity (``alvh-xl mark``) or typed. When the table holds
a leg's expiry, SPX/SPXW/XSP legs of that expiry are valued by Black-76 on that forward and
discount (Cboe's convention, SPEC §4); otherwise by BSM on spot with Rate and DivYield.

Forward in SPX index points (an XSP leg uses Forward / 10); Discount is the price today of $1
paid at the expiry, a fraction in (0, 1.2] (above 1 only for negative rates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from .cells import to_dates, to_numbers
from .tables import read_table

MAX_DISCOUNT = 1.2
# A forward further than this from spot (ratio) is a typo (67500 typed for 6750), not carry:
# three years at a 7 % carry is a ratio of 1.23.
FORWARD_SPOT_RATIO = (0.8, 1.25)
FORWARD_COLUMNS = {"expiry": "expiry", "expiration": "expiry", "forward": "forward",
            "fwd": "forward", "discount": "discount", "df": "discount",
            "discountfactor": "discount"}


@dataclass(frozen=True)
class Forwards:
    """SPX forwards (index points) and discount factors per expiry date (sorted, unique);
    ``rows``: the sheet row each came from (for messages)."""

    expiries: np.ndarray      # datetime64[D]
    forwards: np.ndarray      # float, SPX points
    discounts: np.ndarray     # float, fraction
    rows: np.ndarray          # int

    def __len__(self) -> int:
        return int(self.expiries.size)

    def lookup(self, expiries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(forward, discount) for each expiry date; NaN where the table has no such row."""
        expiries = np.asarray(expiries, dtype="datetime64[D]")
        if len(self) == 0:
            nan = np.full(expiries.shape, np.nan)
            return nan, nan.copy()
        idx = np.clip(np.searchsorted(self.expiries, expiries), 0, len(self) - 1)
        hit = self.expiries[idx] == expiries
        return (np.where(hit, self.forwards[idx], np.nan),
                np.where(hit, self.discounts[idx], np.nan))

    def check_spot(self, spot: float) -> None:
        """InputError naming the row of a forward implausibly far from SPX spot."""
        lo, hi = FORWARD_SPOT_RATIO
        ratio = self.forwards / spot
        bad = np.flatnonzero((ratio < lo) | (ratio > hi))
        if bad.size:
            i = int(bad[0])
            raise InputError(f"forwards: Forward {self.forwards[i]:g} for {self.expiries[i]} is "
                             f"{ratio[i]:.3g} × SPX spot {spot:g}; an SPX forward lies within "
                             f"{lo:g}–{hi:g} × spot (check the number and SpxSpot)",
                             row=int(self.rows[i]), column="Forward")


NO_FORWARDS = Forwards(np.array([], dtype="datetime64[D]"), np.array([]), np.array([]),
                       np.array([], dtype=int))


def parse_forwards(source: Any, *, first_row: int = 1, spot: float | None = None) -> Forwards:
    """Parse `Expiry | Forward | Discount` rows (``first_row``: the header's sheet row).

    Every row needs all three: a date, a positive forward and a discount in (0, 1.2]; an
    expiry given twice, or (with ``spot``) a forward outside 0.8–1.25 × spot, is an error
    naming the row. Blank rows are skipped; ``None`` or an empty table gives no forwards.
    """
    if source is None:
        return NO_FORWARDS
    raw = read_table(source, "forwards", FORWARD_COLUMNS, ("expiry", "forward", "discount"),
                     first_row)
    exp, exp_why = to_dates(raw.get("expiry"))
    fwd, fwd_why = to_numbers(raw.get("forward"))
    disc, disc_why = to_numbers(raw.get("discount"))
    for i in range(len(raw)):
        r = int(raw.rows[i])
        if exp_why[i] or np.isnat(exp[i]):
            raise InputError(f"forwards: {exp_why[i] or 'Expiry is blank'}", row=r,
                             column="Expiry")
        if fwd_why[i] or not fwd[i] > 0:
            why = fwd_why[i] or ("Forward is blank" if np.isnan(fwd[i]) else
                                 f"Forward must be positive (SPX points), got {fwd[i]:g}")
            raise InputError(f"forwards: {why}", row=r, column="Forward")
        if disc_why[i] or not 0 < disc[i] <= MAX_DISCOUNT:
            why = disc_why[i] or ("Discount is blank" if np.isnan(disc[i]) else
                                  f"Discount is the value today of $1 at the expiry, in "
                                  f"(0, {MAX_DISCOUNT:g}], got {disc[i]:g}")
            raise InputError(f"forwards: {why}", row=r, column="Discount")
    order = np.argsort(exp, kind="stable")
    exp, fwd, disc, rows = exp[order], fwd[order], disc[order], np.asarray(raw.rows)[order]
    dup = np.flatnonzero(exp[1:] == exp[:-1])
    if dup.size:
        j = int(dup[0])
        raise InputError(f"forwards: expiry {exp[j + 1]} is given twice (rows "
                         f"{min(rows[j], rows[j + 1])} and {max(rows[j], rows[j + 1])}); keep "
                         "one forward per expiry", row=int(max(rows[j], rows[j + 1])),
                         column="Expiry")
    out = Forwards(exp, fwd, disc, rows.astype(int))
    if spot is not None:
        out.check_spot(spot)
    return out
