"""Pure pricing maths on floats and numpy arrays (no dates, no pandas, no xlwings)."""

from .greeks import Greeks, black76_greeks, bsm_greeks
from .inputs import parse_cp

__all__ = ["Greeks", "bsm_greeks", "black76_greeks", "parse_cp"]
