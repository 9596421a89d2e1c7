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


def test_the_fast_section_reports_the_seeds_mean_and_spread_and_names_its_choices():
    from bench.fast import report

    m = {
        "rows": [("+ channels_last", 11.0, 0.989), ("+ bf16 autocast where it pays: not here, float32 kept", 11.0, 0.989)],
        "per_1k": {False: 0.3, True: 2.7},
        "use_bf16": False,
        "bf16_is_fast": False,
        "epochs": 2,
        "two_epoch_valid": 0.992,
        "seeds": {0: (30.0, 0.992, 0.9930), 1: (31.0, 0.991, 0.9940), 2: (29.0, 0.990, 0.9920)},
        "compiled": None,
        "compile_error": "RuntimeError: no compiler",
    }
    text = "\n".join(report(m))
    assert "**Test accuracy 99.30% ± 0.10%** (mean ± standard deviation over 3 seeds; 99.20% to 99.40%)" in text
    assert "after a median 30.0 s of training (goal: a mean of at least 99.0 %: met)" in text
    assert "9.0× slower: float32 kept" in text and "1 epoch 98.90%, 2 epochs 99.20%, so 2 epochs." in text
    assert "| 1 | 31.0 | 99.10% | 99.40% |" in text and "| step | training seconds | validation accuracy |" in text
    assert "`torch.compile` failed here: RuntimeError: no compiler" in text
