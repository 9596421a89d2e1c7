"""Exercises of notebook 13 (``13_distributed``): a sampler's shards, why DDP averages, DDP by hand, a bigger world,
and all-reducing counts."""

from __future__ import annotations

import math

import torch
from torch.utils.data import TensorDataset
from torch.utils.data.distributed import DistributedSampler

from helpers.exercises import Exercise, Incorrect, ____  # noqa: F401  (____ is what student copies fill in)


def check_shards(padded, dropped) -> None:
    ds = TensorDataset(torch.arange(10))
    for name, got, drop in (("padded", padded, False), ("dropped", dropped, True)):
        want = [list(DistributedSampler(ds, num_replicas=3, rank=r, shuffle=False, drop_last=drop)) for r in range(3)]
        got = [list(map(int, shard)) for shard in got]
        if got != want:
            raise Incorrect(f"{name} is {got}; rank r takes every 3rd index starting at r"
                            + (", after padding the 10 indices to 12 with 0 and 1" if not drop else
                               ", after cutting the 10 indices to 9"))


def check_grad_w(grad_w) -> None:
    full, first, second = grad_w(0, 64), grad_w(0, 32), grad_w(32, 64)
    if not isinstance(full, torch.Tensor) or full.dim() != 2:
        raise Incorrect("grad_w(lo, hi) must return the gradient of the first layer's weight, a 2-d tensor")
    if torch.allclose(first + second, full, rtol=1e-4, atol=1e-7) and not torch.allclose(full, 0 * full):
        raise Incorrect("the halves' gradients add up to the full batch's: that is the gradient of a summed loss; "
                        "use the mean loss over samples lo..hi-1 (cross_entropy's default)")
    if not torch.allclose((first + second) / 2, full, rtol=1e-4, atol=1e-7):
        raise Incorrect("the average of the two halves' gradients should equal the full batch's gradient: is "
                        "grad_w(lo, hi) the gradient of the mean loss over exactly samples lo..hi-1?")
    if torch.allclose((grad_w(0, 48) + grad_w(48, 64)) / 2, full, rtol=1e-4, atol=1e-7):
        raise Incorrect("a 48/16 split averaged as two halves should NOT give the full-batch gradient")


def check_replicas(replicas, small) -> None:
    from helpers.distributed import single_process_reference

    if len(replicas) != 2:
        raise Incorrect(f"replicas must hold the two models, got {len(replicas)}")
    first, second = (m.state_dict() for m in replicas)
    if any(not torch.equal(first[k], second[k]) for k in first):
        raise Incorrect("the two replicas differ: after each backward, give both the average of their gradients")
    reference = single_process_reference(small)["state_dict"]
    worst = max((first[k] - reference[k]).abs().max().item() for k in reference)
    if worst > 1e-5:
        raise Incorrect(f"the replicas end up to {worst:.3g} away from single_process_reference(small): average the "
                        "gradients (sum / 2), and step once per global step")


def check_bigger_world(held, per_rank) -> None:
    if [float(v) for v in held] != [6.0, 6.0, 6.0]:
        raise Incorrect(f"held is {list(map(float, held))}: with 3 ranks contributing 1, 2 and 3, every rank holds 6")
    if per_rank != math.ceil(4096 / 3):
        raise Incorrect(f"per_rank is {per_rank}; 4096 samples padded to a multiple of 3 give "
                        f"{math.ceil(4096 / 3)} per rank")


def check_counts(counts) -> None:
    counts = torch.as_tensor(counts, dtype=torch.float64)
    if counts.dim() != 2 or counts.shape[1] != 2 or counts.shape[0] < 2:
        raise Incorrect("counts must be one [correct, seen] row per rank, at least two ranks")
    if (counts[:, 0] > counts[:, 1]).any() or (counts < 0).any() or (counts[:, 1] == 0).any():
        raise Incorrect("each rank's correct count must be between 0 and its (non-zero) number of samples seen")
    exact = (counts[:, 0].sum() / counts[:, 1].sum()).item()
    mean = (counts[:, 0] / counts[:, 1]).mean().item()
    if math.isclose(exact, mean):
        raise Incorrect(f"here both give {exact:.3g}: they differ only when the ranks saw different numbers of samples")


ex1 = Exercise("13_distributed", 1, ("padded", "dropped"), check_shards,
               ["With shuffle=False, rank r takes indices r, r + 3, r + 6, ... of the (padded) list.",
                "Padding repeats indices from the start until the length is a multiple of 3; drop_last cuts instead."])
ex2 = Exercise("13_distributed", 2, ("grad_w",), check_grad_w,
               ["grad_w(lo, hi): torch.autograd.grad(cross_entropy(model(xb[lo:hi]), yb[lo:hi]), model[0].weight)[0].",
                "Each half's mean loss divides by 32: averaging the two halves divides by 64 overall, like the full batch."])
ex3 = Exercise("13_distributed", 3, ("replicas", "small"), check_replicas,
               ["Both replicas start from make_model(small): the same seed gives the same weights.",
                "After both backward passes: for each pair of parameters, p0.grad = p1.grad = (p0.grad + p1.grad) / 2."])
ex4 = Exercise("13_distributed", 4, ("held", "per_rank"), check_bigger_world,
               ["mp.spawn(allreduce_demo, args=(3, workdir), nprocs=3, join=True) inside `with workspace() as workdir:`.",
                "1 + 2 + ... + N = N (N + 1) / 2; a rank gets ceil(4096 / 3) samples after padding."])
ex5 = Exercise("13_distributed", 5, ("counts",), check_counts,
               ["Give the ranks different numbers of samples, e.g. one rank sees 1 image, the other 3.",
                "counts = torch.tensor([[1.0, 1.0], [1.0, 3.0]]): the accuracy is 2/4, the mean of accuracies 2/3."])
