"""What a slide deck shows of a notebook (``make slides``): the lesson cut to fit a 1280x720 canvas.

A notebook is written to be read; a slide is shown. ``deck(nb)`` turns a notebook (its hidden check cells already
left out) into the notebook that nbconvert's reveal.js exporter renders:

- **Prose goes to the speaker notes.** A markdown cell keeps its headings, lists, tables, maths, images and short
  paragraphs on the slide; a paragraph longer than a line keeps only its first sentence there (when that is short)
  and goes whole into a ``notes`` cell beside it, which reveal.js shows in the speaker view (``s``).
- **Exercises and solutions never share a slide.** Each exercise starts a slide; its solution follows on the next
  one, under a "Solution" heading, after the pause the exercise slide gives.
- **Outputs are trimmed for the slide, never in the notebook.** A long printout shows its head and how many lines
  were left out; an error shows its last line (the exception), not the traceback through library files.
- **Everything fits.** Cells are packed into slides by an estimate of their height on the canvas: a cell that would
  run past the bottom starts a new (vertical) slide instead of being a fragment of the full one; a code cell too
  long for any slide is split at blank lines; a figure is scaled to the room left under its code.

``tests/test_browser.py`` measures every slide of every deck in Chromium, with all fragments shown, and fails if
any is taller or wider than the canvas or clips a line of code: the estimates here only have to be good enough.
"""

from __future__ import annotations

import base64
import copy
import re
import struct

import nbformat

WIDTH, HEIGHT = 1280, 720  # the canvas reveal.js scales to the screen (the template passes these to it)
ROOM = 640  # px of the canvas a slide may fill by the estimate below (reveal keeps a margin, and estimates err)
TEXT_CHARS, CODE_CHARS, TABLE_CHARS = 100, 96, 110  # characters per line of prose, code (which wraps) and tables
LINE = {"text": 34, "code": 24, "table": 30, "h1": 84, "h2": 66, "h3": 52, "h4": 40}  # px per rendered line
CELL_GAP = {"markdown": 12, "code": 30}  # padding and margins around a cell
OUTPUT_LINES = 12  # lines of a printout a slide shows; the rest is counted, not shown
SHORT = 110  # a paragraph, or the first sentence of one, at most this long stays on the slide
MAX_FIGURE = 430  # px: the tallest a figure is drawn on a slide
MIN_FIGURE = 220  # px: a figure with less room than this under its code goes to a slide of its own


# --- markdown: what stays on the slide, what goes to the notes ---


def blocks(markdown: str) -> list[str]:
    """The blocks of a markdown text: paragraphs, lists, tables, headings, fenced code and display maths."""
    out: list[str] = []
    current: list[str] = []
    fence = None
    for line in markdown.splitlines():
        stripped = line.strip()
        if fence:
            current.append(line)
            if stripped.startswith(fence):
                fence = None
            continue
        if stripped.startswith(("```", "$$")) and not (
            stripped.startswith("$$") and stripped.endswith("$$") and len(stripped) > 2
        ):
            fence = stripped[:3] if stripped.startswith("```") else "$$"
            current.append(line)
            continue
        if not stripped:
            out.append("\n".join(current)) if current else None
            current = []
        elif stripped.startswith("#"):  # a heading is a block of its own, even without a blank line around it
            out.append("\n".join(current)) if current else None
            out.append(line)
            current = []
        else:
            current.append(line)
    if current:
        out.append("\n".join(current))
    return out


def kind(block: str) -> str:
    """heading, list, table, fence, maths, html or paragraph."""
    first = block.lstrip()
    if first.startswith("#"):
        return "heading"
    if re.match(r"([-*+]|\d+[.)])\s", first):
        return "list"
    if first.startswith("|"):
        return "table"
    if first.startswith("```"):
        return "fence"
    if first.startswith("$$"):
        return "maths"
    if first.startswith(("<", "![")):
        return "html"
    return "paragraph"


SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(*`\"'])|(?<=[。！？])")


def first_sentence(paragraph: str) -> str:
    """The first sentence of a paragraph (English or Chinese), on one line."""
    text = " ".join(paragraph.split())
    return SENTENCE_END.split(text, maxsplit=1)[0]


def slide_and_notes(markdown: str) -> tuple[list[str], str]:
    """Split a markdown cell into the blocks a slide shows and the prose its speaker notes keep."""
    shown, notes = [], []
    for block in blocks(markdown):
        if kind(block) != "paragraph" or len(" ".join(block.split())) <= SHORT:
            shown.append(block)
            continue
        notes.append(block)
        lead = first_sentence(block)
        if len(lead) <= SHORT and not lead.endswith(":"):
            shown.append(lead)
    return shown, "\n\n".join(notes)


# --- heights, by estimate ---


def visible(text: str) -> str:
    """Markdown as it reads: no emphasis or code marks, a LaTeX command as one character."""
    return re.sub(r"[*`${}_^]|\\[a-zA-Z]+(?=[^a-zA-Z])", "", re.sub(r"\\(text|mathbb|bar|hat)\b", "", text))


def wrapped(lines: list[str], width: int, markdown: bool = False) -> int:
    """How many screen lines ``lines`` take when each wraps at ``width`` characters (CJK counts double)."""

    def cols(line: str) -> int:
        line = visible(line) if markdown else line
        return len(line) + sum(1 for ch in line if "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef")

    return sum(max(1, -(-cols(line) // width)) for line in lines)


def markdown_height(source: str) -> int:
    """Estimated px of a markdown cell on the canvas."""
    height = CELL_GAP["markdown"]
    for block in blocks(source):
        lines = block.splitlines()
        if kind(block) == "heading":
            level = min(len(block) - len(block.lstrip("#")), 4)
            height += LINE[f"h{level}"] * wrapped([block.lstrip("# ")], TEXT_CHARS * 2 // (level + 2))
        elif kind(block) == "table":
            height += table_height(lines)
        elif kind(block) in ("fence", "maths"):
            height += LINE["code" if kind(block) == "fence" else "text"] * len(lines) + 20
        elif kind(block) == "html":
            height += 300
        else:
            items = re.split(r"\n(?=\s*(?:[-*+]|\d+[.)])\s)", block) if kind(block) == "list" else [block]
            height += LINE["text"] * wrapped([" ".join(item.split()) for item in items], TEXT_CHARS, True) + 16
    return height


def table_height(rows: list[str]) -> int:
    """Estimated px of a markdown table: each row as tall as its longest cell wrapped in its share of the width."""
    cells = [
        [c.strip() for c in row.strip().strip("|").split("|")]
        for row in rows
        if not re.match(r"\s*\|[-:| ]+\|?\s*$", row)
    ]
    total = sum(max(len(r[i]) if i < len(r) else 0 for r in cells) for i in range(len(cells[0]))) or 1
    height = 20
    for row in cells:
        widths = [
            max(8, TABLE_CHARS * max(len(r[i]) if i < len(r) else 0 for r in cells) // total) for i in range(len(row))
        ]
        height += LINE["table"] * max(wrapped([c], w) for c, w in zip(row, widths))
    return height


def split_table(block: str) -> list[str]:
    """A markdown table too tall for one slide, as several tables that repeat its header."""
    rows = block.splitlines()
    head, body = rows[:2], rows[2:]
    parts, current = [], []
    for row in body:
        if current and table_height(head + current + [row]) > ROOM - 140:
            parts.append(current)
            current = []
        current.append(row)
    return ["\n".join(head + part) for part in parts + [current] if part]


def png_size(data: str) -> tuple[int, int]:
    """(width, height) of a base64 PNG, read from its header."""
    head = base64.b64decode(data[:64])
    return struct.unpack(">II", head[16:24])


def output_height(output) -> int:
    """Estimated px of one (already trimmed) output."""
    data = output.get("data", {})
    if "image/png" in data:
        meta = output.get("metadata", {}).get("image/png", {})
        return int(meta.get("height") or png_size(data["image/png"])[1]) + 10
    text = output.get("text") or data.get("text/plain") or "\n".join(output.get("traceback", []))
    if "text/html" in data and "text/plain" not in data:
        text = re.sub(r"<[^>]+>", "", data["text/html"])
    return LINE["code"] * wrapped(str(text).rstrip("\n").splitlines() or [""], CODE_CHARS) + 16


def code_height(cell) -> int:
    """Estimated px of a code cell: its source and its outputs."""
    source = LINE["code"] * wrapped(cell.source.splitlines() or [""], CODE_CHARS)
    return CELL_GAP["code"] + source + sum(output_height(o) for o in cell.get("outputs", []))


def height(cell) -> int:
    return markdown_height(cell.source) if cell.cell_type == "markdown" else code_height(cell)


# --- outputs ---

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def trim_output(output, room: int) -> None:
    """Cut a printout to the ``room`` px a slide has for it, and an error to its last line (in place)."""
    if output.output_type == "error":
        output.traceback = [f"{output.ename}: {ANSI.sub('', output.evalue)}"]
        return
    key = "text" if output.output_type == "stream" else "text/plain"
    holder = output if output.output_type == "stream" else output.get("data", {})
    if key not in holder or "image/png" in output.get("data", {}):
        return
    if output.output_type == "stream" and output.name == "stderr":  # warnings: no machine paths on a slide
        holder[key] = re.sub(r"(/[^\s:]+)+/(site-packages|lib|tmp[^/]*)/", "…/", holder[key])
    lines = str(holder[key]).rstrip("\n").splitlines()
    allowed = max(3, min(OUTPUT_LINES, room // LINE["code"] - 1))
    keep = 0
    while keep < len(lines) and wrapped(lines[: keep + 1], CODE_CHARS) <= allowed - 1:
        keep += 1
    if keep < len(lines) and wrapped(lines, CODE_CHARS) > allowed:
        holder[key] = "\n".join(lines[:keep] + [f"… ({len(lines) - keep} more lines)"]) + "\n"


def fit_figure(output, room: int) -> None:
    """Draw a figure at most ``room`` px tall (in place), keeping its proportions."""
    if "image/png" not in output.get("data", {}):
        return
    width, tall = png_size(output.data["image/png"])
    target = min(tall, MAX_FIGURE, max(room, MIN_FIGURE))
    if target < tall:
        meta = output.setdefault("metadata", {}).setdefault("image/png", {})
        meta["height"], meta["width"] = target, round(width * target / tall)


# --- cells ---


def slide_type(cell) -> str:
    return cell.metadata.get("slideshow", {}).get("slide_type", "-")


def with_type(cell, kind: str):
    cell = copy.deepcopy(cell)
    cell.metadata["slideshow"] = {"slide_type": kind}
    return cell


def split_code(cell) -> list:
    """A code cell too tall for one slide, as several cells cut at blank lines (its outputs on the last)."""
    lines = cell.source.splitlines()
    budget = (ROOM - 100) // LINE["code"]
    parts, current = [], []
    for line in lines:
        current.append(line)
        if len(current) >= budget // 2 and not line.strip() or len(current) >= budget:
            parts.append(current)
            current = []
    if current:
        parts.append(current)
    cells = []
    for i, part in enumerate(parts):
        piece = copy.deepcopy(cell)
        piece.source = "\n".join(part).strip("\n")
        piece.outputs = cell.outputs if i == len(parts) - 1 else []
        piece.id = f"{cell.id}-{i}"
        piece.metadata["slideshow"] = {"slide_type": slide_type(cell) if i == 0 else "subslide"}
        cells.append(piece)
    return cells


def expand(nb, solution_label: str) -> list:
    """The notebook's cells as the deck shows them, before packing: prose split off, solutions on their own."""
    cells = []
    for cell in nb.cells:
        kind_ = slide_type(cell)
        kind_ = "fragment" if kind_ == "subslide" else kind_  # where a slide is full, pack() decides, by height
        if kind_ in ("skip", "notes"):
            cells.append(cell)
            continue
        if cell.cell_type == "markdown":
            is_exercise = bool(re.match(r"#+\s*(Exercise|练习)\s*\d", cell.source.strip()))
            shown, notes = ([cell.source], "") if is_exercise else slide_and_notes(cell.source)
            shown = [part for block in shown for part in (split_table(block) if kind(block) == "table" else [block])]
            for i, block in enumerate(shown):
                first = kind_ if i == 0 else "-"
                cells.append(
                    with_type(
                        nbformat.v4.new_markdown_cell(block),
                        "subslide" if is_exercise and i == 0 and first != "slide" else first,  # a slide of its own
                    )
                )
            if not shown and kind_ == "slide":  # all prose: the slide shows none of it, the speaker says it
                cells.append(with_type(nbformat.v4.new_markdown_cell(""), kind_))
            if notes:
                cells.append(with_type(nbformat.v4.new_markdown_cell(notes), "notes"))
            continue
        cell = with_type(cell, kind_)
        cell.metadata.pop("jupyter", None)  # a folded solution is shown unfolded on its own slide
        if "solution" in cell.metadata.get("tags", []):
            cells.append(with_type(nbformat.v4.new_markdown_cell(f"#### {solution_label}"), "subslide"))
            cell.metadata["slideshow"] = {"slide_type": "-"}
        source = LINE["code"] * wrapped(cell.source.splitlines() or [""], CODE_CHARS)
        for output in cell.get("outputs", []):
            trim_output(output, max(ROOM // 3, ROOM - CELL_GAP["code"] - source - 60))
        cells.extend(
            split_code(cell)
            if code_height(cell) > ROOM and len(cell.source.splitlines()) * LINE["code"] > ROOM - 150
            else [cell]
        )
    return [c for c in cells if not (c.cell_type == "markdown" and not c.source.strip() and slide_type(c) == "-")]


def pack(cells: list) -> list:
    """Start a new vertical slide wherever the next cell would run past the canvas; fit figures to the room left."""
    used = 0
    for cell in cells:
        kind_ = slide_type(cell)
        if kind_ in ("skip", "notes"):
            continue
        if kind_ in ("slide", "subslide"):
            used = 0
        need = height(cell)
        if cell.cell_type == "code":
            figures = [o for o in cell.outputs if "image/png" in o.get("data", {})]
            rest = need - sum(output_height(o) for o in figures)
            if figures and used and used + rest + MIN_FIGURE > ROOM:
                cell.metadata["slideshow"] = {"slide_type": "subslide"}
                used = 0
            for figure in figures:
                fit_figure(figure, (ROOM - used - rest) // len(figures))
            need = height(cell)
        if used and used + need > ROOM:
            cell.metadata["slideshow"] = {"slide_type": "subslide"}
            used = 0
        used += need
    return cells


def deck(nb: nbformat.NotebookNode, solution_label: str = "Solution") -> nbformat.NotebookNode:
    """Return the notebook a slide deck renders: prose in notes, solutions apart, outputs trimmed, cells packed."""
    nb = copy.deepcopy(nb)
    title = next((c.source.splitlines()[0].lstrip("# ").strip() for c in nb.cells if c.cell_type == "markdown"), "")
    nb.metadata["title"] = title
    nb.cells = pack(expand(nb, solution_label))
    return nb
