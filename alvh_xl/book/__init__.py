"""Input data: positions, market, curve, thresholds and scenarios parsed from tables."""

from .limits import LayerLimit, Thresholds, parse_scenarios, parse_thresholds
from .market import Curve, Market, parse_curve, parse_market
from .positions import HEADERS as POSITION_HEADERS
from .positions import Positions, parse_candidates, parse_positions
from .tables import Problem

__all__ = ["Curve", "LayerLimit", "Market", "POSITION_HEADERS", "Positions", "Problem",
           "Thresholds", "parse_candidates", "parse_curve", "parse_market", "parse_positions",
           "parse_scenarios", "parse_thresholds"]
