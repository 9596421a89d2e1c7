"""Exercises of notebook 10 (``10_gpu``): move anything, a CPU-mapped checkpoint, batches on the device, the cost
of one operation, and halving the batch size until a step fits in memory."""

from __future__ import annotations

import torch

from helpers.exercises import Exercise, Incorrect, ____  # noqa: F401  (____ is what student copies fill in)

# A device every machine has that is not the CPU: tensors moved to "meta" keep their shape but hold no data.
ELSEWHERE = torch.device("meta")


def check_to_device(to_device) -> None:
    batch = {"images": torch.zeros(2, 1, 4, 4), "labels": torch.tensor([1, 2]),
             "extra": ("name.png", [torch.ones(3), 7, 0.5]), "nested": {"mask": torch.ones(2, dtype=torch.bool)}}
    moved = to_device(batch, ELSEWHERE)
    if not isinstance(moved, dict) or set(moved) != set(batch):
        raise Incorrect("a dict must come back as a dict with the same keys")
    tensors = [moved["images"], moved["labels"], moved["extra"][1][0], moved["nested"]["mask"]]
    if not all(isinstance(t, torch.Tensor) and t.device == ELSEWHERE for t in tensors):
        raise Incorrect("not every tensor was moved: recurse into dicts, lists and tuples")
    if not isinstance(moved["extra"], tuple) or not isinstance(moved["extra"][1], list):
        raise Incorrect("keep each container's type: a tuple stays a tuple, a list a list")
    if moved["extra"][0] != "name.png" or moved["extra"][1][1:] != [7, 0.5]:
        raise Incorrect("strings and numbers must come back unchanged")


def check_state(state) -> None:
    if not isinstance(state, dict) or not state:
        raise Incorrect("state must be the dict torch.load returned")
    if off := [k for k, v in state.items() if not (isinstance(v, torch.Tensor) and v.device.type == "cpu")]:
        raise Incorrect(f"{off[0]} is not a tensor on the CPU: load with map_location='cpu'")


def check_device_batches(device_batches) -> None:
    x, y = torch.arange(50.0).view(10, 5), torch.arange(10)
    plain = list(device_batches(x, y, 4, False))
    if [len(b[1]) for b in plain] != [4, 4, 2] or not torch.equal(plain[0][0], x[:4]) or not torch.equal(plain[2][1], y[8:]):
        raise Incorrect("without shuffling, 10 samples in batches of 4 must come as x[0:4], x[4:8], x[8:10] with "
                        "their labels")
    shuffled = list(device_batches(x, y, 4, True))
    labels = torch.cat([b[1] for b in shuffled])
    if sorted(labels.tolist()) != list(range(10)):
        raise Incorrect("a shuffled pass must visit every sample exactly once")
    if any(not torch.equal(xb, x[yb]) for xb, yb in shuffled):
        raise Incorrect("a shuffled batch's images and labels must stay together (index both with the same indices)")


def check_per_op(per_op_seconds) -> None:
    seconds = per_op_seconds(torch.device("cpu"), 200)
    if not isinstance(seconds, float) or not 0 < seconds < 1e-2:
        raise Incorrect(f"per_op_seconds(cpu, 200) returned {seconds!r}: expected the seconds per addition, a float "
                        "between 0 and 0.01 (time the loop, then divide by n)")
    few = min([seconds] + [per_op_seconds(torch.device("cpu"), 200) for _ in range(2)])  # the least disturbed run
    more = min(per_op_seconds(torch.device("cpu"), 2000) for _ in range(3))
    if more > 4 * few:  # ten times the additions: the total grows tenfold, the cost of one addition does not
        raise Incorrect(f"per_op_seconds(cpu, 2000) is {more / few:.1f} times per_op_seconds(cpu, 200): the time "
                        "of one addition should not grow with n; divide the loop's time by n")


class Device:
    """A stand-in for a device with room for ``room`` images: a step of more raises torch.OutOfMemoryError."""

    def __init__(self, room: int, error: type[Exception] = torch.OutOfMemoryError):
        self.room, self.error, self.tried = room, error, []

    def step(self, bs: int) -> None:
        self.tried.append(bs)
        if len(self.tried) > 64:
            raise Incorrect(f"largest_batch kept trying after {self.tried[:6]}...: stop once bs reaches 0")
        if bs > self.room:
            raise self.error(f"pretend: a batch of {bs} does not fit")


def check_largest_batch(largest_batch) -> None:
    for room, bs, expected in ((100, 512, [512, 256, 128, 64]), (1000, 512, [512]), (30, 96, [96, 48, 24]),
                               (1, 7, [7, 3, 1])):
        device = Device(room)
        got = largest_batch(device.step, bs)
        if got != expected[-1] or device.tried != expected:
            raise Incorrect(f"with room for {room} images, starting at bs {bs}: you tried {device.tried} and returned "
                            f"{got!r}; halving should try {expected} and return {expected[-1]}")
    device = Device(0)
    try:
        got = largest_batch(device.step, 8)
    except Incorrect:
        raise
    except Exception:  # an error of its own, or the last out-of-memory error raised again: both say "nothing fits"
        got = None
    if got is not None:
        raise Incorrect(f"when not even a batch of 1 fits (tried {device.tried}), largest_batch returned {got!r}: "
                        "raise an error of your own instead, after trying bs 1")
    if device.tried != [8, 4, 2, 1]:
        raise Incorrect(f"when nothing fits, bs 8 should try [8, 4, 2, 1] before giving up; you tried {device.tried}")
    device = Device(100, error=ValueError)
    try:
        got = largest_batch(device.step, 512)
    except ValueError:
        return
    raise Incorrect(f"a ValueError (a bug, not a size problem) was caught and largest_batch returned {got!r}: catch "
                    "only torch.OutOfMemoryError, not RuntimeError or Exception")


ex1 = Exercise("10_gpu", 1, ("to_device",), check_to_device,
               ["Tensors: obj.to(device). Dicts: a new dict of moved values. Lists and tuples: type(obj)(moved values).",
                "Anything else comes back as it is: that ends the recursion."])
ex2 = Exercise("10_gpu", 2, ("state",), check_state,
               ["torch.save(model.state_dict(), path) inside a tempfile.TemporaryDirectory().",
                "state = torch.load(path, map_location='cpu', weights_only=True)"])
ex3 = Exercise("10_gpu", 3, ("device_batches",), check_device_batches,
               ["Make the order once per pass: torch.randperm(len(x), device=x.device) or torch.arange.",
                "Yield (x[idx[i:i + bs]], y[idx[i:i + bs]]) for i in range(0, len(x), bs)."])
ex4 = Exercise("10_gpu", 4, ("per_op_seconds",), check_per_op,
               ["Warm up once, synchronise, start the clock, run n additions, synchronise, stop the clock.",
                "Return (time.perf_counter() - start) / n."])
ex5 = Exercise("10_gpu", 5, ("largest_batch",), check_largest_batch,
               ["A loop: try try_step(bs) and return bs; in `except torch.OutOfMemoryError:` empty the cache, bs //= 2.",
                "Loop while bs >= 1; after the loop nothing fitted: raise RuntimeError(...)."])
