"""Print handouts: one PDF per notebook for the class (without solutions) and one for the instructor (with them).

    python -m tools.handout                     # every notebook
    python -m tools.handout notebooks/01_*.ipynb  # only these

writes build/handout/class/NN_topic.pdf and build/handout/instructor/NN_topic.pdf. Each is the notebook as the site
shows it (hidden checks dropped, stored outputs and figures kept, maths rendered by the vendored MathJax), printed by
headless Chromium's own print to PDF: A4, long code lines wrapped instead of cut off, the notebook's title and the
page number in the footer. The class copy leaves out every cell tagged ``solution`` (its code and its output); the
instructor's shows them unfolded. The HTML that is printed stays in build/handout/html/.

Chromium is the system one (``CHROMIUM``, default /usr/bin/chromium), driven by Playwright; no browser is
downloaded and the pages load nothing from the network (the assets are vendored once, like the site's).
"""

from __future__ import annotations

import functools
import html
import http.server
import os
import re
import sys
import threading
import zlib
from pathlib import Path

import nbformat

from tools.nbtools import ROOT, notebook_paths
from tools.publish import BUILD, OFFLINE, BuildError, is_solution, vendor_assets, without_checks

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VERSIONS = ("class", "instructor")
# Print styles added to the site page: the whole width for the cells (no prompts, no navigation), code and outputs
# wrapped at the right margin, figures no wider than the page, headings kept with what follows them.
PRINT_CSS = """
:root { --jp-code-font-size: 11px; --jp-content-font-size1: 13px; --jp-code-line-height: 1.35; }
body { margin: 0 !important; padding: 0 !important; }
nav { display: none !important; }
main, .jp-Notebook { padding: 0 !important; margin: 0 !important; }
.jp-InputPrompt, .jp-OutputPrompt { display: none !important; }
pre, code, .jp-RenderedText pre, .highlight pre {
  white-space: pre-wrap !important; overflow-wrap: anywhere !important; overflow: visible !important;
}
.jp-OutputArea-output, .jp-RenderedHTMLCommon { overflow: visible !important; }
img, svg { max-width: 100% !important; height: auto !important; break-inside: avoid; }
.jp-CodeCell .jp-Cell-inputWrapper, .jp-Cell-outputWrapper img, tr { break-inside: avoid; }
h1, h2, h3, h4 { break-after: avoid; }
details.solution > summary { font-weight: bold; list-style: none; }
"""
FOOTER = (
    '<div style="font-size: 8px; width: 100%; margin: 0 12mm; display: flex; justify-content: space-between;'
    ' color: #555; font-family: sans-serif;"><span>{title}</span>'
    '<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>'
)
PDF_OPTIONS = {
    "format": "A4",
    "margin": {"top": "14mm", "bottom": "16mm", "left": "14mm", "right": "14mm"},
    "print_background": True,
    "display_header_footer": True,
    "header_template": "<span></span>",
}


def title(nb: nbformat.NotebookNode) -> str:
    """The notebook's first ``# heading`` (its title), or '' if it has none."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and (m := re.search(r"^# (.+)$", cell.source, re.M)):
            return m.group(1).strip()
    return ""


def class_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return ``nb`` without its solution cells: what the class gets on paper."""
    nb = nbformat.from_dict(nb)
    nb.cells = [cell for cell in nb.cells if not is_solution(cell)]
    return nb


def write_pages(paths: list[Path], folder: Path) -> dict[tuple[str, str], Path]:
    """Write each notebook's class and instructor page into ``folder`` (with its assets); {(stem, version): page}."""
    from nbconvert import HTMLExporter

    vendor_assets(folder / "assets")
    exporter = HTMLExporter(template_name="course_lab", **OFFLINE)
    pages = {}
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        for version, copy in (("class", class_copy(nb)), ("instructor", nb)):
            page = folder / f"{path.stem}.{version}.html"
            resources = {"metadata": {"name": path.stem, "path": str(path.parent)}}
            page.write_text(exporter.from_notebook_node(without_checks(copy), resources=resources)[0])
            pages[path.stem, version] = page
    return pages


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(folder: Path) -> http.server.ThreadingHTTPServer:
    """Serve ``folder`` on a free localhost port (MathJax's fonts do not load from file:// pages)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def print_pdfs(pages: dict[tuple[str, str], Path], titles: dict[str, str], out: Path) -> list[Path]:
    """Print every page with Chromium into ``out/<version>/<stem>.pdf``; return the PDFs."""
    if not Path(CHROMIUM).exists():
        raise BuildError(
            f"The handout is printed by Chromium, and there is none at {CHROMIUM}: install it (for example "
            f"`apt install chromium`) or set CHROMIUM to its path. Nothing is downloaded."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BuildError("Playwright is missing from the course environment: run `make install`.") from None
    folder = next(iter(pages.values())).parent
    httpd = serve(folder)
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    left: list[str] = []
    written = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page()
            page.set_default_timeout(60_000)

            def local_only(route) -> None:
                """Nothing leaves the machine: a request to anywhere but the local server is refused and reported."""
                if route.request.url.startswith(base):
                    route.continue_()
                else:
                    left.append(route.request.url)
                    route.abort()

            page.route(re.compile(r"^(https?|wss?)://"), local_only)
            for (stem, version), html_page in pages.items():
                page.goto(base + html_page.name, wait_until="load")
                # MathJax typesets after the load event: wait for it, then for its queue to empty
                page.wait_for_function("() => !window.MathJax || MathJax.isReady")
                page.evaluate("() => new Promise(done => window.MathJax ? MathJax.Hub.Queue(done) : done())")
                page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
                page.add_style_tag(content=PRINT_CSS)
                label = titles[stem] + (" · with solutions" if version == "instructor" else "")
                page.evaluate("label => { document.title = label; }", label)  # the PDF's title
                (out / version).mkdir(parents=True, exist_ok=True)
                page.pdf(
                    path=(pdf := out / version / f"{stem}.pdf"),
                    footer_template=FOOTER.format(title=html.escape(label)),
                    **PDF_OPTIONS,
                )
                written.append(pdf)
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    if left:
        raise BuildError("A handout page tried to load from the network: " + ", ".join(sorted(set(left))))
    return written


def build_handout(paths: list[Path] | None = None, out: Path = BUILD / "handout") -> list[Path]:
    """Write the class and instructor PDFs of ``paths`` (default: every notebook) into ``out``."""
    paths = paths or notebook_paths()
    titles = {path.stem: title(nbformat.read(path, as_version=4)) or path.stem for path in paths}
    pages = write_pages(paths, out / "html")
    return print_pdfs(pages, titles, out)


def pdf_pages(path: Path) -> list[bytes]:
    """The decompressed content stream of each page of a PDF written by Chromium, in file order.

    Just enough of PDF for Chromium's output (one classic xref table, Flate streams with a direct /Length), so that
    the handout's page count is printed and a test can look at what each page draws without a PDF library.
    """
    data = path.read_bytes()
    start = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data).group(1))
    first, count = map(int, re.match(rb"xref\s+(\d+) (\d+)\s+", data[start:]).groups())
    table = data[start:].split(b"\n", 2)[2]
    offsets = {
        first + i: int(table[20 * i : 20 * i + 10]) for i in range(count) if table[20 * i + 17 : 20 * i + 18] == b"n"
    }

    def obj(number: int) -> tuple[bytes, bytes]:
        """The dictionary of object ``number`` and its stream (decompressed; b'' if it has none)."""
        at = offsets[number]
        head = re.match(rb"\d+ 0 obj\s*(.*?)(stream\r?\n|endobj)", data[at:], re.S)
        if head.group(2) == b"endobj":
            return head.group(1), b""
        length = int(re.search(rb"/Length (\d+)", head.group(1)).group(1))
        raw = data[at + head.end() : at + head.end() + length]
        return head.group(1), zlib.decompress(raw) if b"/FlateDecode" in head.group(1) else raw

    contents = []
    for number in sorted(offsets, key=offsets.get):
        head, _ = obj(number)
        if re.search(rb"/Type\s*/Page\b", head):
            refs = re.search(rb"/Contents\s*(\[[^\]]*\]|\d+ 0 R)", head)
            contents.append(b"".join(obj(int(r))[1] for r in re.findall(rb"(\d+) 0 R", refs.group(1) if refs else b"")))
    return contents


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or None
    if any(not (p.is_file() and p.suffix == ".ipynb") for p in paths or []):
        print(__doc__, file=sys.stderr)
        return 2
    for pdf in build_handout(paths):
        print(f"{pdf.relative_to(ROOT)}  ({len(pdf_pages(pdf))} pages)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
