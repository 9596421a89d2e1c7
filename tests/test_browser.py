"""Real-browser checks with headless Chromium (Debian's package, driven by Playwright; no browser download).

They prove what learners and instructors see: JupyterLab from `make lab` printing one URL and rendering a notebook,
opening a notebook with autosave on leaving it byte for byte unchanged (and no "Jupyter news" prompt), a slide deck
that advances and loads nothing from the network, the static site with its images, and the Chinese site and deck
showing Chinese text in a font that has its glyphs (`.ci/run` installs one). Screenshots go to
build/screenshots/. Skipped, with the reason shown, when no Chromium is installed (`.ci/run` installs it).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from tools import publish
from tools.nbtools import ROOT, notebook_paths

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
SHOTS = ROOT / "build" / "screenshots"
# A throw-away settings dir: no autosave (the test must never write to a notebook), no news fetching.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": '{"autosave": false}',
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": '{"fetchNews": "false", "checkForUpdates": false}',
    # render every cell, not only those in view, so that the figures further down exist in the page
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
}

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)  # a fresh temporary profile each launch
        yield b
        b.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def serve():
    """Serve a folder over http on a free localhost port; yield a function folder -> base URL."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(QuietHandler, directory=str(folder))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def watch_network(page, base: str) -> list[str]:
    """Record every failed request, HTTP error, and request that leaves ``base``."""
    problems: list[str] = []
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    page.on("request", lambda r: r.url.startswith(("http", "ws")) and not r.url.startswith(base)
            and problems.append(f"left localhost: {r.url}"))
    return problems


@contextlib.contextmanager
def make_lab(tmp_path: Path, settings: dict[str, str]):
    """Run `make lab` with a throw-away user settings dir holding ``settings``; yield the URL it prints."""
    port = free_port()
    folder = tmp_path / "settings"
    for plugin, value in settings.items():
        (folder / plugin).parent.mkdir(parents=True, exist_ok=True)
        (folder / plugin).write_text(value)
    env = {**os.environ, "PORT": str(port), "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"), "JUPYTERLAB_SETTINGS_DIR": str(folder)}
    lab = subprocess.Popen(["make", "--no-print-directory", "lab"], cwd=ROOT, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        urls, deadline = [], time.monotonic() + 90
        while not urls and time.monotonic() < deadline:
            line = lab.stdout.readline()
            assert line or lab.poll() is None, "make lab exited before serving"
            urls += re.findall(r"https?://[^\s]+", line)
        assert urls, "make lab printed no URL within 90 s"
        # one URL, the one with the token: nothing without a token before it, no second host name after it
        assert re.fullmatch(rf"http://127\.0\.0\.1:{port}/lab\?token=\w+", urls[0]), urls
        log: list[str] = []
        threading.Thread(target=lambda: log.extend(lab.stdout), daemon=True).start()  # keep draining the log
        while True:  # jupyter prints the URL, then starts listening
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline and lab.poll() is None, "make lab printed its URL but never listened"
                time.sleep(0.2)
        try:
            yield urls[0]
        except Exception:
            print("make lab's log:\n" + "".join(log[-60:]))  # shown by pytest with the failure
            raise
        later = re.findall(r"https?://[^\s]+", "".join(log))
        tokened = {u for u in later if "token=" in u}  # the banner repeats the URL; requests are logged without one
        assert tokened <= {urls[0]}, f"make lab printed other addresses: {sorted(tokened)}"
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One `make lab` with LAB_SETTINGS, shared by the tests that only read what it serves (starting JupyterLab and
    a kernel costs seconds of CPU each time); the autosave test starts its own, with its own settings."""
    with make_lab(tmp_path_factory.mktemp("lab"), LAB_SETTINGS) as url:
        yield url


def test_jupyterlab_lists_opens_and_renders_notebook_01(browser, lab):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(120_000)
    page.goto(lab)
    first = notebook_paths()[0].name
    listing = page.locator(".jp-DirListing-item", has_text=first)
    listing.wait_for()
    assert page.locator(".jp-DirListing-item").count() >= len(notebook_paths())
    listing.dblclick()
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    try:
        panel.locator(".jp-OutputArea-output").first.wait_for()
    except Exception:
        page.screenshot(path=SHOTS / "jupyterlab-failure.png")
        raise
    page.wait_for_timeout(1500)
    assert panel.locator("h1", has_text=re.compile(r"^01 · ")).count() >= 1
    assert panel.locator(".jp-OutputArea-output").count() >= 3
    assert panel.locator(".jp-RenderedImage img").count() >= 1  # a stored figure is rendered
    page.screenshot(path=SHOTS / "jupyterlab.png")


AUTOSAVE_INTERVAL = 2  # seconds (JupyterLab's default is 120)


def lab_api(url: str, path: str):
    """GET ``path`` from the server `make lab` runs (``url`` is the one it printed, with the token)."""
    base, token = url.split("/lab?token=")
    with urllib.request.urlopen(f"{base}{path}?token={token}", timeout=30) as response:
        return json.load(response)


def lab_setting(url: str, plugin: str) -> dict:
    """A plugin's settings as JupyterLab applies them: the user's over the defaults (overrides.json included)."""
    answer = lab_api(url, f"/lab/api/settings/{plugin}")
    defaults = {name: spec.get("default") for name, spec in answer["schema"]["properties"].items()}
    return {**defaults, **answer["settings"]}


def git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "notebooks/"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def test_opening_a_notebook_in_make_lab_with_autosave_leaves_it_unchanged(browser, tmp_path):
    """The kernel reports its language_info when a notebook opens; if that differs from the stored metadata,
    JupyterLab marks the notebook changed and autosave writes it. Here autosave is on, every 2 s."""
    path = notebook_paths()[0]
    before, status = path.read_bytes(), git_status()
    settings = {
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings":
            json.dumps({"autosave": True, "autosaveInterval": AUTOSAVE_INTERVAL}),
        # no notification settings: the course's overrides.json (installed by `make lab`) must turn the news off
    }
    try:
        with make_lab(tmp_path, settings) as url:
            docmanager = lab_setting(url, "@jupyterlab/docmanager-extension:plugin")
            assert (docmanager["autosave"], docmanager["autosaveInterval"]) == (True, AUTOSAVE_INTERVAL)
            news = lab_setting(url, "@jupyterlab/apputils-extension:notification")
            assert (news["fetchNews"], news["checkForUpdates"]) == ("false", False)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(120_000)
            page.goto(url.replace("/lab?", f"/lab/tree/{path.name}?"))
            page.locator(".jp-NotebookPanel .jp-OutputArea-output").first.wait_for()
            deadline = time.monotonic() + 120
            while not [s for s in lab_api(url, "/api/sessions") if s["kernel"]["execution_state"] == "idle"]:
                assert time.monotonic() < deadline, "the kernel of notebook 01 did not become idle within 120 s"
                time.sleep(0.5)
            page.wait_for_timeout(4 * AUTOSAVE_INTERVAL * 1000)  # the kernel's info is in; autosave had its chances
            assert page.get_by_text("official Jupyter news").count() == 0  # the news prompt did not appear
            dirty = page.locator(".jp-mod-dirty").count()  # a tab marked changed, not saved (yet)
        after = path.read_bytes()
    finally:
        path.write_bytes(before)  # never leave the repository changed, whatever happened
    if after != before:
        old, new = (json.loads(b)["metadata"] for b in (before, after))
        changed = {k: (old.get(k), new.get(k)) for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
        cells = json.loads(before)["cells"] != json.loads(after)["cells"]
        pytest.fail(f"autosave rewrote {path.name}: metadata {changed}, cells changed: {cells}")
    assert dirty == 0, "JupyterLab marks the notebook as changed"
    assert git_status() == status


def test_live_slides_in_make_lab_render_text_and_maths_offline(browser, lab):
    """RISE (jupyterlab-rise) in `make lab`: notebook 01 as a live slideshow, with the course's theme (white, whose
    fonts ship with reveal.js; RISE's default theme loads fonts from the web), a markdown slide showing its text and
    its maths typeset by JupyterLab's own MathJax, and nothing requested from outside the machine."""
    base, token = lab.split("/lab?token=")
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    problems = watch_network(page, base)
    page.goto(f"{base}/rise/{notebook_paths()[0].name}?token={token}")
    present = page.locator(".reveal .slides section.present:not(.stack)")
    present.locator("h1").wait_for(timeout=60_000)
    assert present.locator("h1").inner_text().startswith("01 ·")
    for _ in range(40):  # forward to the first slide with maths
        if present.locator("mjx-container").count():
            break
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(300)
    assert present.locator("mjx-container").count() > 0, "no typeset maths on any slide"
    assert len(present.inner_text().split()) > 20  # the slide's prose is there too
    page.wait_for_timeout(500)
    page.screenshot(path=SHOTS / "rise-slide.png")
    # RISE asks for optional style sheets beside the notebook (rise.css, NN_topic.css); the course has none
    missing_css = re.compile(rf"^failed: {re.escape(base)}/files/+(rise|{notebook_paths()[0].stem})\.css ")
    assert [p for p in problems if not missing_css.match(p)] == []


@pytest.fixture(scope="module")
def slides_dir(tmp_path_factory) -> Path:
    return publish.build_slides(tmp_path_factory.mktemp("slides"))[0].parent


def test_slide_deck_loads_offline_and_advances_on_a_key(browser, serve, slides_dir):
    base = serve(slides_dir)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    problems = watch_network(page, base)
    deck = f"{notebook_paths()[0].stem}.slides.html"
    page.goto(f"{base}/{deck}", wait_until="networkidle")
    page.locator(".reveal.ready").wait_for(timeout=30_000)  # reveal.js (loaded by require.js) has initialised
    first = page.locator(".slides > section").first
    assert "present" in first.get_attribute("class")
    assert page.locator(".slides > section").count() >= 5
    page.screenshot(path=SHOTS / "slide-title.png")
    steps = first.locator(".fragment").count() + 1  # the arrow key shows each fragment, then the next slide
    for _ in range(steps):
        before = page.evaluate("location.hash")  # history: true tracks slide and fragment in the hash
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"location.hash !== {before!r}", timeout=10_000)
    assert page.evaluate("location.hash").startswith("#/1")
    assert "present" in page.locator(".slides > section").nth(1).get_attribute("class")
    page.wait_for_timeout(800)  # let the transition finish before the screenshot
    page.screenshot(path=SHOTS / "slide.png")
    assert problems == []


# Visit every slide with every fragment shown; for each, how far its content reaches (in canvas px), the code and
# printouts clipped on the right, its text, whether it holds an exercise heading and a solution, and its notes.
MEASURE_SLIDES = """async () => {
    const typeset = () => new Promise(done => MathJax.Hub.Queue(done));
    Reveal.configure({fragments: false, transition: "none", backgroundTransition: "none"});
    await typeset();
    const slides = [];
    for (const slide of Reveal.getSlides()) {
        const at = Reveal.getIndices(slide);
        Reveal.slide(at.h, at.v);  // the layout below is computed on demand; maths is re-typeset on a slide change
        if (slide.querySelector(".MathJax_CHTML, .MathJax, script[type^='math/tex']")) await typeset();
        const scale = Reveal.getScale(), box = slide.getBoundingClientRect();
        let bottom = 0, right = 0;
        for (const el of slide.querySelectorAll("*")) {
            if (el.closest("aside.notes")) continue;
            const r = el.getBoundingClientRect();
            if (r.width === 0 && r.height === 0) continue;
            bottom = Math.max(bottom, (r.bottom - box.top) / scale);
            right = Math.max(right, (r.right - box.left) / scale);
        }
        const shown = [...slide.querySelectorAll(":scope > :not(aside.notes), :scope .fragment")];
        slides.push({
            at: `${at.h}/${at.v}`,
            bottom, right,
            clipped: [...slide.querySelectorAll("pre")].filter(p => !p.closest("aside.notes") && p.scrollWidth > p.clientWidth + 1)
                .map(p => p.textContent.slice(0, 60)),
            text: [...slide.childNodes].filter(n => !(n.matches && n.matches("aside.notes"))).map(n => n.textContent).join(" "),
            exercise: [...slide.querySelectorAll("h3, h4")].some(h => /^(Exercise|练习) *\\d/.test(h.textContent)),
            solution: slide.querySelector(".celltag_solution") !== null,
            notes: slide.querySelectorAll("aside.notes").length,
        });
    }
    const config = Reveal.getConfig();
    return {width: config.width, height: config.height, number: config.slideNumber, notes: Reveal.hasPlugin("notes"),
            slides};
}"""
HARNESS_WORDS = re.compile(r"NBVAL|nbval|\.venv/|site-packages|/tmp/|Traceback \(most recent call last\)")


def test_every_slide_of_every_deck_fits_the_canvas(browser, serve, slides_dir):
    """Every fragment shown, no slide of any deck runs past the 1280x720 canvas or clips a line of code; every deck
    has speaker notes and a title; no slide shows test markers, machine paths or a library traceback, or an exercise
    with its solution; nothing is requested from outside the machine."""
    base = serve(slides_dir)
    bad, total = [], 0
    for path in notebook_paths():
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        problems = watch_network(page, base)
        page.goto(f"{base}/{path.stem}.slides.html", wait_until="networkidle")
        page.locator(".reveal.ready").wait_for(timeout=30_000)
        title = page.title()
        deck = page.evaluate(MEASURE_SLIDES)
        page.evaluate("Reveal.slide(1, 0)")  # the first section after the title, every fragment shown
        page.wait_for_timeout(300)
        page.screenshot(path=SHOTS / f"deck-{path.stem}.png")
        assert (deck["width"], deck["height"], deck["number"]) == (1280, 720, "c/t"), path.name
        assert deck["notes"] and sum(s["notes"] for s in deck["slides"]) > 0, f"{path.name}: no speaker notes"
        assert re.match(rf"{path.stem[:2]} · \S", title), f"{path.name}: title {title!r}"
        for s in deck["slides"]:
            where = f"{path.stem} slide {s['at']}"
            if s["bottom"] > deck["height"] + 1 or s["right"] > deck["width"] + 1:
                bad.append(f"{where}: reaches {s['right']:.0f} x {s['bottom']:.0f} px")
            bad += [f"{where}: code clipped: {text!r}" for text in s["clipped"]]
            if HARNESS_WORDS.search(s["text"]):
                bad.append(f"{where}: shows {HARNESS_WORDS.search(s['text']).group()!r}")
            if s["exercise"] and s["solution"]:
                bad.append(f"{where}: an exercise and its solution on one slide")
        total += len(deck["slides"])
        assert problems == [], (path.name, problems)
        page.close()
    assert total > 14 * 20 and bad == [], f"{len(bad)} of {total} slides do not fit or show what they must not:\n" + "\n".join(bad)


def test_speaker_view_opens_on_s_and_shows_the_notes(browser, serve, slides_dir):
    base = serve(slides_dir)
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    problems = watch_network(page, base)
    page.goto(f"{base}/{notebook_paths()[0].stem}.slides.html#/1", wait_until="networkidle")
    page.locator(".reveal.ready").wait_for(timeout=30_000)
    notes = page.evaluate("Reveal.getCurrentSlide().querySelector('aside.notes').textContent").split()
    assert len(notes) > 10, notes
    with page.expect_popup() as popup:
        page.keyboard.press("s")
    speaker = popup.value
    speaker.wait_for_load_state()
    speaker.locator(".speaker-controls-notes .value").wait_for(timeout=10_000)
    shown = speaker.locator(".speaker-controls-notes .value").inner_text()
    assert " ".join(notes[:6]) in " ".join(shown.split()), (notes[:6], shown[:80])
    speaker.screenshot(path=SHOTS / "speaker-view.png")
    assert problems == []


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory) -> Path:
    return publish.build_site(tmp_path_factory.mktemp("site"))[0].parent


def test_site_index_links_every_notebook_and_pages_show_their_images(browser, serve, site_dir):
    base = serve(site_dir)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = watch_network(page, base)
    page.goto(f"{base}/index.html", wait_until="networkidle")
    page.screenshot(path=SHOTS / "site-index.png", full_page=True)
    links = page.eval_on_selector_all("table a", "els => els.map(e => e.getAttribute('href'))")
    assert links == [f"{p.stem}.html" for p in notebook_paths()]
    for path in notebook_paths():
        nb = nbformat.read(path, as_version=4)
        figures = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        page.goto(f"{base}/{path.stem}.html", wait_until="networkidle")
        sizes = page.eval_on_selector_all(".jp-OutputArea-output img", "els => els.map(e => e.naturalWidth)")
        assert len(sizes) == figures and all(w > 0 for w in sizes), (path.name, figures, sizes)
        assert page.locator("h1").first.inner_text().startswith(path.stem[:2])
    page.goto(f"{base}/{notebook_paths()[0].stem}.html", wait_until="networkidle")
    page.screenshot(path=SHOTS / "site-page.png")
    assert problems == []


# --- The Chinese edition: the site and a deck show Chinese text in a font that has its glyphs ---

CJK = re.compile(r"[\u4e00-\u9fff]")
# In the element's own font, draw two of its Chinese characters and a character no font has (U+10FFFD, private
# use): without a Chinese font all three come out as the same fallback box. Returns the three images as data URLs.
DRAW_GLYPHS = """(el, chars) => chars.map(ch => {
    const style = getComputedStyle(el), canvas = document.createElement("canvas");
    canvas.width = canvas.height = 64;
    const ctx = canvas.getContext("2d");
    ctx.font = `${style.fontWeight} 48px ${style.fontFamily}`;
    ctx.fillText(ch, 4, 52);
    return canvas.toDataURL();
})"""


def chinese_font_families() -> set[str]:
    """Every family name fontconfig knows for the fonts that cover Chinese (`fc-list :lang=zh`)."""
    try:
        listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=True).stdout
    except FileNotFoundError:
        return set()
    return {name.strip() for line in listed.splitlines() for name in line.split(",") if name.strip()}


def assert_chinese_visible(page, selector: str) -> None:
    """The text of ``selector`` has Chinese characters, every one drawn by a font that covers Chinese, as distinct
    glyphs (not the box a missing font leaves)."""
    families = chinese_font_families()
    assert families, "no font covering Chinese is installed (fc-list :lang=zh): apt-get install fonts-wqy-microhei"
    element = page.locator(selector).first
    chars = CJK.findall(element.inner_text())
    assert len(chars) >= 2, (selector, element.inner_text())
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    drawn = sum(f["glyphCount"] for f in fonts if f["familyName"] in families)
    assert drawn >= len(chars), f"{selector}: {len(chars)} Chinese characters, {drawn} glyphs from {families}: {fonts}"
    first, second, missing = element.evaluate(DRAW_GLYPHS, [chars[0], chars[1], "\U0010fffd"])
    assert len({first, second, missing}) == 3 or chars[0] == chars[1], f"{selector}: {chars[:2]} drawn as boxes"


@pytest.fixture(scope="module")
def chinese_edition(tmp_path_factory) -> tuple[Path, Path]:
    """The Chinese site and slides, of notebook 01 only (every page is built the same way; the English test
    checks them all)."""
    out = tmp_path_factory.mktemp("zh_CN")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(publish, "notebook_paths", lambda: notebook_paths()[:1])
        site = publish.build_site(out / "site", lang="zh_CN")[0].parent
        slides = publish.build_slides(out / "slides", lang="zh_CN")[0].parent
    return site, slides


def test_chinese_site_and_deck_show_chinese_text(browser, serve, chinese_edition):
    site, slides = chinese_edition
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    base = serve(site)
    problems = watch_network(page, base)
    page.goto(f"{base}/index.html", wait_until="networkidle")
    assert page.locator("html").get_attribute("lang") == "zh"
    assert_chinese_visible(page, "h1")
    assert_chinese_visible(page, "table a")  # notebook 01's title
    page.goto(f"{base}/{notebook_paths()[0].stem}.html", wait_until="networkidle")
    assert_chinese_visible(page, "h1")
    assert_chinese_visible(page, "details.solution summary")
    page.screenshot(path=SHOTS / "zh-site-page.png")
    assert problems == []

    deck = browser.new_page(viewport={"width": 1280, "height": 720})
    base = serve(slides)
    problems = watch_network(deck, base)
    deck.goto(f"{base}/{notebook_paths()[0].stem}.slides.html", wait_until="networkidle")
    deck.locator(".reveal.ready").wait_for(timeout=30_000)
    assert_chinese_visible(deck, ".slides > section.present h1")
    deck.screenshot(path=SHOTS / "zh-slide.png")
    assert problems == []
