"""Error hierarchy, named after failure modes. Limit breaches are data, not errors."""

from __future__ import annotations


class AlvhError(Exception):
    """Base class of every expected alvh_xl error (shown as '#ALVH! …' in a cell)."""


class InputError(AlvhError, ValueError):
    """An input value is unusable: names the parameter (and row/column) and echoes the value."""

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None):
        self.row, self.column, self.reason = row, column, message
        where = []
        if row is not None:
            where.append(f"row {row}")
        if column and (row is not None or column not in message):
            where.append(f"({column})" if row is not None else column)
        prefix = " ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class MissingInputError(InputError):
    """A required table, column, field or named range is absent."""


class NoSolutionError(AlvhError):
    """A solver found no answer (implied vol outside bounds, no break-even in range, …)."""


class WorkbookError(AlvhError):
    """A workbook is unreadable or is not an ALVH workbook."""


class PathError(AlvhError):
    """A file or folder cannot be used as given: missing, a folder where a file is needed (or
    the reverse), a device or FIFO, unwritable, the output equal to an input, or busy (locked
    by another run). The message is one sentence naming the path; the CLI exits 2."""


def count(n: int, word: str) -> str:
    """'1 leg', '3 legs', '10,000 legs' (English plural by an 's')."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def describe(value: object) -> str:
    """Short echo of a bad value for messages: strings quoted, long values cut."""
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
