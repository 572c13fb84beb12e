"""CSV cells safe to open in Excel (OWASP "CSV injection"): text starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return would be read as a formula, so it is written with a
leading apostrophe; a plain number such as ``-3`` or ``+1.5e-3`` is left as it is.

``unescape_cell`` undoes ``escape_cell`` exactly (``unescape_cell(escape_cell(s)) == s``),
also for text that itself starts with an apostrophe before such a character.
"""

from __future__ import annotations

import re

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def needs_escape(text: str) -> bool:
    """True when Excel would read ``text`` as something other than the same text."""
    if not text or _PLAIN_NUMBER.match(text):
        return False
    if text[0] in DANGEROUS_FIRST:
        return True
    return text[0] == "'" and needs_escape(text[1:])


def escape_cell(text: str) -> str:
    """``text`` with a leading apostrophe when Excel would run it as a formula."""
    return "'" + text if needs_escape(text) else text


def unescape_cell(text: str) -> str:
    """The original text of a cell written by ``escape_cell``."""
    return text[1:] if text.startswith("'") and needs_escape(text[1:]) else text
