"""`make handout`: every notebook printed by Chromium, once for the class (no solutions) and once for the instructor.

Prints three notebooks to stay fast (`make handout` prints all 14 in about a minute). Reads the PDFs back without a PDF library (tools.handout.pdf_pages): a sensible number of pages, no page that
draws nothing but the footer, and no solution in the class copy. Skipped like the browser tests without Chromium.
"""

from __future__ import annotations

import html.parser
import re
from pathlib import Path

import nbformat
import pytest

from tools import handout
from tools.nbtools import notebook_paths

MAX_PAGES = 40  # per notebook, with solutions: the longest (14) prints 18 A4 pages today
# The shortest notebook, one with figures and the longest: all 14 take about 60 s to print, these three about 12.
NOTEBOOKS = [path for path in notebook_paths() if path.name[:2] in ("01", "09", "14")]

pytestmark = pytest.mark.skipif(
    not Path(handout.CHROMIUM).exists(),
    reason=f"handout tests skipped: no Chromium at {handout.CHROMIUM} (apt-get install chromium)",
)


@pytest.fixture(scope="module")
def handouts(tmp_path_factory) -> Path:
    pytest.importorskip("playwright.sync_api")
    out = tmp_path_factory.mktemp("handout")
    pdfs = handout.build_handout(NOTEBOOKS, out)
    assert sorted(p.relative_to(out).as_posix() for p in pdfs) == sorted(
        f"{version}/{path.stem}.pdf" for path in NOTEBOOKS for version in handout.VERSIONS
    )
    return out


TEXT_RUN = re.compile(rb"\bBT\b(.*?)\bET\b", re.S)  # Chromium writes each run of text as BT ... Tm ... Tj ... ET
ROW = re.compile(rb"(?:[-\d.]+ ){5}([-\d.]+) Tm")  # the run's text matrix; its last number is the height


def rows(content: bytes) -> list[bytes | None]:
    """The height of each text run a page's content stream writes."""
    return [m.group(1) if (m := ROW.search(run)) else None for run in TEXT_RUN.findall(content)]


def drawn(content: bytes, footer: set[bytes]) -> int:
    """How many text runs outside the footer and images a page's content stream draws."""
    return sum(row not in footer for row in rows(content)) + len(re.findall(rb" Do\b", content))


@pytest.fixture(scope="module")
def footer_rows(tmp_path_factory) -> set[bytes]:
    """The heights at which the footer is written: all that a page with nothing on it draws."""
    folder = tmp_path_factory.mktemp("blank")
    (page := folder / "blank.class.html").write_text("<!DOCTYPE html><html><body></body></html>")
    (pdf,) = handout.print_pdfs({("blank", "class"): page}, {"blank": "00 · An empty page"}, folder)
    (content,) = handout.pdf_pages(pdf)
    footer = set(rows(content))
    assert len(rows(content)) >= 2 and None not in footer  # the title and the page number
    return footer


class Text(html.parser.HTMLParser):
    """The text of an HTML page, entities decoded, tags dropped."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def page_text(page: Path) -> str:
    parser = Text()
    parser.feed(page.read_text())
    return "".join(parser.parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_each_handout_has_a_sensible_number_of_pages_and_none_blank(handouts, footer_rows, path):
    counts = {}
    for version in handout.VERSIONS:
        pages = handout.pdf_pages(handouts / version / f"{path.stem}.pdf")
        counts[version] = len(pages)
        assert 1 <= len(pages) < MAX_PAGES, (version, len(pages))
        blank = [n for n, content in enumerate(pages, 1) if drawn(content, footer_rows) == 0]
        assert blank == [], f"{version}: pages {blank} show nothing but the footer"
    assert counts["class"] <= counts["instructor"], counts


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_the_class_copy_has_no_solution_and_the_instructors_has_them_all(handouts, path):
    solutions = [
        cell.source.strip().splitlines()[0]
        for cell in nbformat.read(path, as_version=4).cells
        if handout.is_solution(cell) and cell.source.strip()
    ]
    assert solutions, "every notebook has exercises with solutions"
    printed = {version: page_text(handouts / "html" / f"{path.stem}.{version}.html") for version in handout.VERSIONS}
    assert [s for s in solutions if s in printed["instructor"]] == solutions
    assert [s for s in solutions if s in printed["class"]] == []
    assert handout.title(nbformat.read(path, as_version=4)).startswith(path.stem[:2] + " · ")


def test_solutions_cost_the_class_copies_pages(handouts):
    total = {v: sum(len(handout.pdf_pages(p)) for p in (handouts / v).glob("*.pdf")) for v in handout.VERSIONS}
    assert total["class"] < total["instructor"], total
