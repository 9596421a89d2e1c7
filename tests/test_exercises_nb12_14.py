"""Notebooks 12 and 14's exercise checks: right answers pass, realistic mistakes are named, ____ is not attempted."""

from __future__ import annotations

import pytest
import torch

from helpers.exercises import ____, nb12, nb14


def op_counts(fn):
    """A right answer to 14's exercise 5, written with events rather than key_averages."""
    from collections import Counter

    from torch.profiler import profile

    with profile() as prof:
        fn()
    return Counter(event.name for event in prof.events())


def profiled(fn, **options):
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        fn()
    return prof.key_averages(**options)


def verdict(ex, *values) -> str:
    return ex._verdict(values, {})


def cosine(n=100, lr=0.5):
    return [lr * (1 + torch.cos(torch.tensor(torch.pi * i / n, dtype=torch.float64)).item()) / 2 for i in range(n)]


def betas():
    opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=0.02)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.02, total_steps=100)
    out = []
    for _ in range(100):
        out.append(opt.param_groups[0]["betas"][0])
        opt.step()
        sched.step()
    return out


def test_right_answers_are_correct():
    assert verdict(nb12.ex1, lambda h: (h.sum_squares / h.num - (h.sum / h.num) ** 2) ** 0.5) == "Correct"
    assert verdict(nb12.ex2, {0.01: 0.80, 0.1: 0.88, 0.5: 0.90}) == "Correct"
    assert verdict(nb12.ex3, cosine()) == "Correct"
    w16, w32 = torch.tensor(1.0, dtype=torch.bfloat16), torch.tensor(1.0)
    for _ in range(1000):
        w16 += 0.001
        w32 += 0.001
    assert verdict(nb14.ex1, w16, w32) == "Correct"
    assert verdict(nb14.ex3, betas()) == "Correct"
    assert verdict(nb14.ex4, {32: 0.95, 512: 0.80}) == "Correct"
    assert verdict(nb14.ex5, op_counts) == "Correct"
    assert "thought exercise" in verdict(nb12.ex4) and "thought exercise" in verdict(nb14.ex2)


@pytest.mark.parametrize("ex, arity", [(nb12.ex1, 1), (nb12.ex2, 1), (nb12.ex3, 1), (nb14.ex1, 2), (nb14.ex3, 1),
                                       (nb14.ex4, 1), (nb14.ex5, 1)])
def test_placeholders_are_not_attempted(ex, arity):
    assert verdict(ex, *[____] * arity).startswith("Not attempted")


def test_realistic_mistakes_are_named():
    assert verdict(nb12.ex1, lambda h: (h.sum_squares / h.num) ** 0.5).startswith("Incorrect: for 1000 values with std")
    assert verdict(nb12.ex2, {0.01: 0.9, 0.1: 0.88, 0.5: 0.86}).startswith("Incorrect: after 200 steps lr 0.5")
    assert verdict(nb12.ex3, cosine()[1:] + [0.0]).startswith("Incorrect: at step")  # logged after sched.step()
    assert verdict(nb14.ex1, torch.tensor(1.0), torch.tensor(2.0)).startswith("Incorrect: w_bf16 must be the bf16")
    assert verdict(nb14.ex1, torch.tensor(1.0, dtype=torch.bfloat16), torch.tensor(1.0)).startswith(
        "Incorrect: w_fp32 must be the float32 weight after the same 1,000 updates")
    late = verdict(nb14.ex3, betas()[1:] + betas()[-1:])  # recorded after stepping
    assert late.startswith("Incorrect: at step") and late.endswith("before opt.step() and sched.step()")
    assert verdict(nb14.ex3, betas()[:99]).startswith("Incorrect: beta1s has 99 values")
    assert verdict(nb14.ex4, {32: 0.80, 512: 0.95}).startswith("Incorrect: bs 32 gave 0.800 and bs 512 0.950")
    assert verdict(nb14.ex4, {32: 96.7, 512: 61.3}).startswith("Incorrect: accuracies are fractions")
    assert verdict(nb14.ex4, {32: 0.70, 512: 0.61}).startswith("Incorrect: bs 32 reached only 0.700")
    # 14's exercise 5: times instead of calls, rows grouped by input shape, one profile reused for every call
    as_times = verdict(nb14.ex5, lambda fn: {e.key: e.cpu_time_total for e in profiled(fn)})
    assert as_times.startswith("Incorrect: for five additions `t + 1` (of different sizes) counts['aten::add'] is ")
    assert as_times.endswith("expected 5: count calls (each row's .count), not times")
    by_shape = verdict(nb14.ex5, lambda fn: {e.key: e.count for e in profiled(fn, group_by_input_shape=True)})
    assert by_shape == ("Incorrect: for five additions `t + 1` (of different sizes) counts['aten::add'] is 3, expected 5: "
                        "one row per name: do not group by input shape, or add up the rows of each name")
    seen = {}

    def cumulative(fn):
        for name, count in op_counts(fn).items():
            seen[name] = seen.get(name, 0) + count
        return dict(seen)

    assert verdict(nb14.ex5, cumulative).startswith("Incorrect: for one product of two torch.ones(4, 4) expected")
    assert verdict(nb14.ex5, lambda fn: len(op_counts(fn))) == (
        "Incorrect: op_counts must return a dict (operation name -> number of calls), not int")


def runs_by(pick, tag_default="accuracy/valid"):
    """best_run variants: ``pick`` turns a run's ScalarEvents into the number runs are compared by."""
    from pathlib import Path

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    def best_run(logdir, tag=tag_default):
        scores = {}
        for run in {p.parent for p in Path(logdir).rglob("events.out.tfevents.*")}:
            r = EventAccumulator(str(run))
            r.Reload()
            if tag in r.Tags()["scalars"]:
                scores[run.relative_to(logdir).as_posix()] = pick(r.Scalars(tag))
        return max(scores, key=scores.get)

    return best_run


def test_12_best_run_right_and_wrong():
    assert verdict(nb12.ex5, runs_by(lambda events: events[-1].value)) == "Correct"
    best_value = verdict(nb12.ex5, runs_by(lambda events: max(e.value for e in events)))
    assert best_value == ("Incorrect: best_run returned 'a', expected 'b' (last accuracy/valid 0.85, logged in the second "
                          "event file of a resumed run): its best value (0.90) came at step 1, but its last is 0.80: "
                          "compare each run's last value")
    assert verdict(nb12.ex5, runs_by(lambda events: events[0].value)).startswith(
        "Incorrect: best_run returned 'c/seed1', expected 'b'")
    ignores_tag = runs_by(lambda events: events[-1].value)
    assert verdict(nb12.ex5, lambda logdir, tag="accuracy/valid": ignores_tag(logdir)).startswith(
        "Incorrect: best_run(logdir, tag='f1') returned 'b', expected 'c/seed1'")
    assert verdict(nb12.ex5, ____).startswith("Not attempted")
