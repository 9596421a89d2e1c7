"""The benchmark's bookkeeping (not its timings: speed is measured by `make bench`, never asserted in a test)."""

from bench.__main__ import main
from bench.results import render, split_sections

OLD = """# Benchmarks

Machine: old header line.

## 1. fit

Machine: A.

| a | 1 |

## 2. Time to 99 %

Machine: A.

fast text

## 4. The suite

suite text
"""


def test_split_sections_finds_each_numbered_section_with_all_its_lines():
    blocks = split_sections(OLD)
    assert list(blocks) == ["1", "2", "4"]
    assert blocks["1"] == ["## 1. fit", "", "Machine: A.", "", "| a | 1 |", ""]
    assert blocks["4"] == ["## 4. The suite", "", "suite text"]


def test_a_partial_run_replaces_its_sections_and_keeps_the_others_in_order():
    blocks = split_sections(OLD)
    blocks["3"] = ["## 3. How cost grows", "", "Machine: B.", "", "new scaling", ""]
    blocks["1"] = ["## 1. fit", "", "Machine: B.", "", "| a | 2 |", ""]
    text = render(blocks)
    assert text.startswith("# Benchmarks\n")
    assert "old header line" not in text and "| a | 1 |" not in text
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## 1. fit", "## 2. Time to 99 %", "## 3. How cost grows", "## 4. The suite"]
    assert "fast text" in text and "new scaling" in text and "| a | 2 |" in text
    assert split_sections(text) == blocks  # and it reads back the same


def test_unknown_sections_are_refused_before_anything_runs(capsys):
    assert main(["fit", "speed"]) == 2
    assert "unknown section(s) ['speed']" in capsys.readouterr().err
