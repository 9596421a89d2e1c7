"""Exercises of notebook 05 (``05_nn``): a stable log-softmax, a hidden layer, counting parameters, ModuleList,
initialising a network with ``apply``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from helpers.exercises import Exercise, Incorrect, NotAttempted, ____, mnist_rows  # noqa: F401  (____ is what student copies fill in)

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
    if not isinstance(mlp, nn.Module):
        raise Incorrect(f"mlp must be an nn.Module (the trained nn.Sequential), got {type(mlp).__name__}")
    x_valid, y_valid = mnist_rows(50000, 60000)  # load_mnist's validation split
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


def check_init_fn(init_fn) -> None:
    state = torch.random.get_rng_state()  # the check draws weights; the notebook's random stream stays as it was
    try:
        torch.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.ReLU(), nn.Flatten(),
                              nn.Linear(64 * 6 * 6, 256), nn.ReLU(), nn.Linear(256, 10))
        for m in model.modules():
            try:
                init_fn(m)
            except NotAttempted:
                raise
            except Exception as e:
                name = type(m).__name__ if list(m.children()) else repr(m)
                raise Incorrect(f"init_fn raised {type(e).__name__} on {name}: initialise only nn.Linear and nn.Conv2d "
                                "(test with isinstance) and leave every other module as it is") from None
    finally:
        torch.random.set_rng_state(state)
    bn = model[1]
    if not (torch.equal(bn.weight, torch.ones(64)) and torch.equal(bn.bias, torch.zeros(64))):
        raise Incorrect(f"init_fn changed the weight or bias of {bn}: leave every module but nn.Linear and nn.Conv2d "
                        "as it is (BatchNorm starts at weight 1, bias 0)")
    for m in (model[0], model[4], model[6]):
        ratio = m.weight.var().item() * m.weight[0].numel()  # fan-in: the inputs of one output unit
        if not 1.7 < ratio < 2.3:
            raise Incorrect(f"the weights of {m} have variance x fan-in {ratio:.2f}, expected 2: "
                            "nn.init.kaiming_normal_(m.weight, nonlinearity='relu') for every nn.Linear and nn.Conv2d")
        if not torch.equal(m.bias, torch.zeros_like(m.bias)):
            raise Incorrect(f"the bias of {m} is not zero: nn.init.zeros_(m.bias)")


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
ex5 = Exercise("05_nn", 5, ("init_fn",), check_init_fn,
               ["apply calls init_fn on every module, ReLU and BatchNorm2d included: act only when "
                "isinstance(m, (nn.Linear, nn.Conv2d)).",
                "nn.init.kaiming_normal_(m.weight, nonlinearity='relu'); nn.init.zeros_(m.bias)."])
