"""VIX futures curve from CFE files: values equal the files' own settles (read here with the
csv module), expired / unsettled / untrusted contracts left out and listed, the CLI."""

import csv
import datetime as dt
import shutil
import subprocess
import sys

import pytest
from conftest import DATA, ROOT

from alvh_xl.book.cfe import read_cfe_curve, read_final_settlements
from alvh_xl.errors import InputError

CFE = DATA / "cfe"
DAILY = CFE / "cfe_vx_daily_settlement_2026-10-05.csv"
HISTORY = sorted(CFE.glob("VX_*.csv"))
ARCHIVE = CFE / "CFE_FinalSettlement_Archive.csv"


def _rows(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _settles(path):
    """Trade date -> Settle text of a per-contract history file."""
    return {dt.date.fromisoformat(r["Trade Date"]): r["Settle"] for r in _rows(path)}


def test_daily_settlement_monthlies_equal_the_file_and_weeklies_are_not_trusted():
    curve = read_cfe_curve([DAILY], dt.date(2026, 10, 5))
    raw = _rows(DAILY)
    monthly = {dt.date.fromisoformat(r["Expiration Date"]): float(r["Price"]) for r in raw
               if r["Symbol"].startswith("VX/")}
    got = dict(zip(curve.points["expiry"], curve.points["price"], strict=True))
    assert got == monthly, f"expected the file's monthly prices {monthly}, got {got}"
    assert len(got) == 9 and got[dt.date(2027, 5, 18)] == 20.525       # VX/K7, holiday shift
    weeklies = {r["Symbol"] for r in raw if not r["Symbol"].startswith("VX/")}
    left = {item.contract: item.reason for item in curve.left_out}
    assert set(left) == weeklies == {"VX40/V6", "VX41/V6", "VX43/V6", "VX44/X6", "VX45/X6"}
    assert all("17.4555" in r and "front month" in r and "--trust-weeklies" in r
               for r in left.values())


def test_trusting_weeklies_keeps_them_with_a_note():
    curve = read_cfe_curve([DAILY], dt.date(2026, 10, 5), trust_weeklies=True)
    assert len(curve.points) == 14 and not curve.left_out
    assert sum("kept as asked" in n for n in curve.notes) == 5


def test_daily_settlement_of_another_date_is_refused_and_expired_rows_listed(tmp_path):
    with pytest.raises(InputError, match="settlement of 2026-10-05"):
        read_cfe_curve([DAILY], dt.date(2026, 10, 6))
    unnamed = tmp_path / "settlement.csv"
    shutil.copy(DAILY, unnamed)
    curve = read_cfe_curve([unnamed], dt.date(2026, 10, 14))
    assert any("does not say its trade date" in n for n in curve.notes)
    reasons = {i.contract: i.reason for i in curve.left_out}
    assert reasons["VX40/V6"] == "expired on 2026-10-07"
    assert reasons["VX41/V6"].startswith("expired that morning")


@pytest.mark.parametrize("date", [dt.date(2016, 12, 1), dt.date(2017, 6, 1),
                                  dt.date(2018, 1, 4), dt.date(2018, 8, 15),
                                  dt.date(2019, 3, 1), dt.date(2019, 12, 18)])
def test_history_curve_equals_each_files_settle_on_that_date(date):
    curve = read_cfe_curve(HISTORY, date)
    got = dict(zip(curve.points["expiry"], curve.points["price"], strict=True))
    left = {i.expiry: i.reason for i in curve.left_out}
    for path in HISTORY:
        expiry = dt.date.fromisoformat(path.stem[3:])
        settle = _settles(path).get(date)
        if expiry > date and settle is not None and float(settle) > 0:
            assert got.get(expiry) == float(settle), \
                f"{path.name} on {date}: expected Settle {settle}, got {got.get(expiry)}"
        else:
            assert expiry not in got and expiry in left, f"{path.name} on {date} not listed"
    assert len(got) + len(left) == len(HISTORY)
    assert list(curve.points["expiry"]) == sorted(got)


def test_history_special_rows():
    weekly = CFE / "VX_2018-02-21.csv"
    # Open and Close 0 on a day without trades: the Settle is used
    assert _rows(weekly)[1]["Open"] == "0.0000" and _rows(weekly)[1]["Close"] == "0.0000"
    on_jan4 = read_cfe_curve([weekly], dt.date(2018, 1, 4))
    assert list(on_jan4.points["price"]) == [12.05]
    # Settle 0 on the first day: no settlement
    on_jan3 = read_cfe_curve([weekly], dt.date(2018, 1, 3))
    assert on_jan3.points.empty and "Settle is 0" in on_jan3.left_out[0].reason
    # expiry day: the final settlement (SOQ), already settled at 09:30
    final = read_cfe_curve([CFE / "VX_2017-01-18.csv"], dt.date(2017, 1, 18))
    assert final.points.empty and "final settlement 12.52" in final.left_out[0].reason


def test_expiry_from_the_last_trade_date_when_the_name_does_not_say(tmp_path):
    renamed = tmp_path / "jan2017.csv"
    shutil.copy(CFE / "VX_2017-01-18.csv", renamed)
    curve = read_cfe_curve([renamed], dt.date(2017, 1, 13))
    assert list(curve.points["expiry"]) == [dt.date(2017, 1, 18)]
    assert list(curve.points["price"]) == [float(_settles(renamed)[dt.date(2017, 1, 13)])]
    assert any("last trade date 2017-01-18" in n for n in curve.notes)


_DISCLAIMER = ("CFE data is compiled for the convenience of site visitors and is furnished "
               "without responsibility for accuracy and is accepted by the site visitor on the "
               "condition that transmission or omissions shall not be made the basis for any "
               "claim, demand or cause for action.")


def test_archive_history_file_with_its_disclaimer_line_us_dates_and_trailing_commas(tmp_path):
    """Cboe's older per-contract archive files (CFE_F13_VX.csv: layout shown in several
    projects' fixtures) start with a disclaimer line above the header, print US dates and
    short labels ('F (Jan 13)') and may end rows with a comma. Values equal the rows'."""
    path = tmp_path / "CFE_F13_VX.csv"
    path.write_text(_DISCLAIMER + "\n"
                    "Trade Date,Futures,Open,High,Low,Close,Settle,Change,Total Volume,EFP,"
                    "Open Interest\n"
                    "01/02/2013,F (Jan 13),16.80,16.80,15.50,15.60,15.60,-2.10,97535,3632,120663\n"
                    "01/03/2013,F (Jan 13),15.75,16.00,15.30,15.90,15.90,0.30,59683,3630,118689,\n"
                    "01/16/2013,F (Jan 13),0.00,14.25,14.40,0.00,13.69,-0.51,0,0,50051\n")
    for day, want in ((dt.date(2013, 1, 2), 15.60), (dt.date(2013, 1, 3), 15.90)):
        curve = read_cfe_curve([path], day)
        got = list(zip(curve.points["expiry"], curve.points["price"], strict=True))
        assert got == [(dt.date(2013, 1, 16), want)], (day, got)
    (left,) = read_cfe_curve([path], dt.date(2013, 1, 16)).left_out
    assert "final settlement 13.69" in left.reason


def test_history_before_the_2007_rescale_is_in_vix_points(tmp_path):
    """VX prices of trade dates before 2007-03-26 are ten times the VIX (Cboe rescaled the
    contract that day; the final-settlement archive holds the same ×10 values up to March
    2007): 138.70 on Friday 3/23 and 13.79 on Monday 3/26 are one market, 13.87 and 13.79."""
    path = tmp_path / "CFE_K07_VX.csv"
    path.write_text(_DISCLAIMER + "\n"
                    "Trade Date,Futures,Open,High,Low,Close,Settle,Change,Total Volume,EFP,"
                    "Open Interest\n"
                    "3/23/2007,K (May 07),136.9,139,136.5,138,138.7,1.5,561,0,19879,\n"
                    "03/26/2007,K (May 07),13.80,14.30,13.70,13.80,13.79,-0.80,490,0,20141\n"
                    "05/16/2007,K (May 07),12.00,12.10,11.90,12.00,12.05,0,10,0,100\n")
    before = read_cfe_curve([path], dt.date(2007, 3, 23))
    assert list(before.points["price"]) == [pytest.approx(13.87, abs=1e-12)]
    assert any("ten times the VIX" in n for n in before.notes), before.notes
    after = read_cfe_curve([path], dt.date(2007, 3, 26))
    assert list(after.points["price"]) == [13.79]
    assert not any("ten times" in n for n in after.notes)


def test_the_same_expiry_twice(tmp_path):
    copy = tmp_path / "VX_2017-02-15.csv"
    shutil.copy(CFE / "VX_2017-02-15.csv", copy)
    same = read_cfe_curve([CFE / "VX_2017-02-15.csv", copy], dt.date(2017, 1, 13))
    assert len(same.points) == 1 and any("kept once" in n for n in same.notes)
    text = copy.read_text()
    row = "2017-01-13,G (Feb 2017),14.3000,14.4500,14.0500,14.2000,14.2250,"
    assert row in text
    copy.write_text(text.replace(row, row.replace("14.2250", "14.9000")))
    with pytest.raises(InputError, match="two different prices"):
        read_cfe_curve([CFE / "VX_2017-02-15.csv", copy], dt.date(2017, 1, 13))


def test_final_settlement_archive_rescale():
    frame = read_final_settlements(ARCHIVE)
    assert len(frame) == len(_rows(ARCHIVE)) == 696
    vx = frame[frame["symbol"] == "VX"].set_index(["year", "month"])
    assert vx.loc[(2004, 5), "price"] == 183.55
    assert vx.loc[(2004, 5), "vix_points"] == pytest.approx(18.355, abs=1e-12)
    assert vx.loc[(2007, 3), "vix_points"] == pytest.approx(12.983, abs=1e-12)
    assert vx.loc[(2007, 4), "vix_points"] == 12.03
    other = frame[frame["symbol"] != "VX"]
    assert (other["vix_points"] == other["price"]).all()
    with pytest.raises(InputError, match="final-settlement archive"):
        read_cfe_curve([ARCHIVE], dt.date(2007, 1, 3))


def test_unknown_file_and_bad_symbols(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="not a CFE file"):
        read_cfe_curve([other], dt.date(2026, 10, 5))
    bad = tmp_path / "bad_2026-10-05.csv"
    bad.write_text(DAILY.read_text().replace("VX,VX/Z6,2026-12-16", "VX,VX/Z7,2026-12-16"))
    with pytest.raises(InputError, match="VX/Z7 .* does not match its expiration date"):
        read_cfe_curve([bad], dt.date(2026, 10, 5))


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "alvh_xl.cli", "curve", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_cli_curve_prints_csv_and_lists_what_it_left_out(tmp_path):
    done = _cli("--date", "2026-10-05", DAILY)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Expiry,Price" and lines[1] == "2026-10-21,17.4555" and len(lines) == 10
    assert done.stderr.count("left out: VX4") == 5
    expired = _cli("--date", "2030-01-02", CFE / "VX_2017-01-18.csv")
    assert expired.returncode == 1 and "no VX future settled" in expired.stderr
    for args in (("--date", "2026-10-05", tmp_path / "none.csv"),
                 ("--date", "2026-10-05", DAILY, "--into", tmp_path / "none.xlsx", "--out",
                  tmp_path / "out.xlsx"),
                 ("--date", "2026-10-05", DAILY, "--into", DAILY)):
        bad = _cli(*args)
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1, (args, bad.stderr)


def _book_valued_on(tmp_path, day: dt.datetime):
    import openpyxl

    from alvh_xl.xl import layout as L

    path = tmp_path / f"book_{day:%Y%m%d}.xlsx"
    shutil.copy(ROOT / "workbooks" / "alvh_template.xlsx", path)
    wb = openpyxl.load_workbook(path)
    ws = wb[L.MARKET]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "ValuationDate")
    ws.cell(row, 2).value = day
    wb.save(path)
    return path


def test_cli_curve_into_a_copy_fills_the_curve_of_the_valuation_date(tmp_path):
    """`curve --into` writes the file's settles (read here with the csv module) into the
    copy's CurveTable; a curve of another day than the workbook's ValuationDate is refused,
    as `mark` and Refresh refuse one (nothing written, both dates named)."""
    import openpyxl

    from alvh_xl.xl import layout as L

    book = _book_valued_on(tmp_path, dt.datetime(2026, 10, 5))
    out = tmp_path / "curve.xlsx"
    done = _cli("--date", "2026-10-05", DAILY, "--into", book, "--out", out)
    assert done.returncode == 0, done.stderr
    with DAILY.open(newline="") as fh:
        settles = {dt.date.fromisoformat(r["Expiration Date"]): float(r["Price"])
                   for r in csv.DictReader(fh) if "/" in r["Symbol"]
                   and r["Symbol"].startswith("VX/")}
    ws = openpyxl.load_workbook(out, data_only=True)[L.MARKET]
    got = {}
    for r in range(2, ws.max_row + 1):
        e, p = ws.cell(r, 5).value, ws.cell(r, 6).value
        if isinstance(e, dt.datetime):
            got[e.date()] = p
    assert got == settles, (got, settles)
    stale = _book_valued_on(tmp_path, dt.datetime(2026, 11, 24))
    refused = _cli("--date", "2026-10-05", DAILY, "--into", stale, "--out", tmp_path / "s.xlsx")
    assert refused.returncode == 1 and not (tmp_path / "s.xlsx").exists(), refused.stderr
    assert "2026-10-05" in refused.stderr and "2026-11-24" in refused.stderr, refused.stderr


# The rows of Cboe's daily settlement page for March 5, 2026 (www.cboe.com/us/futures/
# market_statistics/settlement, as stored by the public page archive), written in the layout of
# that page's CSV download 'Product,Symbol,Expiration Date,Price'. The page prints other
# products' prices with thousands separators and a '*' marker ('7,147.2500*'); the weeklies
# VX10/H6…VX14/J6 repeat VX/H6's price and VX16/J6 VX/J6's. A '*' on a VX price is seen in a
# project's fixture of the download ('VX,VX/G7,2027-02-17,21.9532*').
_PAGE_2026_03_05 = """Product,Symbol,Expiration Date,Price
VX,VX10/H6,2026-03-11,22.9737
VX,VX/H6,2026-03-18,22.9737
VX,VX12/H6,2026-03-25,22.9737
VX,VX13/J6,2026-04-01,22.9737
VX,VX14/J6,2026-04-08,22.9737
VX,VX/J6,2026-04-15,22.4869
VX,VX16/J6,2026-04-22,22.4869
VX,VX/K6,2026-05-19,22.1523
VX,VX/M6,2026-06-17,22.1696
VX,VX/N6,2026-07-22,22.6426
VX,VX/Q6,2026-08-19,22.7000
VX,VX/U6,2026-09-16,22.9992
VX,VX/V6,2026-10-21,23.1000
VX,VX/X6,2026-11-18,23.0250*
VXM,VXM/H6,2026-03-18,22.9737
VA,VA/H6,2026-03-20,179.0000
IBHY,IBHY/M6,2026-06-01,181.2750
XBTF,XBTF/H6,2026-03-31,"7,147.2500"
XBTF,XBTF/J6,2026-04-30,"7,147.2500*"
"""


def test_settlement_csv_with_other_products_and_starred_prices(tmp_path):
    path = tmp_path / "FuturesSettlements_2026-03-05.csv"
    path.write_text(_PAGE_2026_03_05)
    curve = read_cfe_curve([path], dt.date(2026, 3, 5))
    got = {e.isoformat(): p for e, p in zip(curve.points["expiry"], curve.points["price"],
                                             strict=True)}
    want = {"2026-03-18": 22.9737, "2026-04-15": 22.4869, "2026-05-19": 22.1523,
            "2026-06-17": 22.1696, "2026-07-22": 22.6426, "2026-08-19": 22.7,
            "2026-09-16": 22.9992, "2026-10-21": 23.1, "2026-11-18": 23.025}
    assert got == want, f"expected the VX monthlies {want}, got {got}"
    left = {i.contract: i.reason for i in curve.left_out}
    assert {c for c, r in left.items() if "not the VX future" in r} == \
        {"VXM/H6", "VA/H6", "IBHY/M6", "XBTF/H6", "XBTF/J6"}
    assert {c for c, r in left.items() if "front month" in r} == \
        {"VX10/H6", "VX12/H6", "VX13/J6", "VX14/J6", "VX16/J6"}
    assert any("VX/X6" in n and "23.0250*" in n for n in curve.notes), curve.notes
