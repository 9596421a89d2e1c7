"""Exercises of notebook 05 (``05_nn``): a stable log-softmax, a hidden layer, counting parameters, ModuleList."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from helpers.exercises import Exercise, Incorrect, ____  # noqa: F401  (____ is what student copies fill in)

MLP_BAR = 0.93  # logistic regression reaches about 0.92 after 2 epochs; one epoch with 128 hidden units is ~0.96


def check_stable_log_softmax(stable_log_softmax) -> None:
    g = torch.Generator().manual_seed(0)
    for logits in (torch.randn(32, 10, generator=g) * 5, torch.randn(1, 3, generator=g), torch.randn(4, 1, generator=g)):
        out = stable_log_softmax(logits)
        if out.shape != logits.shape:
            raise Incorrect(f"for logits of shape {tuple(logits.shape)} the result has shape {tuple(out.shape)}")
        if not torch.allclose(out, F.log_softmax(logits, dim=-1), atol=1e-5):
            raise Incorrect(f"on random logits of shape {tuple(logits.shape)} the result differs from F.log_softmax")
    for big in (torch.tensor([[1000.0, 0.0]]), torch.tensor([[-1000.0, 1000.0, 0.0]])):
        out = stable_log_softmax(big)
        if not torch.isfinite(out).all():
            raise Incorrect(f"stable_log_softmax({big.tolist()}) = {out.tolist()}: subtract the row maximum first")
        if not torch.allclose(out, F.log_softmax(big, dim=-1)):
            raise Incorrect(f"stable_log_softmax({big.tolist()}) = {out.tolist()}, expected "
                            f"{F.log_softmax(big, dim=-1).tolist()}")


def check_mlp(mlp) -> None:
    from helpers.data import load_mnist

    if not isinstance(mlp, nn.Module):
        raise Incorrect(f"mlp must be an nn.Module (the trained nn.Sequential), got {type(mlp).__name__}")
    _, (x_valid, y_valid), _ = load_mnist()
    with torch.no_grad():
        out = mlp(x_valid)
    if out.shape != (len(x_valid), 10):
        raise Incorrect(f"mlp maps (bs, 784) to {tuple(out.shape[1:])} per image, expected 10 scores")
    acc = (out.argmax(dim=1) == y_valid).float().mean().item()
    if acc < MLP_BAR:
        raise Incorrect(f"validation accuracy {acc:.3f}, below {MLP_BAR}: did you train it (fit for one epoch at "
                        "lr = 0.5 with F.cross_entropy)?")


def check_counts(conv_params, lstm_params) -> None:
    for name, got, module in (("conv_params", conv_params, nn.Conv2d(1, 16, kernel_size=3)),
                              ("lstm_params", lstm_params, nn.LSTM(input_size=3, hidden_size=5))):
        want = sum(p.numel() for p in module.parameters())
        if got != want:
            raise Incorrect(f"{name} is {got}, but {module} has {want} parameters: count weights and biases "
                            "(an LSTM has 4 gates, each with input and hidden weights and two biases)")


def check_module_list(hidden_modules) -> None:
    if not isinstance(hidden_modules, nn.Module):
        raise Incorrect("hidden_modules must be the model (an nn.Module) whose layers are in an nn.ModuleList")
    count = sum(p.numel() for p in hidden_modules.parameters())
    want = 784 * 32 + 32 + 32 * 10 + 10
    if count != want:
        raise Incorrect(f"the model shows {count} parameters to parameters(), expected {want}: are its layers in "
                        "an nn.ModuleList?")
    if not any(isinstance(m, nn.ModuleList) for m in hidden_modules.modules()):
        raise Incorrect("the layers are registered, but not through an nn.ModuleList")
    if hidden_modules(torch.zeros(3, 784)).shape != (3, 10):
        raise Incorrect("the model must map (bs, 784) to (bs, 10)")


ex1 = Exercise("05_nn", 1, ("stable_log_softmax",), check_stable_log_softmax,
               ["m = x.max(-1, keepdim=True).values is (bs, 1): it broadcasts over each row.",
                "Return x - m - (x - m).exp().sum(-1, keepdim=True).log()."])
ex2 = Exercise("05_nn", 2, ("mlp",), check_mlp,
               ["Build the Sequential, then call fit(mlp, F.cross_entropy, mlp.parameters(), lr=0.5, epochs=1).",
                "Seed first (set_seed(0)) so your result repeats."])
ex3 = Exercise("05_nn", 3, ("conv_params", "lstm_params"), check_counts,
               ["Conv2d: out_channels * in_channels * k * k weights plus out_channels biases.",
                "LSTM: 4 gates * (hidden * input + hidden * hidden + 2 * hidden)."])
ex4 = Exercise("05_nn", 4, ("hidden_modules",), check_module_list,
               ["A plain list is invisible to nn.Module: parameters() finds nothing in it.",
                "self.layers = nn.ModuleList([nn.Linear(784, 32), nn.Linear(32, 10)])."])
