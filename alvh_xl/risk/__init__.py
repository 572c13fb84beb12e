"""Risk engine: valuation, aggregation, limits, hedging, scenarios, condor, indicators, history.

Pure Python/numpy/pandas; never imports xlwings.
"""
