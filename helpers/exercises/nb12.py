"""Exercises of notebook 12 (``12_tensorboard``): what a histogram keeps, comparing learning rates, a logged
schedule, add_scalars' runs (a thought exercise), and choosing a run from its logs."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from types import SimpleNamespace

import torch

from helpers.exercises import Exercise, Incorrect, ____  # noqa: F401  (____ is what student copies fill in)


def check_histogram_std(histogram_std) -> None:
    g = torch.Generator().manual_seed(0)
    for values in (torch.randn(1000, generator=g) * 3 + 1, torch.full((5,), 2.0), torch.rand(7840, generator=g)):
        record = SimpleNamespace(num=float(values.numel()), sum=values.sum().item(),
                                 sum_squares=values.square().sum().item(), min=values.min().item(), max=values.max().item())
        got, want = float(histogram_std(record)), values.std(correction=0).item()
        if not math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-5):
            raise Incorrect(f"for {values.numel()} values with std {want:.4g} your function gives {got:.4g}: "
                            "std = sqrt(sum_squares / num - (sum / num) ** 2)")


def check_results(results) -> None:
    if not isinstance(results, dict) or set(results) != {0.01, 0.1, 0.5}:
        raise Incorrect("results must map each learning rate, 0.01, 0.1 and 0.5, to its validation accuracy")
    if not all(0.0 <= a <= 1.0 for a in results.values()):
        raise Incorrect("accuracies are fractions between 0 and 1")
    if not results[0.5] > 0.85 or not results[0.01] < results[0.5]:
        raise Incorrect(f"after 200 steps lr 0.5 should reach above 0.85 and beat lr 0.01; got {results}")


def check_lrs(lrs) -> None:
    lrs = torch.as_tensor(lrs, dtype=torch.float64)
    expected = 0.5 / 2 * (1 + torch.cos(torch.pi * torch.arange(100, dtype=torch.float64) / 100))
    if lrs.shape != expected.shape:
        raise Incorrect(f"lrs has {lrs.numel()} values, expected one per step (100)")
    if not torch.allclose(lrs, expected, rtol=1e-6, atol=1e-7):  # TensorBoard stores float32
        step = (lrs - expected).abs().argmax().item()
        raise Incorrect(f"at step {step} the logged lr is {lrs[step].item():.6g}, the cosine schedule gives "
                        f"{expected[step].item():.6g}: log opt.param_groups[0]['lr'] before sched.step()")


def write_runs(logdir: Path, runs: dict[str, list[dict[str, list[float]]]]) -> None:
    """Log each run's event files: a run is a list of files (a resumed run has two), each {tag: values, one per step}."""
    from torch.utils.tensorboard import SummaryWriter

    for name, files in runs.items():
        step = 0
        for tags in files:
            with SummaryWriter(logdir / name) as w:
                for tag, values in tags.items():
                    for i, v in enumerate(values):
                        w.add_scalar(tag, v, step + i)
            step += max(len(v) for v in tags.values())


def check_best_run(best_run) -> None:
    runs = {"a": [{"accuracy/valid": [0.50, 0.90, 0.80]}],  # its best value came early, its last is 0.80
            "b": [{"accuracy/valid": [0.60]}, {"accuracy/valid": [0.85]}],  # resumed: two event files, last 0.85
            "c/seed1": [{"accuracy/valid": [0.70, 0.82], "f1": [0.20, 0.95]}],  # a run nested one folder deeper
            "d": [{"f1": [0.50], "loss/train": [2.0, 1.0]}]}  # never logged accuracy/valid
    with tempfile.TemporaryDirectory() as d:
        write_runs(Path(d), runs)
        got = best_run(d)
        if got != "b":
            why = {"a": "its best value (0.90) came at step 1, but its last is 0.80: compare each run's last value",
                   "c/seed1": "its first value is the highest, but runs are compared by their last value",
                   "d": "it never logged accuracy/valid: skip runs without the tag"}.get(got, "")
            raise Incorrect(f"best_run returned {got!r}, expected 'b' (last accuracy/valid 0.85, logged in the second "
                            f"event file of a resumed run){': ' + why if why else ''}")
        got = best_run(Path(d), tag="f1")
        if got != "c/seed1":
            raise Incorrect(f"best_run(logdir, tag='f1') returned {got!r}, expected 'c/seed1': use the tag argument, and "
                            "name a run by its path relative to logdir, nested folders included")


ex1 = Exercise("12_tensorboard", 1, ("histogram_std",), check_histogram_std,
               ["A histogram record keeps num, min, max, sum and sum_squares, plus bucket counts.",
                "The variance is the mean of the squares minus the square of the mean."])
ex2 = Exercise("12_tensorboard", 2, ("results",), check_results,
               ["One SummaryWriter for the log dir; for each lr, train, evaluate, then add_hparams(..., run_name=f'lr={lr}').",
                "results[lr] = evaluate(lin, F.cross_entropy, valid_dl)[1]"])
ex3 = Exercise("12_tensorboard", 3, ("lrs",), check_lrs,
               ["Log opt.param_groups[0]['lr'] at the top of each step, then step the optimiser, then the scheduler.",
                "Read the curve back: [e.value for e in EventAccumulator(...).Scalars('lr')]."])
ex4 = Exercise("12_tensorboard", 4, hints=[
    "Look at the folders show_tree prints after add_scalars: one per key.",
    "TensorBoard lists every folder with event files as a run, and overlays runs that share a tag."])
ex5 = Exercise("12_tensorboard", 5, ("best_run",), check_best_run,
               ["The runs are the folders holding event files: {p.parent for p in Path(logdir).rglob('events.out.tfevents.*')}.",
                "For each: EventAccumulator(str(run)), Reload(), skip it unless tag in Tags()['scalars'], "
                "keep Scalars(tag)[-1].value; return the run with the largest."])
