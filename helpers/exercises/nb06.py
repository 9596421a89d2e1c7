"""Exercises of notebook 06 (``06_optim``): weight decay as a penalty, Adam by hand, a schedule, momentum's step,
parameter groups without decay on one-dimensional parameters."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from helpers.exercises import Exercise, Incorrect, ____  # noqa: F401  (____ is what student copies fill in)


def small_problem(seed: int) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    torch_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    model = nn.Linear(6, 3)
    torch.random.set_rng_state(torch_state)
    return model, torch.randn(16, 6, generator=g), torch.randint(0, 3, (16,), generator=g)


def check_penalty_step(penalty_step) -> None:
    for seed, (lr, wd) in enumerate([(0.5, 0.01), (0.1, 0.3), (1.0, 0.0)]):
        model, xb, yb = small_problem(seed)
        expected = copy.deepcopy(model)
        opt = torch.optim.SGD(expected.parameters(), lr=lr, weight_decay=wd)
        F.cross_entropy(expected(xb), yb).backward()
        opt.step()
        penalty_step(model, F.cross_entropy, xb, yb, lr, wd)
        for (name, p), q in zip(model.named_parameters(), expected.parameters()):
            if not torch.allclose(p, q, rtol=1e-5, atol=1e-7):
                raise Incorrect(f"with lr={lr}, wd={wd} the {name} after your step differs from SGD(weight_decay=wd)'s "
                                f"by up to {(p - q).abs().max().item():.3g}: the penalty is wd / 2 * sum of p ** 2")


def check_adam_step(adam_step) -> None:
    g = torch.Generator().manual_seed(0)
    p0 = torch.randn(4, 3, generator=g)
    ref = p0.clone().requires_grad_()
    opt = torch.optim.Adam([ref], lr=1e-3)
    p, m, v = p0.clone(), torch.zeros(4, 3), torch.zeros(4, 3)
    for t in range(1, 4):
        grad = torch.randn(4, 3, generator=g) * 10 ** -t
        ref.grad = grad.clone()
        opt.step()
        out = adam_step(p, grad, m, v, t)
        if not (isinstance(out, tuple) and len(out) == 3):
            raise Incorrect("adam_step must return the new (p, m, v)")
        p, m, v = out
        if not torch.allclose(p, ref.detach(), rtol=1e-6, atol=1e-9):
            raise Incorrect(f"after step {t} the parameters differ from optim.Adam's by up to "
                            f"{(p - ref.detach()).abs().max().item():.3g}: check the bias corrections 1 - beta ** t")


def check_used_lrs(used_lrs) -> None:
    want = [0.5, 0.05]  # StepLR(step_size=1, gamma=0.1) over 2 epochs
    got = [float(lr) for lr in used_lrs]

    def same(a: list[float], b: list[float]) -> bool:
        return len(a) == len(b) and all(abs(x - y) <= 1e-9 * abs(y) for x, y in zip(a, b))

    if same(got, want):
        return
    if len(got) != len(want):
        raise Incorrect(f"used_lrs is {got}: train for 2 epochs and append one rate at the start of each epoch")
    if same(got, [0.5, 0.5]):
        raise Incorrect("used_lrs is [0.5, 0.5]: the rate never changed; call scheduler.step() once after each epoch")
    if same(got, [0.05, 0.005]):
        raise Incorrect("used_lrs is [0.05, 0.005]: you read the rate after scheduler.step(); read "
                        "opt.param_groups[0]['lr'] at the start of each epoch")
    raise Incorrect(f"used_lrs is {got}, expected {want}: read opt.param_groups[0]['lr'] before each epoch and "
                    "call scheduler.step() after it")


def check_make_opt(make_opt) -> None:
    state = torch.random.get_rng_state()  # building the model draws weights; the notebook's stream stays as it was
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    torch.random.set_rng_state(state)
    lr, wd = 0.1, 0.05
    opt = make_opt(model, lr, wd)
    if not isinstance(opt, torch.optim.SGD):
        raise Incorrect(f"make_opt must return an optim.SGD, not {type(opt).__name__}")
    group_of = {id(p): g for g in opt.param_groups for p in g["params"]}
    named = list(model.named_parameters())
    if set(group_of) - {id(p) for _, p in named}:
        raise Incorrect("the optimiser holds tensors that are not the model's parameters: use model.parameters()")
    for name, p in named:
        group = group_of.get(id(p))
        if group is None:
            raise Incorrect(f"the parameter {name}, of shape {tuple(p.shape)}, is in no group: every parameter "
                            "belongs in exactly one")
        want = wd if p.ndim >= 2 else 0.0
        if group["weight_decay"] != want:
            what = "a weight matrix: decay it" if p.ndim >= 2 else "one-dimensional: no decay for it"
            raise Incorrect(f"{name}, of shape {tuple(p.shape)}, has weight_decay {group['weight_decay']}, expected "
                            f"{want} ({what}); BatchNorm's weight is one-dimensional too")
        if group["lr"] != lr or group["momentum"] != 0.9:
            raise Incorrect(f"{name} has lr {group['lr']} and momentum {group['momentum']}, expected lr {lr}, "
                            "momentum 0.9")
    before = [p.detach().clone() for _, p in named]
    for _, p in named:
        p.grad = torch.zeros_like(p)
    opt.step()  # zero gradients: only the decay moves anything
    for (name, p), p0 in zip(named, before):
        expected = p0 * (1 - lr * wd) if p.ndim >= 2 else p0
        if not torch.allclose(p.detach(), expected):
            raise Incorrect(f"a step with zero gradients moved {name} to other values than "
                            f"{'p * (1 - lr * wd)' if p.ndim >= 2 else 'its old ones'}")


ex1 = Exercise("06_optim", 1, ("penalty_step",), check_penalty_step,
               ["The gradient of wd / 2 * p ** 2 is wd * p: what SGD's weight_decay adds to every gradient.",
                "Inside penalty_step: loss = loss_fn(model(xb), yb) + wd / 2 * sum((p ** 2).sum() for p in "
                "model.parameters()); backward; then p -= lr * p.grad under torch.no_grad()."])
ex2 = Exercise("06_optim", 2, ("adam_step",), check_adam_step,
               ["m and v are running averages; divide them by 1 - beta1 ** t and 1 - beta2 ** t before using them.",
                "p = p - lr * m_hat / (v_hat.sqrt() + eps); return p, m, v."])
ex3 = Exercise("06_optim", 3, ("used_lrs",), check_used_lrs,
               ["StepLR(step_size=1, gamma=0.1) multiplies the rate by 0.1 at every scheduler.step().",
                "Append opt.param_groups[0]['lr'] at the start of each of the 2 epochs, before training it."])
ex4 = Exercise("06_optim", 4, hints=[
    "With momentum 0.9 the steps settle at 1 / (1 - 0.9) = 10 gradient steps.",
    "Compare plain SGD at lr 0.2 with momentum at lr 0.02: similar effective step sizes."])
ex5 = Exercise("06_optim", 5, ("make_opt",), check_make_opt,
               ["p.ndim tells a weight matrix (2 or more) from a bias or a BatchNorm weight (1).",
                "optim.SGD([{'params': decay, 'weight_decay': wd}, {'params': no_decay, 'weight_decay': 0.0}], "
                "lr=lr, momentum=0.9)"])
