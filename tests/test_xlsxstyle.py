"""Column widths of the written workbooks: ``column_width`` (from a column's extremes) equals
the per-cell maximum of ``display_width`` for every format the project uses."""

from __future__ import annotations

import datetime as dt
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_xl.tools.xlsxstyle import FORMATS, column_width, display_width

USED = sorted(set(FORMATS.values()) | {"General", "0.0", "0%", "0.00%"})
cells = st.one_of(
    st.floats(-1e15, 1e15), st.sampled_from([math.nan, math.inf, -math.inf, -0.0]),
    st.integers(-10**12, 10**12), st.none(), st.text(max_size=12), st.booleans(),
    st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)))


@settings(max_examples=300, deadline=None)
@given(st.lists(cells, max_size=30), st.sampled_from(USED))
def test_column_width_is_the_widest_cell(values, num_format):
    want = max((display_width(v, num_format) for v in values), default=0.0)
    assert column_width(values, num_format) == want, (values, num_format)


def test_negative_zero_is_zero():
    """Found by hypothesis in a .ci/run: Excel stores no negative zero, so -0.0 shows '0'
    ('-0' only for a negative number that rounds to zero)."""
    assert column_width([-0.0, 0.0], "#,##0") == display_width(0.0, "#,##0") == 2.0
    assert display_width(-0.4, "#,##0") == 3.0


def test_rounding_up_a_digit_and_signs():
    assert column_width([9.996, -0.5, 1.0], "#,##0.00") == display_width(9.996, "#,##0.00")
    assert column_width([999.999, -1000.0], "#,##0.0") == display_width(-1000.0, "#,##0.0")
    assert column_width([0.000123456, 5.0], "General") == display_width(0.000123456)
    assert column_width([math.inf, 1.0], "0.00") == max(4.0, display_width(1.0, "0.00"))


def test_wide_characters_count_twice_in_text_and_headers():
    """Excel shows a CJK character about two digit-widths wide: a column sized by len() cuts
    a layer named in Chinese (or Japanese) to half its text."""
    from alvh_xl.tools.xlsxstyle import header_width

    assert display_width("波动率") == 6.0 and display_width("VIX L1") == 6.0
    assert column_width(["Core", "波动率对冲层"]) == 12.0
    assert header_width("波动率 Limit") == header_width("xxxxxx")
