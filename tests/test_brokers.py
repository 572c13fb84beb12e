"""Broker readers on the real samples in tests/data/brokers (README there), and on copies of
them in which a few real rows were given ALVH symbols (the samples themselves hold almost no
SPX/VIX positions). Expected counts were taken from the files by hand:

* IBKR Flex CSV: 54 data lines, ``AssetClass`` "STK" on 10 and "OPT" on 44 (none SPX/VIX);
* IBKR Activity XML: 13 ``<OpenPosition>``, 11 STK + 2 OPT (CLNE, ONCT calls);
* thinkorswim Position Statement: 23 option legs (lines "100 MON YY K CALL|PUT"), one on VXX;
  6 stock rows with Qty ≠ 0 (GREK, NGE, PG, SNDK, USLV, XOM); 4 futures (/6J, /NG, /NQ, /QM);
  5 currency pairs, 4 with Qty ≠ 0; 13 option groups whose stock row has Qty 0;
* thinkorswim Account Statement: no Equities/Options/Futures table (a flat NVDA day trader);
* tastytrade: 6 trade/expiration rows on 3 /MES puts, all closed by the file's end, and one
  deposit.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import DATA

from alvh_xl.book.brokers import detect, positions_table, read_positions
from alvh_xl.book.brokers.cells import money, number
from alvh_xl.errors import InputError

BROKERS = DATA / "brokers"
IBKR_CSV = BROKERS / "ibkr_flex_open_positions_2025-11-07.csv"
IBKR_XML = BROKERS / "ibkr_flex_activity_full_2023-03-02_redacted.xml"
TOS_PS = BROKERS / "tos_position_statement_2015-02-20_papermoney.csv"
TOS_AS = BROKERS / "tos_account_statement_2022-06-21_papermoney_stocks.csv"
TOS_PS_2021 = BROKERS / "tos_position_statement_2021-12-29_papermoney_mes_spx.csv"
TASTY = BROKERS / "tastytrade_transactions_mes_futopt_2024.csv"
D = dt.date


def _reasons(items, pattern):
    return [i for i in items if re.search(pattern, i.reason)]


@pytest.mark.parametrize(("path", "broker"), [(IBKR_CSV, "ibkr"), (IBKR_XML, "ibkr"),
                                              (TOS_PS, "tos"), (TOS_AS, "tos"),
                                              (TASTY, "tastytrade")])
def test_detect(path, broker):
    assert detect(path) == broker


def test_cells_numbers_and_money_as_brokers_print_them():
    assert money("($255.50)", "x") == -255.5 and money('$4,358.80', "x") == 4358.8
    assert number("+1", "x") == 1 and number(".755", "x") == 0.755 and number("--", "x") is None
    for bad in ("1,0000", "12.5%", "abc", "1.2.3"):
        with pytest.raises(InputError, match="expected a number"):
            number(bad, "Qty")


# ----------------------------------------------------------------------------- IBKR

def test_ibkr_csv_sample_is_all_outside_the_universe():
    imp = read_positions(IBKR_CSV)
    assert (imp.as_of, len(imp.legs), len(imp.unmapped)) == (D(2025, 11, 7), 0, 0)
    assert len(_reasons(imp.ignored, r"^shares of")) == 10
    assert len(_reasons(imp.ignored, r"^option on")) == 44
    assert len(imp.ignored) == 54
    hal = next(i for i in imp.ignored if i.text == "HAL   251128P00021000")
    assert hal.where == "line 17" and hal.reason == "option on HAL: outside the ALVH universe"


def test_ibkr_xml_sample():
    imp = read_positions(IBKR_XML)
    assert (imp.as_of, len(imp.legs), len(imp.unmapped), len(imp.ignored)) == \
        (D(2023, 3, 2), 0, 0, 13)
    assert [i.text for i in _reasons(imp.ignored, "^option on")] == \
        ["CLNE  230915C00010000", "ONCT  230721C00005000"]


def _ibkr_variant(tmp_path: Path, edits: list[tuple[str, dict[str, str]]]) -> Path:
    """The real CSV with the rows whose Symbol is given replaced field by field."""
    import csv

    with IBKR_CSV.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for symbol, fields in edits:
        row = next(r for r in rows if r["Symbol"] == symbol)
        row.update(fields)
    out = tmp_path / "ibkr.csv"
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
    return out


def test_ibkr_maps_universe_rows_per_unit(tmp_path):
    """Real HAL/CHWY rows (marks, values, cost bases) relabelled as SPXW puts: Price is the
    per-share MarkPrice (PositionValue = MarkPrice × Quantity × 100 in the real file);
    EntryPrice = CostBasisMoney / (Quantity × 100)."""
    path = _ibkr_variant(tmp_path, [
        ("HAL   251128P00021000", {"Symbol": "SPXW  251128P05000000", "Strike": "5000",
                                   "UnderlyingSymbol": "SPX"}),
        ("CHWY  251219P00040000", {"Symbol": "SPX   251219P05100000", "Strike": "5100",
                                   "UnderlyingSymbol": "SPX"}),
        ("DIS", {"Symbol": "VXX"}),
        ("B     251121P00026000", {"AssetClass": "FUT", "Symbol": "VXZ5", "Strike": "",
                                   "Put/Call": "", "Multiplier": "1000",
                                   "Expiry": "2025-12-17"}),
        ("NKE   251121P00060000", {"AssetClass": "FOP"}),
    ])
    imp = read_positions(path)
    legs = {leg.text: leg for leg in imp.legs}
    hal = legs["SPXW  251128P05000000"]                # real: mark 0.0463, cost 22.7959
    assert (hal.qty, hal.multiplier, hal.price) == (1.0, 100.0, 0.0463)
    assert hal.entry_price == pytest.approx(0.227959, rel=1e-12)
    chwy = legs["SPX   251219P05100000"]               # real: -1, mark 6.8743, -558.30131
    assert (chwy.qty, chwy.price) == (-1.0, 6.8743)
    assert chwy.entry_price == pytest.approx(5.5830131, rel=1e-12)
    assert legs["VXX"].symbol.instrument == "ETP" and legs["VXX"].qty == 6
    vx = legs["VXZ5"]
    assert (vx.symbol.instrument, vx.symbol.expiry, vx.multiplier) == ("VX", D(2025, 12, 17),
                                                                      1000.0)
    assert [i.reason for i in imp.ignored if i.where == "line 22"] == \
        ["option on a future: not an ALVH instrument"]
    assert len(imp.ignored) == 54 - 5 + 1


def _legs_and_skips(imp):
    return ([(leg.text, leg.qty, leg.price, leg.entry_price) for leg in imp.legs],
            [(i.text, i.reason) for i in imp.ignored], [(i.text, i.reason) for i in imp.unmapped])


def test_ibkr_csv_with_header_and_trailer_records(tmp_path):
    """Flex CSV exported with "Include header and trailer records" (layout shown in other
    projects' fixtures: BOF/BOA/BOS … EOS/EOA/EOF lines, HEADER,POST,… and DATA,POST,…):
    the real sample (with two SPXW rows) framed that way reads exactly as the plain file."""
    plain = _ibkr_variant(tmp_path, [
        ("HAL   251128P00021000", {"Symbol": "SPXW  251128P05000000", "Strike": "5000"}),
        ("CHWY  251219P00040000", {"Symbol": "SPXW  251219P05100000", "Strike": "5100"})])
    lines = plain.read_text().splitlines()
    framed = tmp_path / "framed.csv"
    framed.write_text("\n".join(
        ['"BOF","U0000000","OpenPositions","1","20251107","20251107","20251107"',
         '"BOA","U0000000"', '"BOS","POST","Open Positions; trade date basis"',
         '"HEADER","POST",' + lines[0]] + ['"DATA","POST",' + ln for ln in lines[1:]]
        + ['"EOS","POST","54"', '"EOA","U0000000"', '"EOF","U0000000"']) + "\n")
    assert detect(framed) == "ibkr"
    want, got = read_positions(plain), read_positions(framed)
    assert len(want.legs) == 2 and len(want.ignored) == 52
    assert _legs_and_skips(got) == _legs_and_skips(want)
    assert [leg.where for leg in got.legs] == [f"line {int(leg.where.split()[1]) + 3}"
                                              for leg in want.legs]


def test_ibkr_csv_rows_of_a_trades_section_are_not_positions(tmp_path):
    """A Flex query with Open Positions and Trades in one CSV: each section has its own
    header, and a trade row (AssetClass, Symbol, Quantity too) is not an open position."""
    plain = _ibkr_variant(tmp_path, [
        ("HAL   251128P00021000", {"Symbol": "SPXW  251128P05000000", "Strike": "5000"})])
    text = plain.read_text() + (
        '"ClientAccountID","AssetClass","Symbol","Conid","TradeID","DateTime","Quantity",'
        '"TradePrice","Buy/Sell","LevelOfDetail"\n'
        '"U0000000","OPT","SPXW  251219P05800000","2","t-1","20251105;093000","3","30","BUY",'
        '"EXECUTION"\n'
        '"U0000000","OPT","SPXW  251128P05000000","1","t-2","20251105;093000","-1","12","SELL",'
        '"EXECUTION"\n')
    path = tmp_path / "two_sections.csv"
    path.write_text(text)
    imp = read_positions(path)
    assert [(leg.text, leg.qty) for leg in imp.legs] == [("SPXW  251128P05000000", 1.0)]
    assert len(imp.ignored) == 53 and imp.unmapped == []
    assert any(n.startswith("2 rows of another Flex section") and "TradeID" in n
               for n in imp.notes), imp.notes


def test_ibkr_mark_per_contract_is_divided_and_inconsistent_marks_are_not_used(tmp_path):
    path = _ibkr_variant(tmp_path, [
        ("HAL   251128P00021000", {"Symbol": "SPXW  251128P05000000", "Strike": "5000",
                                   "MarkPrice": "4.63"}),            # 0.0463 per share
        ("HAL   251219P00020000", {"Symbol": "SPXW  251219P05000000", "Strike": "5000",
                                   "PositionValue": "99"}),
    ])
    imp = read_positions(path)
    legs = {leg.text: leg for leg in imp.legs}
    assert legs["SPXW  251128P05000000"].price == pytest.approx(0.0463, rel=1e-12)
    assert legs["SPXW  251219P05000000"].price is None
    assert any("≠ PositionValue 99; Price left blank" in n for n in imp.notes)


def test_ibkr_rows_that_disagree_are_not_mapped(tmp_path):
    path = _ibkr_variant(tmp_path, [
        ("HAL   251128P00021000", {"Symbol": "SPXW  251128P05000000", "Strike": "4999"}),
        ("B     251121P00026000", {"AssetClass": "FUT", "Symbol": "VXZ5", "Multiplier": "1000",
                                   "Expiry": "2025-12-16"}),
    ])
    imp = read_positions(path)
    reasons = {u.text: u.reason for u in imp.unmapped}
    assert reasons == {
        "SPXW  251128P05000000": "Strike column 4999 disagrees with the symbol's 5000",
        "VXZ5": "Expiry column 2025-12-16 disagrees with 2025-12-17, the expiry of VXZ5 by the "
                "exchange's rule"}
    assert imp.legs == []


def test_ibkr_xml_with_a_vix_option(tmp_path):
    text = IBKR_XML.read_text(encoding="utf-8").replace(
        'symbol="CLNE  230915C00010000" description="CLNE 15SEP23 10 C"',
        'symbol="VIX   230920C00015000" description="VIX 20SEP23 15 C"').replace(
        'multiplier="100" strike="10" expiry="20230915"',
        'multiplier="100" strike="15" expiry="20230920"')
    path = tmp_path / "flex.xml"
    path.write_text(text, encoding="utf-8")
    (leg,) = read_positions(path).legs
    assert (leg.where, leg.symbol.instrument, leg.symbol.expiry, leg.qty, leg.price) == \
        ("OpenPosition 12", "VIX", D(2023, 9, 20), -1.0, 0.0368)
    assert leg.entry_price == pytest.approx(0.07518304, rel=1e-12)   # −7.518304 / (−1 × 100)


# ----------------------------------------------------------------------------- thinkorswim

def test_tos_position_statement_sample():
    imp = read_positions(TOS_PS)
    assert imp.as_of == D(2015, 2, 20) and imp.unmapped == []
    (leg,) = imp.legs
    assert (leg.where, leg.text, leg.symbol.instrument, leg.symbol.underlying, leg.symbol.cp,
            leg.symbol.strike, leg.symbol.expiry, leg.qty, leg.multiplier, leg.price,
            leg.entry_price) == ("line 64", "VXX 100 MAR 15 37 CALL", "ETP", "VXX", "C", 37.0,
                                 D(2015, 3, 20), 1.0, 100.0, 0.755, 2.67)
    # ToS's own P/L Open on that line, ($191.50), = (Mark − Trade Price) × Qty × 100
    line = TOS_PS.read_text(encoding="utf-8-sig").splitlines()[63]
    assert line.startswith("100 MAR 15 37 CALL") and "($191.50)" in line
    assert (leg.price - leg.entry_price) * leg.qty * leg.multiplier == pytest.approx(-191.5)
    assert len(_reasons(imp.ignored, "^option on")) == 22
    assert {i.text.split()[0] for i in _reasons(imp.ignored, "^shares of")} == \
        {"GREK", "NGE", "PG", "SNDK", "USLV", "XOM"}
    assert [i.text for i in _reasons(imp.ignored, "^future on")] == \
        ["/6J MAR 15", "/NG FEB4 15", "/NQ MAR 15", "/QM FEB 15"]
    assert [i.text for i in _reasons(imp.ignored, "^forex")] == \
        ["AUD/SGD", "HKD/JPY", "USD/JPY", "USD/THB"]
    assert len(imp.ignored) == 36
    assert any("13 stock rows with Qty 0" in n for n in imp.notes)


def _pl_open(path: Path, where: str) -> float:
    """The file's own P/L Open of the row ``where`` ("line 9")."""
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    line = int(where.split()[1])
    header = next(r for r in rows[:line] if r[:1] == ["Instrument"])
    return money(rows[line - 1][header.index("P/L Open")], "P/L Open")


def test_tos_position_statement_2021_with_a_future_and_am_settled_spx():
    """Real statement of 12/29/21 (grouping None): the /MES group row is followed by its
    contract row 'Micro E-mini S&P 500, Mar-22' (not shares of /MES); the SPX monthly
    '21 JAN 22' (AM-settled) has Days 22, which counts to Thursday 1/20, its last trading day.
    Expected rows read from the file by hand; every leg's (Mark − Trade Price) × Qty ×
    multiplier equals the file's own P/L Open."""
    imp = read_positions(TOS_PS_2021)
    assert imp.as_of == D(2021, 12, 29)
    got = sorted((leg.where, leg.symbol.instrument, leg.symbol.cp, leg.symbol.strike,
                  leg.symbol.expiry, leg.qty, leg.multiplier, leg.price, leg.entry_price)
                 for leg in imp.legs)
    assert got == sorted([
        ("line 8", "MES", "", None, D(2022, 3, 18), 1.0, 5.0, 4776.25, 4777.5),
        ("line 11", "SPX", "P", 4795.0, D(2022, 1, 21), 1.0, 100.0, 63.2, 63.5),
        ("line 12", "SPXW", "C", 4795.0, D(2022, 3, 31), 2.0, 100.0, 140.25, 141.3),
        ("line 13", "SPXW", "P", 4650.0, D(2022, 5, 31), -3.0, 100.0, 179.9, 176.1),
        ("line 14", "SPXW", "P", 4730.0, D(2022, 5, 31), 3.0, 100.0, 204.0, 199.8),
        ("line 15", "SPXW", "C", 4775.0, D(2022, 5, 31), 2.0, 100.0, 214.4, 223.1),
        ("line 16", "SPXW", "C", 4800.0, D(2022, 5, 31), -2.0, 100.0, 198.95, 206.6),
    ]), got
    for leg in imp.legs:
        pl = (leg.price - leg.entry_price) * leg.qty * leg.multiplier
        assert pl == pytest.approx(_pl_open(TOS_PS_2021, leg.where), abs=0.005), leg
    # SPY's Jan 18 2022 put is an untagged holiday-shifted weekly (Monday Jan 17 was MLK
    # day): read as that day's weekly, then ignored as outside the universe, not unmapped
    assert [(i.where, i.text, i.reason) for i in imp.ignored] == [
        ("line 18", "SPY (SPDR S&P500 ETF TRUST TR UNIT ETF)",
         "shares of SPY: outside the ALVH universe"),
        ("line 19", "SPY 100 18 JAN 22 477 PUT", "option on SPY: outside the ALVH universe")]
    assert imp.unmapped == []


def test_tos_position_statement_schwab_layout_without_description_rows(tmp_path):
    """Schwab-era statements (layout of a public project's fixture 'Position Statement for
    12345678SCHW (Individual) on 9/29/26'): no description row under a group row; shares are
    on the group row itself. Each leg belongs to the group row above it, never to the group
    before; the 200 UVXY shares are a position. Net Liq = Mark × Qty × 100 on every leg."""
    path = tmp_path / "schwab.csv"
    path.write_text("""Position Statement for 12345678SCHW (Individual) on 9/29/26 22:14:27
Equities and Equity Options
Instrument,Qty,Days,Trade Price,Mark,Mrk Chng,Net Liq
UVXY,+200,,69.3705,61.11,+1.41,"$12,222.00"
SPX,,,,,,"$6,761.50"
100 16 OCT 26 6365 CALL,-1,17,2.05,1.935,-.6663,($193.50)
100 (Weeklys) 2 OCT 26 6330 CALL,+1,3,100.80,69.55,-2.5556,"$6,955.00"
VIX,,,,,,"$41,567.50"
100 21 OCT 26 20 PUT,-3,22,1.98,2.10,-.369,($630.00)
""", encoding="utf-8")
    imp = read_positions(path)
    got = [(leg.where, leg.symbol.instrument, leg.symbol.underlying, leg.symbol.cp,
            leg.symbol.strike, leg.symbol.expiry, leg.qty, leg.price, leg.entry_price)
           for leg in imp.legs]
    assert got == [
        ("line 4", "ETP", "UVXY", "", None, None, 200.0, 61.11, 69.3705),
        ("line 6", "SPX", "SPX", "C", 6365.0, D(2026, 10, 16), -1.0, 1.935, 2.05),
        ("line 7", "SPXW", "SPX", "C", 6330.0, D(2026, 10, 2), 1.0, 69.55, 100.8),
        ("line 9", "VIX", "VIX", "P", 20.0, D(2026, 10, 21), -3.0, 2.1, 1.98),
    ], got
    assert (imp.ignored, imp.unmapped) == ([], [])
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    for leg in imp.legs:
        net_liq = money(rows[int(leg.where.split()[1]) - 1][6], "Net Liq")
        assert leg.price * leg.qty * leg.multiplier == pytest.approx(net_liq, abs=0.005), leg


def _tos_ps_variant(tmp_path: Path, equities: str, futures: str) -> Path:
    lines = TOS_PS.read_text(encoding="utf-8-sig").splitlines()
    at = lines.index("VXX,,,,,,21.49,4.26,-3.34,2.52,-2.24%,($191.50),($21.50),$18.00")
    lines[at:at] = equities.strip().splitlines()
    at = lines.index("/6J,,,+1,,.008389,.008413,+.000007,+0.08%,$300.00,$87.50,\"($3,300.00)\"")
    lines[at:at] = futures.strip().splitlines()
    path = tmp_path / "ps.csv"
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_tos_position_statement_with_spx_vix_and_vx(tmp_path):
    """Statement of 2/20/15: SPX weekly 27 FEB (Days 7), SPX monthly MAR (Days 29, to the
    Saturday), VIX MAR 15 = Wed 18 Mar (Days 26), /VX MAR 15 future = 18 Mar."""
    path = _tos_ps_variant(tmp_path, """
SPX,,,,,,1,1,1,1,+0.1%,$0.00,$0.00,$0.00
S&P 500 INDEX,0,,.00,2110.30,+5.00,.00,.00,.00,.00,,$0.00,$0.00,$
100 (Weeklys) 27 FEB 15 2100 PUT,-2,7,12.40,10.10,-.20,1,1,1,1,,$460.00,$40.00,$
100 MAR 15 2000 PUT,+1,29,9.00,8.50,-.20,1,1,1,1,,($50.00),$0.00,$
100 MAR 15 1900 PUT,+1,31,9.00,8.50,-.20,1,1,1,1,,($50.00),$0.00,$
VIX,,,,,,1,1,1,1,+0.1%,$0.00,$0.00,$0.00
CBOE VOLATILITY INDEX,0,,.00,14.30,+.10,.00,.00,.00,.00,,$0.00,$0.00,$
100 MAR 15 20 CALL,+10,26,.55,.45,-.05,1,1,1,1,,($100.00),$0.00,$
""", """
/VX,,,+2,,15.50,16.10,+.05,+0.3%,"$1,200.00",$100.00,"($5,000.00)"
"VIX Futures,Mar-2015,ETH",MAR 15,1/1000,+2,26,15.50,16.10,+.05,,"$1,200.00",$100.00,$
""")
    imp = read_positions(path)
    rows = positions_table(imp).rows
    got = [(r[0], r[2], r[3], r[4], r[5], r[6], r[7], r[9], r[10]) for r in rows]
    assert got == [
        ("Core", "SPX", "P", 2000.0, D(2015, 3, 20), 1.0, 100.0, 8.5, 9.0),
        ("Core", "SPXW", "P", 2100.0, D(2015, 2, 27), -2.0, 100.0, 10.1, 12.4),
        ("VIX L1", "VIX", "C", 20.0, D(2015, 3, 18), 10.0, 100.0, 0.45, 0.55),
        ("VIX L1", "VX", None, None, D(2015, 3, 18), 2.0, 1000.0, 16.1, 15.5),
        ("Tail", "ETP", "C", 37.0, D(2015, 3, 20), 1.0, 100.0, 0.755, 2.67),
    ]
    (bad,) = imp.unmapped
    assert bad.text == "SPX 100 MAR 15 1900 PUT" and "Days 31 from 2015-02-20 gives " \
        "2015-03-23" in bad.reason


def test_tos_account_statement_sample_has_no_position_tables():
    imp = read_positions(TOS_AS)
    assert imp.as_of == D(2022, 6, 21)
    assert (imp.legs, imp.ignored, imp.unmapped) == ([], [], [])
    assert "position tables read: none" in imp.notes[0]
    assert any("Account Trade History" in n and "Profits and Losses" in n for n in imp.notes)


def test_tos_account_statement_position_tables(tmp_path):
    """The real statement with position tables added in the layout other projects' ToS
    fixtures show (Options: Symbol, Option Code, Exp, Strike, Type, Qty, Trade Price, Mark,
    Mark Value; Futures: Symbol, Description, SPC, Exp, Qty, Trade Price, Mark, P/L Day)."""
    text = TOS_AS.read_text(encoding="utf-8-sig")
    extra = """
Equities
Symbol,Description,Qty,Trade Price,Mark,Mark Value
VXX,IPATH SERIES B S&P 500 VIX,+100,18.20,18.00,"$1,800.00"
NVDA,NVIDIA CORP COM,+5,160.00,166.00,$830.00
,OVERALL TOTALS,,,,"$2,630.00"

Options
Symbol,Option Code,Exp,Strike,Type,Qty,Trade Price,Mark,Mark Value
SPX,.SPXW220715P3500,15 JUL 22,3500,PUT,-1,25.50,20.10,"($2,010.00)"
VIX,VIX220720C35,20 JUL 22,35,CALL,+5,1.20,1.05,$525.00
SPX,SPXW220715P3400,15 JUL 22,3450,PUT,+1,20.00,15.00,"$1,500.00"
,OVERALL TOTALS,,,,,,,$15.00

Futures
Symbol,Description,SPC,Exp,Qty,Trade Price,Mark,P/L Day
/VXN22,"VIX Futures,Jul-2022",1/1000,JUL 22,-1,29.10,28.80,$300.00

"""
    at = text.index("Profits and Losses")
    path = tmp_path / "as.csv"
    path.write_text(text[:at] + extra.lstrip("\n") + text[at:], encoding="utf-8")
    imp = read_positions(path)
    got = sorted((leg.symbol.instrument, leg.symbol.expiry, leg.qty, leg.multiplier, leg.price,
                  leg.entry_price) for leg in imp.legs)
    assert got == [("ETP", None, 100.0, 1.0, 18.0, 18.2),
                   ("SPXW", D(2022, 7, 15), -1.0, 100.0, 20.1, 25.5),
                   ("VIX", D(2022, 7, 20), 5.0, 100.0, 1.05, 1.2),
                   ("VX", D(2022, 7, 20), -1.0, 1000.0, 28.8, 29.1)]
    assert [i.text for i in imp.ignored] == ["NVDA"]
    (bad,) = imp.unmapped
    assert bad.text == "SPXW220715P3400" and "disagree with the option code" in bad.reason


# ----------------------------------------------------------------------------- tastytrade

def test_tastytrade_sample_nets_to_no_position():
    imp = read_positions(TASTY)
    assert (imp.as_of, imp.legs, imp.ignored, imp.unmapped) == (D(2024, 9, 20), [], [], [])
    closed = next(n for n in imp.notes if "opened and closed" in n)
    for text in ("./MESU4MESU4 240920P4650 (lines 4, 5)", "./MESU4MESU4 240920P5050 (lines 2, 6)",
                 "./MESU4MESU4 240920P5100 (lines 3, 7)"):
        assert text in closed
    assert "1 × Money Movement" in imp.notes[-1]
    # the Description's trade price equals |Average Price| / 5 on every trade (22.0 = 110/5,
    # 54.0 = 270/5, 61.5 = 307.5/5, 1.1 = 5.5/5): no disagreement note
    assert not [n for n in imp.notes if "Average Price" in n]


def test_tastytrade_open_positions_before_the_closes(tmp_path):
    """The real file cut before its first close: the three opening trades stay open."""
    lines = TASTY.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "opens.csv"
    path.write_text("\n".join([lines[0], *lines[4:]]), encoding="utf-8")
    imp = read_positions(path)
    assert imp.legs == [] and imp.as_of == D(2024, 5, 23)
    got = {i.text: i.reason for i in imp.ignored}
    assert got == {
        "./MESU4MESU4 240920P4650": "-2 × option on the future MESU4: outside the ALVH universe",
        "./MESU4MESU4 240920P5050": "-1 × option on the future MESU4: outside the ALVH universe",
        "./MESU4MESU4 240920P5100": "+1 × option on the future MESU4: outside the ALVH universe"}


def test_tastytrade_average_cost_per_unit(tmp_path):
    head = TASTY.read_text(encoding="utf-8").splitlines()[0]
    rows = [
        "2026-10-02T16:00:00+0200,Trade,Buy to Close,BUY_TO_CLOSE,SPXW  261218P05000000,Equity"
        " Option,Bought 1 SPXW 12/18/26 Put 5000.00 @ 2.0,-200.00,1,-200.00,-1.00,-0.66,100,"
        "SPXW,SPX,12/18/26,5000.0,PUT,3,USD",
        "2026-10-01T16:00:00+0200,Trade,Sell to Open,SELL_TO_OPEN,SPXW  261218P05000000,Equity"
        " Option,Sold 1 SPXW 12/18/26 Put 5000.00 @ 4.5,450.00,1,450.00,-1.00,-0.66,100,"
        "SPXW,SPX,12/18/26,5000.0,PUT,2,USD",
        "2026-09-30T16:00:00+0200,Trade,Sell to Open,SELL_TO_OPEN,SPXW  261218P05000000,Equity"
        " Option,Sold 2 SPXW 12/18/26 Put 5000.00 @ 3.0,600.00,2,300.00,-2.00,-1.32,100,"
        "SPXW,SPX,12/18/26,5000.0,PUT,1,USD",
        "2026-09-30T15:00:00+0200,Trade,Buy to Open,BUY_TO_OPEN,/VXZ6,Future,Bought 1 /VXZ6 @ "
        "18.25,0.00,1,0.00,-1.25,-1.82,,,,,,,4,USD",
    ]
    path = tmp_path / "tt.csv"
    path.write_text("\n".join([head, *rows]), encoding="utf-8")
    imp = read_positions(path)
    legs = {leg.text: leg for leg in imp.legs}
    spxw = legs["SPXW 261218P05000000"]
    assert (spxw.qty, spxw.multiplier, spxw.price) == (-2.0, 100.0, None)
    assert spxw.entry_price == pytest.approx((2 * 3.0 + 1 * 4.5) / 3, rel=1e-12)
    vx = legs["/VXZ6"]
    assert (vx.qty, vx.entry_price, vx.symbol.expiry) == (1.0, 18.25, D(2026, 12, 16))


# ----------------------------------------------------------------------------- plain OCC CSV

def test_occ_csv(tmp_path):
    path = tmp_path / "book.csv"
    path.write_text("Symbol,Qty,Price,Cost,Note\n"
                    "SPXW  261218P05000000,-3,12.5,14,condor\n"
                    "VIX   261118C00020000,10,1.1,,\n"
                    "/VXZ6,2,18.4,17.9,\n"
                    "VXX,-100,45.5,50.25,\n"
                    "AAPL  261218C00200000,1,,,\n"
                    "VX,1,,,\n"
                    "SPXW  261318P05000000,1,,,\n"
                    "SPXW  261218C05000000,1.5x,,,\n")
    assert detect(path) == "occ"
    imp = read_positions(path, as_of=D(2026, 10, 5))
    got = [(leg.where, leg.symbol.instrument, leg.qty, leg.multiplier, leg.price,
            leg.entry_price) for leg in imp.legs]
    assert got == [("line 2", "SPXW", -3.0, 100.0, 12.5, 14.0),
                   ("line 3", "VIX", 10.0, 100.0, 1.1, None),
                   ("line 4", "VX", 2.0, 1000.0, 18.4, 17.9),
                   ("line 5", "ETP", -100.0, 1.0, 45.5, 50.25)]
    assert [(i.where, i.reason) for i in imp.ignored] == \
        [("line 6", "option on AAPL: outside the ALVH universe")]
    assert [(u.where, u.reason) for u in imp.unmapped] == [
        ("line 7", "the future VX needs its contract month, e.g. /VXZ4"),
        ("line 8", 'symbol "SPXW  261318P05000000": 2026-13-18 is not a date'),
        ("line 9", 'Qty: expected a number, got "1.5x"')]
    assert "columns not read: Note" in imp.notes


def test_legacy_tastyworks_history_is_refused_not_read_as_a_symbol_list(tmp_path):
    """The legacy tastyworks layout (header as in other projects' fixtures of real exports)
    was taken for a plain symbol list: 'SPX' with Strike 4000, Call/Put P became shares of SPX
    and the unsigned Quantity of a Sell a long position."""
    path = tmp_path / "tastyworks.csv"
    path.write_text(
        "Date/Time,Transaction Code,Transaction Subcode,Symbol,Buy/Sell,Open/Close,Quantity,"
        "Expiration Date,Strike,Call/Put,Price,Fees,Amount,Description,Account Reference\n"
        "05/20/2021 5:10 PM,Trade,Sell to Open,SPX,Sell,Open,1,06/18/2021,4000,P,10.95,1.14,"
        "1095.00,Sold 1 SPX 06/18/21 Put 4000.00 @ 10.95,Individual XXX39\n")
    with pytest.raises(InputError, match="legacy layout"):
        read_positions(path)
    with pytest.raises(InputError, match="Buy/Sell column"):
        read_positions(path, "occ")


def test_occ_csv_row_describing_an_option_needs_an_option_symbol(tmp_path):
    """Strike / Call-Put / Expiration columns are not read: a bare root with them filled is
    an option the reader cannot name, listed — not shares of SPX."""
    path = tmp_path / "plain.csv"
    path.write_text("Symbol,Qty,Strike,Call/Put,Expiration\nSPX,-1,4000,P,2021-06-18\n"
                    "SPXW  210618P04000000,2,4000,P,2021-06-18\nVXX,100,,,\n")
    imp = read_positions(path)
    assert [(leg.where, leg.symbol.instrument, leg.qty) for leg in imp.legs] == \
        [("line 3", "SPXW", 2.0), ("line 4", "ETP", 100.0)]
    (bad,) = imp.unmapped
    assert (bad.where, bad.text) == ("line 2", "SPX") and "not an option symbol" in bad.reason
    assert imp.ignored == []


def test_reimport_gives_the_same_rows():
    for path in (TOS_PS, IBKR_CSV, TASTY):
        first = positions_table(read_positions(path))
        again = positions_table(read_positions(path))
        assert first.rows == again.rows and [s.where for s in first.legs] == \
            [s.where for s in again.legs]


def test_unknown_file_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(InputError, match="not a broker export"):
        detect(path)


@pytest.mark.parametrize("reader", ["occ", "ibkr", "tastytrade"])
def test_a_row_with_more_cells_than_the_header_is_not_mapped(tmp_path, reader):
    """An unquoted thousands separator ('1,234.50') splits a number over two cells and shifts
    every column after it: the row must be named as not mapped, not read as Price 1."""
    if reader == "occ":
        path = tmp_path / "book.csv"
        path.write_text("Symbol,Qty,Price\n"
                        "SPX   260417C06700000,1,1,234.50\n"
                        "SPX   260417P06000000,1,116.5,\n")          # a trailing blank: fine
        imp = read_positions(path, as_of=D(2026, 1, 5))
        bad, good = "line 2", "line 3"
    elif reader == "ibkr":
        path = _ibkr_variant(tmp_path, [("HAL   251128P00021000", {
            "Symbol": "SPXW  251128P06000000", "UnderlyingSymbol": "SPX", "Strike": "6000"})])
        lines = path.read_text().splitlines()
        i = next(j for j, ln in enumerate(lines) if "SPXW  251128P06000000" in ln)
        lines[i] += ',"1,234.50"'.replace('"', "")                     # two extra cells
        path.write_text("\n".join(lines) + "\n")
        imp = read_positions(path)
        bad, good = f"line {i + 1}", None
    else:
        src = (DATA / "brokers" / "tastytrade_transactions_mes_futopt_2024.csv").read_text()
        lines = src.splitlines()
        lines[4] += ",1,234.50"          # the opening sale of the 4650 puts
        path = tmp_path / "tt.csv"
        path.write_text("\n".join(lines[:1] + lines[4:]) + "\n")
        imp = read_positions(path)
        bad, good = "line 2", None
    assert bad in [u.where for u in imp.unmapped], (imp.unmapped, [g.where for g in imp.legs])
    reason = next(u.reason for u in imp.unmapped if u.where == bad)
    assert "header" in reason and "234.50" in reason, reason
    assert bad not in [leg.where for leg in imp.legs]
    if good:
        assert [leg.where for leg in imp.legs] == [good]


def test_tastytrade_contract_with_an_unreadable_row_is_not_netted(tmp_path):
    """The real history with the expiration of the 5100 put unreadable (Quantity 'one'): the
    opening purchase alone would net to a position the trader no longer holds, so the whole
    contract is named as not mapped (both lines) and no leg is made of it; the other
    contracts are unchanged."""
    lines = TASTY.read_text(encoding="utf-8").splitlines()
    close, opening = (i for i, ln in enumerate(lines) if "P5100" in ln)   # newest first
    cells = lines[close].split(",")
    assert cells[8] == "1", cells                # Quantity
    cells[8] = "one"
    lines[close] = ",".join(cells)
    path = tmp_path / "tt.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    imp = read_positions(path)
    text = "./MESU4MESU4 240920P5100"
    mine = [u for u in imp.unmapped if u.text == text]
    assert [u.where for u in mine] == [f"line {close + 1}", f"line {opening + 1}"], mine
    assert "one" in mine[0].reason and "not netted" in mine[1].reason, mine
    assert text not in [i.text for i in imp.ignored] + [leg.text for leg in imp.legs]
    closed = next(n for n in imp.notes if "opened and closed" in n)
    assert "P4650" in closed and "P5050" in closed and "P5100" not in closed, closed


@pytest.mark.parametrize("value", ["0", "-100"])
def test_a_zero_or_negative_multiplier_is_an_error_not_the_default(tmp_path, value):
    path = tmp_path / "book.csv"
    path.write_text("Symbol,Qty,Price,Multiplier\n"
                    f"SPX   260417C06700000,1,116.5,{value}\n"
                    "SPX   260417P06000000,1,116.5,\n")             # blank: the contract's 100
    imp = read_positions(path, as_of=D(2026, 1, 5))
    assert [(u.where, u.reason) for u in imp.unmapped] == [
        ("line 2", f'Multiplier "{value}": expected a positive number')], imp.unmapped
    assert [(leg.where, leg.multiplier) for leg in imp.legs] == [("line 3", 100.0)]
