"""Iron condor analytics (SPEC §8): credit, max profit/loss, break-evens at expiry and today.

An iron condor is a Strategy group of four SPX/SPXW options — or four XSP options — with one
expiry and equal |Qty|: long put K1 < short put K2 < short call K3 < long call K4 (K2 < K3).
Units:

* strikes and break-evens: index points of the condor's own underlying (SPX; SPX/10 for an
  XSP condor);
* ``Credit``: index points per 1 condor = P(K2) + C(K3) − P(K1) − C(K4), from EntryPrice
  when all four legs have one (basis "entry"), else from today's model mark (basis "mark");
* ``CreditUSD`` = ``MaxProfit`` = Credit × multiplier × condors ($);
* ``MaxLoss`` = (max(K2 − K1, K4 − K3) − Credit) × multiplier × condors ($);
* expiry break-evens K2 − Credit and K3 + Credit (none on a side whose wing ≤ Credit);
* ``ReturnOnRisk`` = MaxProfit / MaxLoss (a fraction);
* ``ProbBetween``: risk-neutral P(BE_low < S_T < BE_high) = N(d2(BE_low; σ_K2)) −
  N(d2(BE_high; σ_K3)), S_T lognormal around the forward F = S·e^{(r−q)T}, each tail with
  its short strike's IV: d2(K; σ) = (ln(F/K) − σ²T/2) / (σ√T). F is the legs' forward: S·e^{(r−q)T}
on spot, or the ALVH_FORWARDS forward the legs are priced on (scaled with spot).

T+0 P&L per condor (index points) at spot S under a vol shift Δ (weighted absolute points,
as ``scenarios.revalue``: each leg's IV + w·Δ/100, floored at 0) is Credit + V(S, Δ), with
V = Σ sign · price today (long +, short −): BSM on spot, or Black-76 on the forward scaled
with spot, as the legs are valued. It is the P&L since the credit was taken:
with basis "mark" it is 0 at today's spot when Δ = 0. T+0 break-evens are the edges of the
profit zone within ±50 % of spot: the lower one is the first rise of P&L above 0 scanning
up from −50 % (none if P&L > 0 already there), the upper one the last fall to ≤ 0 (none if
P&L > 0 at +50 %). Found on a grid, then by bisection, vectorised over condors × shifts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr

from ..conventions import DEFAULT_VOL_SHIFTS, INDEX_SCALE
from ..errors import InputError
from ..pricing.prices import black_price
from .scenarios import row_blocks
from .valuation import BookValuation

SEARCH_FRACTION = 0.5          # T+0 break-evens are searched within spot × (1 ± 0.5)
GRID_POINTS = 1001             # scan step 0.1 % of spot
BISECTIONS = 48                # bracket of 0.1 % spot → below 1e-10 index points
SEARCH_BLOCK = 64              # (condor, shift) pairs searched at once: ~18 MB peak in all
MAX_BREAKEVEN_SHIFTS = 10_000  # beyond this a shift list is a mistake, not a view
NONE_TEXT = "none within ±50%"
CP = np.array([-1.0, -1.0, 1.0, 1.0])          # long put, short put, short call, long call
SIGN = np.array([1.0, -1.0, -1.0, 1.0])
CONDOR_COLUMNS = ("Strategy", "Expiry", "ShortPut", "LongPut", "ShortCall", "LongCall", "Qty",
                  "Credit", "CreditUSD", "MaxProfit", "MaxLoss", "BreakevenLow",
                  "BreakevenHigh", "T0BreakevenLow", "T0BreakevenHigh", "ReturnOnRisk",
                  "ProbBetween", "CreditBasis", "Note")
_SPX = ("SPX", "SPXW")          # a condor's four legs are all of these, or all XSP
_XSP = ("XSP",)


@dataclass
class Condors:
    """The iron condors of a book, as arrays over condors (G) and legs (4, order K1..K4)."""

    strategy: np.ndarray      # (G,) group names
    expiry: np.ndarray        # (G,) datetime64[D]
    strike: np.ndarray        # (G, 4) index points of the condor's own underlying
    iv: np.ndarray            # (G, 4) decimal implied vols
    weight: np.ndarray        # (G, 4) term-structure weights w
    t: np.ndarray             # (G, 4) years to settlement
    count: np.ndarray         # (G,) number of condors (|Qty| of each leg)
    multiplier: np.ndarray    # (G,) $ per index point per condor
    credit: np.ndarray        # (G,) index points per condor
    basis: np.ndarray         # (G,) "entry" or "mark"
    notes: list[list[str]]    # per condor
    spot: float               # SPX spot (break-evens are searched in SPX points)
    rate: float
    div: float
    scale: np.ndarray | None = None     # (G,) own points per SPX point: 1 (SPX), 0.1 (XSP)
    carry: np.ndarray | None = None     # (G,) forward / spot at the expiry
    discount: np.ndarray | None = None  # (G,) discount factor to the expiry

    def __post_init__(self) -> None:
        tt = np.maximum(self.t[:, 0], 0.0) if self.t.size else np.zeros(0)
        if self.scale is None:
            self.scale = np.ones(tt.size)
        if self.carry is None:
            self.carry = np.exp((self.rate - self.div) * tt)
        if self.discount is None:
            self.discount = np.exp(-self.rate * tt)

    @property
    def size(self) -> int:
        return int(self.strategy.size)


@dataclass
class CondorReport:
    """``table``: CONDOR_COLUMNS, one row per Strategy group (non-condors carry a Note);
    ``migration``: Strategy, Shift, T0Low, T0High for every condor and vol shift."""

    table: pd.DataFrame
    migration: pd.DataFrame
    condors: Condors
    reasons: dict[str, str] = field(default_factory=dict)


def find_condors(val: BookValuation) -> tuple[Condors, dict[str, str], list[str]]:
    """Iron condors of the book, why each other Strategy group is not one, all group names."""
    legs = val.legs
    strat = legs["Strategy"].astype(str).str.strip().to_numpy(dtype=object)
    named = np.flatnonzero(strat != "")
    groups = list(dict.fromkeys(strat[named]))
    cols = _GroupColumns(legs)
    codes = pd.Index(groups).get_indexer(strat[named])
    order = named[np.argsort(codes, kind="stable")]
    bounds = np.searchsorted(np.sort(codes, kind="stable"), np.arange(len(groups) + 1))
    reasons: dict[str, str] = {}
    picked: list[np.ndarray] = []
    for gi, name in enumerate(groups):       # validation per group on numpy slices
        members = order[bounds[gi]:bounds[gi + 1]]
        members = members[np.lexsort((cols.strike[members], cols.type[members] != "P"))]
        reason = _why_not(cols, members)
        if reason:
            reasons[name] = reason
        else:
            picked.append(members)
    idx = np.array(picked, dtype=int).reshape(-1, 4)
    return _condors(val, idx), reasons, groups


class _GroupColumns:
    """The legs-table columns condor validation needs, as numpy arrays."""

    def __init__(self, legs: pd.DataFrame):
        self.instrument = legs["Instrument"].to_numpy(dtype=object)
        self.type = legs["Type"].to_numpy(dtype=object)
        self.expiry = legs["Expiry"].to_numpy(dtype="datetime64[D]")
        self.t = legs["T"].to_numpy(dtype=float)
        self.qty = legs["Qty"].to_numpy(dtype=float)
        self.mult = legs["Multiplier"].to_numpy(dtype=float)
        self.strike = legs["Strike"].to_numpy(dtype=float)


def _why_not(c: _GroupColumns, g: np.ndarray) -> str:
    """Why the legs ``g`` (puts first, then strikes ascending) are not an iron condor."""
    kinds = set(c.instrument[g])
    if not (kinds <= set(_SPX) or kinds <= set(_XSP)):
        other = sorted(kinds - set(_SPX) - set(_XSP))
        return (f"has {', '.join(other)} legs; needs four SPX or four XSP options" if other else
                "mixes SPX and XSP legs; needs four SPX or four XSP options")
    if len(g) != 4:
        return f"{_count(len(g), 'leg')} (needs 4)"
    puts = int((c.type[g] == "P").sum())
    if puts != 2:
        return f"{_count(puts, 'put')} and {_count(4 - puts, 'call')} (needs 2 and 2)"
    expiries = sorted({str(e)[:10] for e in c.expiry[g]})
    if len(expiries) > 1:
        return f"mixed expiries ({', '.join(expiries)})"
    if np.unique(c.t[g]).size > 1:
        return "mixed settlement (SPX AM and SPXW PM)"
    qty = c.qty[g]
    if np.unique(np.abs(qty)).size > 1:
        return f"quantities differ (|Qty| {', '.join(f'{q:g}' for q in np.abs(qty))})"
    if np.unique(c.mult[g]).size > 1:
        return "multipliers differ"
    k = c.strike[g]
    if not (qty[0] > 0 > qty[1] and k[0] < k[1]):
        return f"puts {k[0]:g}/{k[1]:g} are not long the lower strike, short the higher"
    if not (qty[2] < 0 < qty[3] and k[2] < k[3]):
        return f"calls {k[2]:g}/{k[3]:g} are not short the lower strike, long the higher"
    if not k[1] < k[2]:
        return f"short put {k[1]:g} is not below short call {k[2]:g}"
    return ""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _condors(val: BookValuation, idx: np.ndarray) -> Condors:
    legs, m = val.legs, val.market
    col = lambda c: legs[c].to_numpy()[idx] if idx.size else np.zeros((0, 4))  # noqa: E731
    qty = col("Qty").astype(float)
    mult = col("Multiplier").astype(float)
    entry = col("Price").astype(float) - col("PnL").astype(float) / (mult * qty)
    first = idx[:, 0] if idx.size else np.zeros(0, dtype=int)
    scale = np.array([INDEX_SCALE[x] for x in legs["Instrument"].to_numpy()[first]], float)
    t0 = np.maximum(legs["T"].to_numpy(float)[first], 0.0)
    st = val.state
    on_fwd = st.on_forward[first]
    carry = np.where(on_fwd, st.under[first] / (scale * m.spx_spot),
                     np.exp((st.rate - st.div) * t0))
    c = Condors(
        strategy=col("Strategy")[:, 0] if idx.size else np.array([], dtype=object),
        expiry=legs["Expiry"].to_numpy(dtype="datetime64[D]")[idx[:, 0]],
        strike=col("Strike").astype(float), iv=col("IV").astype(float),
        weight=col("Weight").astype(float), t=col("T").astype(float),
        count=np.abs(qty[:, 0]), multiplier=mult[:, 0], credit=np.zeros(len(idx)),
        basis=np.full(len(idx), "mark", dtype=object), notes=[[] for _ in range(len(idx))],
        spot=m.spx_spot, rate=st.rate, div=st.div, scale=scale, carry=carry,
        discount=np.exp(-st.leg_rate[first] * t0))
    has_entry = np.isfinite(entry)
    all_entry = has_entry.all(axis=1)
    mark_credit = -value_points(c, np.full((len(idx), 1, 1), c.spot), np.zeros(1))[:, 0, 0]
    c.credit = np.where(all_entry, -(np.where(has_entry, entry, 0.0) * SIGN).sum(axis=1),
                        mark_credit)
    c.basis[all_entry] = "entry"
    for i in np.flatnonzero(~all_entry):
        c.notes[i].append("EntryPrice missing on some legs: credit is today's mark"
                          if has_entry[i].any() else
                          "no EntryPrice: credit is today's mark (T+0 P&L 0 at spot)")
    return c


def value_points(c: Condors, spots: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Today's value V per condor (own index points, long +), shape (G, K shifts, M spots).

    ``spots`` (SPX points) broadcasts to (G, K, M); each leg's IV moves by w·shift/100
    (floored at 0). A leg's forward is spot × scale × carry, its discount the condor's.
    """
    s = np.asarray(spots, dtype=float)[..., None]
    d = np.asarray(shifts, dtype=float)[None, :, None, None]
    leg = lambda a: a[:, None, None, :]  # noqa: E731
    per = lambda a: a[:, None, None, None]  # noqa: E731
    iv = np.maximum(leg(c.iv) + leg(c.weight) * d / 100.0, 0.0)
    fwd = s * per(c.scale) * per(c.carry)
    price = black_price(CP, fwd, leg(c.strike), leg(c.t), iv, per(c.discount))
    return (price * SIGN).sum(axis=-1)


def t0_pnl(c: Condors, spots: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """T+0 P&L per condor in index points, Credit + V(S, Δ), shape (G, K, M)."""
    return c.credit[:, None, None] + value_points(c, spots, shifts)


def t0_breakevens(c: Condors, shifts) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper T+0 break-evens (own index points: SPX, or SPX/10 for XSP), shape
    (G, K); NaN where none in range.

    Searched ``SEARCH_BLOCK`` (condor, shift) pairs at a time, so memory stays a few MB
    however many condors and shifts; every pair's search is independent of the others.
    """
    shifts = np.asarray(shifts, dtype=float)
    low = np.full((c.size, shifts.size), np.nan)
    high = np.full((c.size, shifts.size), np.nan)
    for g in row_blocks(c.size, 1, SEARCH_BLOCK):
        part = _subset(c, g)
        for k in row_blocks(shifts.size, part.size, SEARCH_BLOCK):
            low[g, k], high[g, k] = _search_breakevens(part, shifts[k])
    return low * c.scale[:, None], high * c.scale[:, None]


def _search_breakevens(c: Condors, shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``t0_breakevens`` for all pairs at once: a grid scan, then bisection (G, K)."""
    grid = c.spot * np.linspace(1 - SEARCH_FRACTION, 1 + SEARCH_FRACTION, GRID_POINTS)
    pos = t0_pnl(c, grid, shifts) > 0                              # (G, K, M)
    up = ~pos[..., :-1] & pos[..., 1:]
    down = pos[..., :-1] & ~pos[..., 1:]
    has_low = up.any(axis=-1) & ~pos[..., 0]
    has_high = down.any(axis=-1) & ~pos[..., -1]
    i_low = np.argmax(up, axis=-1)
    i_high = GRID_POINTS - 2 - np.argmax(down[..., ::-1], axis=-1)
    neg_end = np.stack([grid[i_low], grid[i_high + 1]], axis=-1)     # P&L ≤ 0 here
    pos_end = np.stack([grid[i_low + 1], grid[i_high]], axis=-1)     # P&L > 0 here
    for _ in range(BISECTIONS):
        mid = 0.5 * (neg_end + pos_end)
        gain = t0_pnl(c, mid, shifts) > 0
        pos_end = np.where(gain, mid, pos_end)
        neg_end = np.where(gain, neg_end, mid)
    root = 0.5 * (neg_end + pos_end)
    return np.where(has_low, root[..., 0], np.nan), np.where(has_high, root[..., 1], np.nan)


def check_shift_count(shifts: np.ndarray, name: str) -> None:
    """InputError naming ``name`` when more than MAX_BREAKEVEN_SHIFTS shifts are given."""
    if shifts.size > MAX_BREAKEVEN_SHIFTS:
        raise InputError(f"{name}: at most {MAX_BREAKEVEN_SHIFTS:,} vol shifts, got "
                         f"{shifts.size:,} (each shift is its own break-even search)")


def prob_between(c: Condors, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Risk-neutral P(low < S_T < high): N(d2(low; σ_short put)) − N(d2(high; σ_short call)).

    ``low`` ≤ 0 means no lower bound, ``high`` = inf no upper bound; NaN gives 0.
    """
    t = np.maximum(c.t[:, 0], 0.0)
    fwd = c.spot * c.scale * c.carry
    p = _prob_above(fwd, low, c.iv[:, 1] * np.sqrt(t)) - _prob_above(fwd, high,
                                                                     c.iv[:, 2] * np.sqrt(t))
    ok = ~np.isnan(low) & ~np.isnan(high)
    return np.where(ok, np.clip(p, 0.0, 1.0), 0.0)


def _prob_above(fwd: np.ndarray, k: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """P(S_T > k) = N(d2) for a lognormal with mean ``fwd`` and log-sd ``sd``."""
    usable = (k > 0) & np.isfinite(k)
    k_safe = np.where(usable, k, fwd)
    sd_safe = np.where(sd > 0, sd, 1.0)
    p = np.where(sd > 0, ndtr(np.log(fwd / k_safe) / sd_safe - 0.5 * sd_safe),
                 (fwd > k_safe).astype(float))
    return np.where(usable, p, np.where(k <= 0, 1.0, 0.0))


def condor_report(val: BookValuation, shifts=DEFAULT_VOL_SHIFTS) -> CondorReport:
    """Every Strategy group: condor figures (CONDOR_COLUMNS) and T+0 break-evens per shift."""
    shifts = np.asarray(shifts, dtype=float).ravel()
    check_shift_count(shifts, "shifts")
    c, reasons, groups = find_condors(val)
    k = c.strike
    w_put, w_call = k[:, 1] - k[:, 0], k[:, 3] - k[:, 2]
    cr, units = c.credit, c.multiplier * c.count
    be_low = np.where((cr > 0) & (cr < w_put), k[:, 1] - cr, np.nan)
    be_high = np.where((cr > 0) & (cr < w_call), k[:, 2] + cr, np.nan)
    max_loss = (np.maximum(w_put, w_call) - cr) * units
    prob = prob_between(c, np.where(cr >= w_put, 0.0, be_low),
                        np.where(cr >= w_call, np.inf, be_high))
    all_shifts = np.unique(np.append(shifts, 0.0))
    t0_low, t0_high = t0_breakevens(c, all_shifts)
    at0 = np.searchsorted(all_shifts, 0.0)
    for i in range(c.size):
        c.notes[i] += _expiry_notes(cr[i], w_put[i], w_call[i])
        if np.isnan(t0_low[i, at0]) or np.isnan(t0_high[i, at0]):
            c.notes[i].append(f"T+0: a break-even is {NONE_TEXT} of spot")
    rows = pd.DataFrame({
        "Strategy": c.strategy, "Expiry": c.expiry, "ShortPut": k[:, 1], "LongPut": k[:, 0],
        "ShortCall": k[:, 2], "LongCall": k[:, 3], "Qty": c.count, "Credit": cr,
        "CreditUSD": cr * units, "MaxProfit": cr * units, "MaxLoss": max_loss,
        "BreakevenLow": be_low, "BreakevenHigh": be_high, "T0BreakevenLow": t0_low[:, at0],
        "T0BreakevenHigh": t0_high[:, at0],
        "ReturnOnRisk": np.divide(cr * units, max_loss, out=np.full(c.size, np.nan),
                                  where=max_loss > 0),
        "ProbBetween": prob, "CreditBasis": c.basis, "Note": ["; ".join(n) for n in c.notes]})
    others = pd.DataFrame({"Strategy": list(reasons),
                           "Note": [f"not an iron condor: {r}" for r in reasons.values()]})
    table = pd.concat([rows, others], ignore_index=True) if len(others) else rows
    order = {name: i for i, name in enumerate(groups)}
    table = table.sort_values("Strategy", key=lambda s: s.map(order), kind="stable")
    table = table.reindex(columns=list(CONDOR_COLUMNS)).reset_index(drop=True)
    pick = np.searchsorted(all_shifts, shifts)
    migration = pd.DataFrame({
        "Strategy": np.repeat(c.strategy, shifts.size), "Shift": np.tile(shifts, c.size),
        "T0Low": t0_low[:, pick].ravel(), "T0High": t0_high[:, pick].ravel()})
    return CondorReport(table, migration, c, reasons)


def _expiry_notes(credit: float, w_put: float, w_call: float) -> list[str]:
    if credit <= 0:
        return ["no credit: the condor cannot profit at expiry"]
    notes = []
    if credit >= w_put:
        notes.append("credit ≥ put wing: no lower break-even at expiry")
    if credit >= w_call:
        notes.append("credit ≥ call wing: no upper break-even at expiry")
    return notes


def breakeven_migration(val: BookValuation, strategy: str | None = None,
                        shifts=DEFAULT_VOL_SHIFTS) -> pd.DataFrame:
    """Shift, T0Low, T0High (index points; NaN = none within ±50 %) for one condor.

    ``strategy`` None → the first iron condor of the book. Raises InputError when the
    strategy is not in the book, is not an iron condor, or the book has no iron condor.
    """
    c, reasons, groups = find_condors(val)
    if strategy is None or str(strategy).strip() == "":
        if c.size == 0:
            raise InputError(no_condor_message(reasons))
        i = 0
    else:
        name = resolve_strategy(strategy, groups)
        if name in reasons:
            raise InputError(f"{name} is not an iron condor: {reasons[name]}")
        i = int(np.flatnonzero(c.strategy == name)[0])
    shifts = np.asarray(shifts, dtype=float).ravel()
    check_shift_count(shifts, "shifts")
    low, high = t0_breakevens(_subset(c, slice(i, i + 1)), shifts)
    return pd.DataFrame({"Shift": shifts, "T0Low": low[0], "T0High": high[0]})


def resolve_strategy(name: str, groups: list[str]) -> str:
    """The book's spelling of a Strategy name (case-insensitive); InputError if absent."""
    wanted = str(name).strip().casefold()
    for g in groups:
        if str(g).strip().casefold() == wanted:
            return g
    listed = ", ".join(groups) if groups else "none (give the condor legs a Strategy id)"
    raise InputError(f"strategy {name!r} not found; strategies in the book: {listed}")


def no_condor_message(reasons: dict[str, str]) -> str:
    if not reasons:
        return ("no iron condor in the book: no Strategy groups (give the four condor legs "
                "one Strategy id, e.g. IC-Jan)")
    listed = "; ".join(f"{k}: {v}" for k, v in reasons.items())
    return f"no iron condor in the book ({listed})"


def _subset(c: Condors, sel: slice) -> Condors:
    """The condors ``sel`` of ``c``."""
    return Condors(c.strategy[sel], c.expiry[sel], c.strike[sel], c.iv[sel], c.weight[sel],
                   c.t[sel], c.count[sel], c.multiplier[sel], c.credit[sel], c.basis[sel],
                   c.notes[sel], c.spot, c.rate, c.div, c.scale[sel], c.carry[sel],
                   c.discount[sel])
