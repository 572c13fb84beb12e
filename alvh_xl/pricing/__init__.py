"""Pure pricing maths on floats and numpy arrays (no dates, no pandas, no xlwings)."""

from .american import american_greeks, american_price
from .greeks import Greeks, black76_greeks, bsm_greeks
from .implied import STATUS, IVResult, explain, implied_vol, solve_implied_vol
from .inputs import parse_cp
from .parity import ParityFit, implied_forward

__all__ = ["Greeks", "bsm_greeks", "black76_greeks", "american_greeks", "american_price",
           "parse_cp",
           "IVResult", "STATUS", "explain", "implied_vol", "solve_implied_vol",
           "ParityFit", "implied_forward"]
