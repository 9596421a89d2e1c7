"""Exercises of notebook 11 (``11_checkpoints_transfer``): numpy's state as plain values, BatchNorm buffers of a
frozen model, two learning rates, a hubconf of your own."""

from __future__ import annotations

import importlib.util
import io
import tempfile
from pathlib import Path

import numpy as np
import torch

from helpers.exercises import Exercise, Incorrect, ____  # noqa: F401  (____ is what student copies fill in)


def check_plain_state(np_state) -> None:
    buffer = io.BytesIO()
    torch.save({"np_rng": np_state}, buffer)
    buffer.seek(0)
    try:
        name, keys, pos, has_gauss, gauss = torch.load(buffer, weights_only=True)["np_rng"]
    except Exception as e:
        raise Incorrect(f"a weights-only load refuses it ({type(e).__name__}): keep only str, int, float and lists "
                        "(keys.tolist())") from None
    if name != "MT19937" or len(keys) != 624:
        raise Incorrect("np_state must be np.random.get_state() with its key array turned into a list")
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
    if not abs(groups[0]["lr"] * 10 - groups[1]["lr"]) <= 1e-12 * groups[1]["lr"]:
        raise Incorrect(f"the features' lr is {groups[0]['lr']:.3g} and the head's {groups[1]['lr']:.3g}: the "
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
        mlp = torch.hub.load(d, "tiny_mlp", source="local", hidden=16)
    if mlp(torch.zeros(2, 784)).shape != (2, 10) or mlp[0].out_features != 16:
        raise Incorrect("tiny_mlp(hidden=16) must map (bs, 784) to (bs, 10) through 16 hidden units")


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
