"""LibreOffice opens the template and prints it (PDF) without error.

LibreOffice recalculates array formulas on load whatever its "never recalculate" setting, so
without alvh_xl the live ALVH_* blocks print as #NAME? there; inputs, native formulas and
text keep their stored values. The static snapshot (`alvh-xl template --static`) prints
every number. Skipped where `soffice` is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from alvh_xl.tools.template import build_template
from alvh_xl.xl import layout as L

ROOT = Path(__file__).parent.parent
TEMPLATE = ROOT / "workbooks" / "alvh_template.xlsx"
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed")]


def to_pdf(xlsx: Path, out: Path) -> Path:
    profile = out / "lo-profile"
    proc = subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                           "--convert-to", "pdf", "--outdir", str(out), str(xlsx)],
                          capture_output=True, text=True, timeout=300)
    pdf = out / (xlsx.stem + ".pdf")
    assert proc.returncode == 0 and pdf.exists(), proc.stdout + proc.stderr
    return pdf


def pdf_text(pdf: Path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) not installed")
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def sample_figures() -> tuple[str, str, str]:
    """Raw and weighted net vega and the PORTFOLIO tolerance of the layout's sample book as
    printed (one decimal, unsigned), from the engine on the layout's own inputs."""
    from alvh_xl.book import parse_curve, parse_market, parse_positions, parse_thresholds
    from alvh_xl.risk.aggregation import portfolio_row
    from alvh_xl.risk.valuation import value_book

    def table(name):
        t = L.INPUT_BY_NAME[name]
        return [list(t.headers), *[list(r) for r in t.sample]]

    val = value_book(parse_positions(table("ALVH_POSITIONS")), parse_market(table(
        "ALVH_MARKET")), parse_curve(table("ALVH_CURVE")))
    port = portfolio_row(val, parse_thresholds(table("ALVH_THRESHOLDS")))
    return tuple(f"{abs(port[k]):.1f}" for k in ("raw", "weighted", "tolerance"))


def pages(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


@pytest.fixture(scope="module")
def live_pdf(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lo")
    return to_pdf(shutil.copy(TEMPLATE, out / "alvh_template.xlsx"), out)


@pytest.fixture(scope="module")
def static_pdf(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lo_static")
    return to_pdf(build_template(out / "alvh_static.xlsx", live=False), out)


def test_template_prints_every_sheet(live_pdf):
    n = pages(live_pdf)
    assert len(L.SHEETS) <= n <= 20, n
    text = pdf_text(live_pdf)
    for sheet in L.SHEETS[:-1]:
        title = L.SHEET_TITLES[sheet][0]
        assert title in text, title
    # Inputs and native cross-checks keep their stored values in LibreOffice.
    assert "IC-Jan" in text and "2027-01-08" in text and "6,712.40" in text
    assert "BREACH" in text and sample_figures()[2] in text
    assert "alvh_xl.udfs" in text


def test_static_snapshot_prints_the_numbers(static_pdf):
    text = pdf_text(static_pdf).split("ALVH Dashboard", 1)[1]     # after the Start page
    assert "#NAME?" not in text
    dash = text.split("\f", 1)[0]
    raw, weighted, _ = sample_figures()
    for piece in (raw, weighted, "OK", "WATCH", "BREACH", "VIX L1", "PORTFOLIO", "8-30d",
                  "FullPnL", "VXX"):
        assert piece in dash, piece


def test_pages_render_to_images(static_pdf, tmp_path):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) not installed")
    subprocess.run(["pdftoppm", "-r", "50", "-f", "2", "-l", "2", "-png", str(static_pdf),
                    str(tmp_path / "page")], check=True, timeout=120)
    png = sorted(tmp_path.glob("page*.png"))
    assert png and png[0].stat().st_size > 20_000      # a real page, not a blank sheet


def test_report_workbook_prints_its_numbers(tmp_path):
    """The issue's check: LibreOffice converts the report workbook (`alvh-xl report`) to PDF
    without error, and the pages show the computed values (the report holds values only)."""
    import sys

    proc = subprocess.run([sys.executable, "-m", "alvh_xl.cli", "report", str(TEMPLATE),
                           "--out", str(tmp_path), "--no-charts"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    pdf = to_pdf(tmp_path / "alvh_template_report.xlsx", tmp_path)
    text = pdf_text(pdf)
    sheets = text.split("\f")[1:]          # page 1 is the Start sheet, which explains #NAME?
    assert not any("#NAME?" in page for page in sheets)
    for word in ("PORTFOLIO", "BREACH", "WATCH", "FullPnL", "IC-Jan"):
        assert word in text, word
