"""Reading broker files: text with or without a BOM, CSV rows, numbers and money as printed
('+1', '.755', '1,000.00', '($255.50)', '--' for blank). No character is stripped to make a
number: text that is not one of these forms is an error naming the column."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ...errors import InputError, describe

_NUMBER = re.compile(r"^[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+|)(?:\.[0-9]+)?$")   # ASCII digits
BLANKS = ("", "--", "N/A", "n/a")


def read_text(path: Path, what: str) -> str:
    """The file's text (UTF-8, a leading BOM removed)."""
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what}: {Path(path).name} is not UTF-8 text ({exc.reason} at byte "
                         f"{exc.start})") from None


def csv_rows(text: str) -> list[list[str]]:
    """CSV records of a text (quoted fields may hold commas and line breaks)."""
    return [row for row in csv.reader(io.StringIO(text, newline=""))]


OVERFLOW = "_cells_past_the_header"


def record(keys: list, row: list[str]) -> dict:
    """A data row as {key: stripped text} by the header's ``keys`` (None keys are skipped).
    Filled cells past the header's last column (an unquoted comma in '1,234.50' splits a
    number and shifts the columns) are kept under ``OVERFLOW`` for ``check_record``."""
    rec = {k: v.strip() for k, v in zip(keys, row, strict=False) if k}
    extra = [v.strip() for v in row[len(keys):] if v.strip()]
    if extra:
        rec[OVERFLOW] = f"{len(row)} cells, the header has {len(keys)} columns"
        rec[OVERFLOW] += f" (past it: {', '.join(extra)}); an unquoted comma in a number " \
                         "such as 1,234.50 shifts the columns"
    return rec


def check_record(rec: dict) -> None:
    """InputError for a row ``record`` found cells past the header in."""
    if OVERFLOW in rec:
        raise InputError(f"the row has {rec[OVERFLOW]}")


def column_key(text: str) -> str:
    """Header text compared: lower case letters and digits only ('Put/Call' → 'putcall')."""
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def number(text: str | None, column: str) -> float | None:
    """A number as brokers print it ('+1', '-.30', '1,000.5'); None for a blank or '--'."""
    s = (text or "").strip()
    if s in BLANKS:
        return None
    digits = s.lstrip("+-")
    if not _NUMBER.match(s) or not any(c.isdigit() for c in digits):
        raise InputError(f"{column}: expected a number, got {describe(text)}")
    return float(s.replace(",", ""))


def quantity(text: str | None, column: str) -> float:
    """A position's signed quantity: a number, never blank (InputError naming ``column``)."""
    qty = number(text, column)
    if qty is None:
        raise InputError(f"{column} is blank")
    return qty


def multiplier(text: str | None, default: float | None) -> float | None:
    """A Multiplier cell: blank → ``default`` (the contract's own); otherwise a positive
    number — 0 or a negative multiplier is an error, never replaced by the default."""
    value = number(text, "Multiplier")
    if value is None:
        return default
    if not value > 0:
        raise InputError(f"Multiplier {describe(text)}: expected a positive number")
    return value


def money(text: str | None, column: str) -> float | None:
    """An amount like '$1,234.50', '($255.50)' (negative) or '-12.5'; None for a blank."""
    s = (text or "").strip()
    if s in BLANKS:
        return None
    negative = s.startswith("(") and s.endswith(")")
    if negative:
        s = s[1:-1].strip()
    sign = ""
    if s[:1] in "+-":
        sign, s = s[0], s[1:]
    s = s.removeprefix("$")
    value = number(sign + s, column)
    if value is None:
        raise InputError(f"{column}: expected an amount, got {describe(text)}")
    return -value if negative else value
