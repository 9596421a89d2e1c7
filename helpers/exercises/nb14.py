"""Exercises of notebook 14 (``14_fast_cpu``): float32 master weights, BatchNorm and eval() (a thought exercise),
one cycle for momentum, the batch size under a one-epoch budget, and counting a pass's operations with the
profiler."""

from __future__ import annotations

import torch

from helpers.exercises import Exercise, Incorrect, ____  # noqa: F401  (____ is what student copies fill in)


def check_weights(w_bf16, w_fp32) -> None:
    if not (isinstance(w_bf16, torch.Tensor) and w_bf16.dtype == torch.bfloat16):
        raise Incorrect("w_bf16 must be the bf16 weight tensor (dtype torch.bfloat16)")
    if w_bf16.item() != 1.0:
        raise Incorrect(f"w_bf16 ended at {w_bf16.item():.4f}: add 0.001 to a bf16 tensor of 1.0, 1,000 times, in place")
    if not (isinstance(w_fp32, torch.Tensor) and w_fp32.dtype == torch.float32 and abs(w_fp32.item() - 2.0) < 1e-3):
        raise Incorrect("w_fp32 must be the float32 weight after the same 1,000 updates (about 2.0)")


def check_beta1s(beta1s) -> None:
    opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=0.02)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.02, total_steps=100)
    expected = []
    for _ in range(100):
        expected.append(opt.param_groups[0]["betas"][0])
        opt.step()
        sched.step()
    if len(beta1s) != 100:
        raise Incorrect(f"beta1s has {len(beta1s)} values, expected one per step (100), recorded before each step")
    step = max(range(100), key=lambda i: abs(beta1s[i] - expected[i]))
    if abs(beta1s[step] - expected[step]) > 1e-9:
        raise Incorrect(f"at step {step} beta1 is {beta1s[step]:.4f}, the schedule gives {expected[step]:.4f}: record "
                        "opt.param_groups[0]['betas'][0] before opt.step() and sched.step()")


def check_accs(accs) -> None:
    if not isinstance(accs, dict) or set(accs) != {32, 512}:
        raise Incorrect("accs must map each batch size, 32 and 512, to its validation accuracy")
    if not all(0.0 <= float(a) <= 1.0 for a in accs.values()):
        raise Incorrect(f"accuracies are fractions between 0 and 1 (what accuracy_on returns); got {accs}")
    if not accs[32] > accs[512]:
        raise Incorrect(f"bs 32 gave {accs[32]:.3f} and bs 512 {accs[512]:.3f}: with one epoch of 2,500 images the "
                        "smaller batch takes 16 times as many steps and should win; is each run one epoch from a "
                        "fresh fast_cnn()?")
    if not accs[32] >= 0.9:  # measured: about 0.95 on the validation set
        raise Incorrect(f"bs 32 reached only {accs[32]:.3f} on the validation set; one epoch of 79 steps of "
                        "train_fast should pass 0.9: train a fresh fast_cnn() with bs=32 on x_train_img[:2500]")


def check_op_counts(op_counts) -> None:
    counts = op_counts(lambda: [torch.ones(n) + 1 for n in (1, 2, 3, 3, 3)])
    if not isinstance(counts, dict):
        raise Incorrect(f"op_counts must return a dict (operation name -> number of calls), not {type(counts).__name__}")
    adds = counts.get("aten::add")
    if adds != 5:
        hint = ("count calls (each row's .count), not times" if isinstance(adds, float) else
                "one row per name: do not group by input shape, or add up the rows of each name")
        shown = f"{adds:.4g}" if isinstance(adds, float) else repr(adds)
        raise Incorrect(f"for five additions `t + 1` (of different sizes) counts['aten::add'] is {shown}, expected 5: "
                        + hint)
    counts = op_counts(lambda: torch.ones(4, 4) @ torch.ones(4, 4))
    if counts.get("aten::matmul") != 1 or counts.get("aten::ones") != 2 or "aten::add" in counts:
        raise Incorrect("for one product of two torch.ones(4, 4) expected aten::ones twice and aten::matmul once, and "
                        "nothing of an earlier call: profile fn() afresh on every call")


ex1 = Exercise("14_fast_cpu", 1, ("w_bf16", "w_fp32"), check_weights,
               ["torch.tensor(1.0, dtype=torch.bfloat16), then `w += 0.001` in a loop.",
                "Near 1.0 the next bf16 number is 1.0078: an update smaller than half that gap rounds away."])
ex2 = Exercise("14_fast_cpu", 2, hints=[
    "In training mode BatchNorm normalises with the batch's own mean and variance.",
    "In eval mode it uses the running statistics, so an image's scores do not depend on its batch."])
ex3 = Exercise("14_fast_cpu", 3, ("beta1s",), check_beta1s,
               ["Record opt.param_groups[0]['betas'][0] at the top of each of the 100 steps.",
                "OneCycleLR moves beta1 opposite to the learning rate: 0.95 -> 0.85 at the peak -> 0.95."])
ex4 = Exercise("14_fast_cpu", 4, ("accs",), check_accs,
               ["For each bs: set_seed(0), a fresh fast_cnn(), train_fast(..., bs=bs), then the validation accuracy.",
                "With one epoch the number of steps is ceil(2500 / bs): 79 against 5."])
ex5 = Exercise("14_fast_cpu", 5, ("op_counts",), check_op_counts,
               ["with profile(activities=[ProfilerActivity.CPU]) as prof: fn()",
                "{e.key: e.count for e in prof.key_averages()}; accuracy_on takes bs=250 images at a time."])
