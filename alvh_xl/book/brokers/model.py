"""What a broker reader returns: mapped legs, rows it ignored, rows it could not map."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..symbols import Symbol


@dataclass(frozen=True)
class ImportedLeg:
    """One position of the ALVH universe, prices per unit of the underlying (index points,
    VIX points, dollars per share), whatever unit the broker printed.

    ``where``: the file location ("line 12", "OpenPosition 3"); ``text``: the broker's own
    description of the contract; ``qty``: signed contracts (negative = short).
    """

    where: str
    text: str
    symbol: Symbol
    qty: float
    multiplier: float
    price: float | None = None
    entry_price: float | None = None


@dataclass(frozen=True)
class Skipped:
    """A row left out: ``where`` in the file, the broker's ``text`` and the ``reason``."""

    where: str
    text: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text}: {self.reason}"


@dataclass
class BrokerImport:
    """The result of reading one broker file.

    ``legs``: mapped ALVH positions in file order; ``ignored``: positions outside the ALVH
    universe (stocks, forex, other underlyings, options on futures); ``unmapped``: rows that
    look like positions but could not be read (with the reason); ``notes``: facts about the
    file a user should know (e.g. a transaction history was netted; prices left blank).
    """

    broker: str
    path: Path
    as_of: dt.date | None
    legs: list[ImportedLeg] = field(default_factory=list)
    ignored: list[Skipped] = field(default_factory=list)
    unmapped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def outside_reason(sym: Symbol) -> str:
    """Why a parsed contract is not imported: 'option on HAL: outside the ALVH universe'."""
    what = {"stock": "shares of", "option": "option on", "future": "future on",
            "future_option": "option on the future"}.get(sym.kind, sym.kind)
    return f"{what} {sym.underlying}: outside the ALVH universe"
