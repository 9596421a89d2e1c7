"""Teach first, then promote: code written inline in a notebook is the same code in its module, and behaves the same.

One row per promotion: the notebook, the module, the names it promotes, and which of the notebook's definitions
counts: "only" (it must be defined exactly once) or "last" (built step by step; the last definition is the final
one). Each name's source must equal the module's, character for character. Then the notebook's definitions, run in
a fresh namespace holding only the module's own imports, must give exactly the results of the module's on a small
problem (``exercise``). Promoting a new helper is one more row.
"""

from __future__ import annotations

import __future__
import ast
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import pytest
import torch
import torch.nn.functional as F

from helpers.seed import set_seed
from tests.test_fast import mnist_images
from tests.test_train import run_fit
from tools.nbtools import NOTEBOOK_DIR, definition_sources


def train_08(fns: dict) -> tuple:
    """Notebook 08's loop: get_data and fit on a seeded toy problem; the history and the trained weights."""
    history, model = run_fit(fns)
    return history, model.weight.tolist(), model.bias.tolist()


def fast_14(fns: dict) -> list[float]:
    """Notebook 14's recipe: train_fast on fast_cnn() for one epoch of 256 MNIST images; the loss of every step."""
    x, y = mnist_images(256)
    set_seed(0)
    return fns["train_fast"](fns["fast_cnn"](), x, y, bs=64, bf16=False)


def cnn_09(fns: dict) -> tuple:
    """Notebook 09's nn_tutorial CNN: four SGD steps with momentum on seeded random images; losses and final scores."""
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(128, 1, 28, 28, generator=g), torch.randint(0, 10, (128,), generator=g)
    set_seed(0)
    model = fns["Mnist_CNN"]()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for xb, yb in zip(x.split(32), y.split(32)):
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(loss.item())
    return losses, model(x[:8]).tolist()


@dataclass(frozen=True)
class Promotion:
    notebook: str  # stem, in notebooks/
    module: str
    names: tuple[str, ...]
    which: str  # "only" or "last"
    exercise: Callable[[dict], object]  # called with a namespace of the definitions; returns comparable results

    def __str__(self) -> str:
        return f"{self.notebook}->{self.module}"


PROMOTIONS = [
    Promotion("08_dataloader", "helpers.train", ("accuracy", "loss_batch", "batches", "get_data", "evaluate", "fit"),
              "only", train_08),
    Promotion("14_fast_cpu", "helpers.fast",
              ("to_images", "conv_block", "fast_cnn", "train_fast", "accuracy_on", "bf16_is_fast"), "last", fast_14),
    # the benchmark times the notebook's CNN: bench/models.py holds the one copy it imports
    Promotion("09_cnn", "bench.models", ("Mnist_CNN",), "only", cnn_09),
]


def notebook_definitions(row: Promotion) -> dict[str, str]:
    """The source of each promoted name as the notebook defines it (its only, or its last, definition)."""
    path = NOTEBOOK_DIR / f"{row.notebook}.ipynb"
    found = {name: sources for name, sources in definition_sources(path).items() if name in row.names}
    missing = set(row.names) - set(found)
    assert not missing, f"{path.name} has no inline definition of {sorted(missing)}"
    if row.which == "only":
        twice = [name for name, sources in found.items() if len(sources) > 1]
        assert not twice, f"{path.name} defines {twice} more than once"
    return {name: sources[-1] for name, sources in found.items()}


def imports_only(module: ModuleType) -> tuple[dict, int]:
    """A fresh namespace holding only what ``module`` imports at its top level, and its ``__future__`` flags."""
    namespace: dict = {}
    flags = 0
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            flags |= sum(getattr(__future__, alias.name).compiler_flag for alias in node.names)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            exec(compile(ast.Module([node], type_ignores=[]), module.__file__, "exec"), namespace)
    return namespace, flags


@pytest.mark.parametrize(("row", "name"), [(row, name) for row in PROMOTIONS for name in row.names],
                         ids=[f"{row}.{name}" for row in PROMOTIONS for name in row.names])
def test_notebook_definition_is_a_verbatim_copy_of_the_module(row, name):
    module = importlib.import_module(row.module)
    assert notebook_definitions(row)[name] + "\n" == inspect.getsource(getattr(module, name)), (
        f"{'the last ' if row.which == 'last' else ''}{name} in {row.notebook}.ipynb and the one in "
        f"{module.__file__} differ: copy one to the other and rerun `make outputs`"
    )


@pytest.mark.parametrize("row", PROMOTIONS, ids=str)
def test_notebook_definitions_behave_exactly_like_the_module(row):
    module = importlib.import_module(row.module)
    namespace, flags = imports_only(module)
    for name, source in notebook_definitions(row).items():
        exec(compile(source, f"{row.notebook}.ipynb:{name}", "exec", flags=flags, dont_inherit=True), namespace)
    for name in row.names:  # the notebook's definitions call each other, never the module's
        assert namespace[name] is not getattr(module, name)
        if inspect.isfunction(namespace[name]):
            assert namespace[name].__globals__ is namespace
    assert row.exercise(namespace) == row.exercise(vars(module))
