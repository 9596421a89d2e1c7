"""Exercises of notebook 11 (``11_checkpoints_transfer``): numpy's state as plain values, BatchNorm buffers of a
frozen model, two learning rates, a hubconf of your own, and keeping the best weights by validation loss."""

from __future__ import annotations

import importlib.util
import io
import os
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import torch

from helpers.exercises import Exercise, Incorrect, ____  # noqa: F401  (____ is what student copies fill in)


def check_plain_state(np_state) -> None:
    buffer = io.BytesIO()
    torch.save({"np_rng": np_state}, buffer)
    buffer.seek(0)
    try:
        loaded = torch.load(buffer, weights_only=True)["np_rng"]
    except Exception as e:
        raise Incorrect(f"a weights-only load refuses it ({type(e).__name__}): keep only str, int, float and lists "
                        "(keys.tolist())") from None
    if len(loaded) != 5 or loaded[0] != "MT19937" or len(loaded[1]) != 624:
        raise Incorrect("np_state must be the 5 values of np.random.get_state(), its key array turned into a list")
    name, keys, pos, has_gauss, gauss = loaded
    saved = np.random.get_state()
    try:
        np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, gauss))
        first = np.random.rand(3)
        np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, gauss))
        if not np.array_equal(first, np.random.rand(3)):
            raise Incorrect("restoring np_state twice does not repeat np.random.rand(3)")
    finally:
        np.random.set_state(saved)


def check_changed(changed) -> None:
    from torchvision.models import resnet18

    net = resnet18(weights=None)
    buffers = sorted(name for name, _ in net.named_buffers())
    if sorted(changed) != buffers:
        extra = sorted(set(changed) - set(buffers))
        raise Incorrect(f"changed lists {len(changed)} entries; a train-mode forward pass of resnet18 updates exactly "
                        f"its {len(buffers)} BatchNorm buffers" + (f" (not {extra[0]})" if extra else ""))


def check_two_groups(opt) -> None:
    groups = getattr(opt, "param_groups", [])
    if len(groups) != 2:
        raise Incorrect(f"opt has {len(groups)} parameter groups, expected 2: features and head")
    frozen = sum(not p.requires_grad for g in groups for p in g["params"])
    if frozen:
        raise Incorrect(f"{frozen} of opt's parameter tensors are still frozen: unfreeze the model with "
                        "requires_grad_(True), or Adam never changes them")
    # the features are the larger group (convolutions), the head the smaller (one linear layer), in either order
    features, head = sorted(groups, key=lambda g: -sum(p.numel() for p in g["params"]))
    if not abs(features["lr"] * 10 - head["lr"]) <= 1e-12 * head["lr"]:
        raise Incorrect(f"the features' lr is {features['lr']:.3g} and the head's {head['lr']:.3g}: the "
                        "features should get a tenth of the head's")


def entry_points(folder: str) -> list[str]:
    """The entry points torch.hub offers from ``folder/hubconf.py``: its public callables (what torch.hub.list lists)."""
    spec = importlib.util.spec_from_file_location("hubconf_under_check", Path(folder) / "hubconf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return sorted(name for name in dir(module) if callable(getattr(module, name)) and not name.startswith("_"))


def check_hubconf(source) -> None:
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "hubconf.py").write_text(source)
        names = entry_points(d)
        if names != ["tiny_mlp"]:
            raise Incorrect(f"the entry points are {names}, expected ['tiny_mlp'] (private helpers start with _)")
        for hidden, kwargs in ((16, {"hidden": 16}), (32, {})):  # and the default, hidden=32
            mlp = torch.hub.load(d, "tiny_mlp", source="local", **kwargs)
            linears = [m for m in mlp.modules() if isinstance(m, torch.nn.Linear)]
            shapes = [(m.in_features, m.out_features) for m in linears]
            if mlp(torch.zeros(2, 784)).shape != (2, 10) or shapes != [(784, hidden), (hidden, 10)]:
                call = f"tiny_mlp({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
                raise Incorrect(f"{call} has linear layers {shapes}, expected [(784, {hidden}), ({hidden}, 10)]: "
                                "784 -> hidden -> 10, with hidden=32 by default")


ex1 = Exercise("11_checkpoints_transfer", 1, ("np_state",), check_plain_state,
               ["name, keys, pos, has_gauss, gauss = np.random.get_state()",
                "np_state = (name, keys.tolist(), pos, has_gauss, gauss)"])
ex2 = Exercise("11_checkpoints_transfer", 2, ("changed",), check_changed,
               ["Clone the state_dict, run one forward pass under torch.no_grad() in train() mode, compare entry by entry.",
                "Only buffers change: running_mean, running_var and num_batches_tracked of every BatchNorm2d."])
ex3 = Exercise("11_checkpoints_transfer", 3, ("opt",), check_two_groups,
               ["torch.optim.Adam([{'params': ..., 'lr': lr / 10}, {'params': ...}], lr=lr)",
                "The group without its own 'lr' takes the default lr."])
ex4 = Exercise("11_checkpoints_transfer", 4, ("source",), check_hubconf,
               ["A public function is an entry point; a name starting with _ is not.",
                "dependencies = ['torch'] at the top, then _init and tiny_mlp(hidden: int = 32)."])


def check_save_if_better(save_if_better) -> None:
    losses = [0.9, 0.5, 0.7, 0.4, 0.6]  # the validation loss after each epoch; lower is better
    model = torch.nn.Linear(2, 1)
    best, best_index = float("inf"), None
    with tempfile.TemporaryDirectory() as d, mock.patch.object(os, "replace", wraps=os.replace) as replace, \
            mock.patch.object(os, "rename", wraps=os.rename) as rename:
        path = Path(d) / "best.pt"
        for i, loss in enumerate(losses):
            with torch.no_grad():
                model.weight.fill_(i)  # the weights of "epoch" i
            replace.reset_mock()
            rename.reset_mock()
            returned = save_if_better(model, loss, best, path)
            improved = loss < best
            if improved:
                best, best_index = loss, i
            seen = losses[:i + 1]
            if not path.exists():
                raise Incorrect(f"after validation losses {seen}, {path.name} does not exist")
            try:
                state = torch.load(path, weights_only=True)
                saved = state["weight"].flatten()[0].item()
            except Exception:
                raise Incorrect("path does not load as a state_dict with torch.load(path, weights_only=True): save "
                                "model.state_dict(), not the model") from None
            if saved != best_index:
                which = f"saved with loss {losses[int(saved)]}" if saved in range(len(losses)) else "of no call"
                raise Incorrect(f"after validation losses {seen}, path holds the weights {which}, expected those of "
                                f"the lowest loss so far, {losses[best_index]}")
            if improved:
                moves = replace.call_args_list + rename.call_args_list
                if not moves:
                    raise Incorrect("the weights were saved straight to path: a crash halfway through would destroy the "
                                    "last good file; save to a temporary file in the same folder, then os.replace it")
                source, target = (Path(a) for a in moves[-1].args[:2])
                if target != path or source.parent != path.parent:
                    raise Incorrect(f"the temporary file is in {source.parent}, not in the folder of path: os.replace is "
                                    "atomic only within one file system, and only the same folder is sure to be on it")
            if returned != best:
                raise Incorrect(f"after validation losses {seen}, save_if_better returned {returned!r}; return the best "
                                f"(lowest) loss so far, {best}")


ex5 = Exercise("11_checkpoints_transfer", 5, ("save_if_better",), check_save_if_better,
               ["Lower is better: save only if valid_loss < best_loss, with atomic_save(model.state_dict(), path).",
                "Return valid_loss when you saved, best_loss otherwise."])
