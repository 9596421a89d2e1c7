"""helpers.train: unit tests. That notebook 08's inline definitions equal these and train identically is
checked in ``test_promotion.py``, which uses ``run_fit`` from here."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

import helpers.train
from helpers.seed import set_seed

def toy_problem(n: int = 256, features: int = 5, classes: int = 3) -> tuple[TensorDataset, TensorDataset]:
    """A learnable seeded problem: labels are the argmax of a fixed random linear map; 3/4 train, 1/4 valid."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, features, generator=g)
    y = (x @ torch.randn(features, classes, generator=g)).argmax(dim=1)
    cut = n * 3 // 4
    return TensorDataset(x[:cut], y[:cut]), TensorDataset(x[cut:], y[cut:])


def run_fit(fns, epochs: int = 3, lr: float = 0.1, device=None) -> tuple[list[dict[str, float]], nn.Module]:
    """Seed, build a linear model and SGD, and train the toy problem with ``fns['get_data']`` and ``fns['fit']``."""
    train_ds, valid_ds = toy_problem()
    set_seed(0)
    model = nn.Linear(5, 3)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    train_dl, valid_dl = fns["get_data"](train_ds, valid_ds, bs=16)
    return fns["fit"](model, F.cross_entropy, opt, train_dl, valid_dl, epochs, device=device), model


def test_fit_returns_one_dict_per_epoch_with_the_expected_keys():
    history, _ = run_fit(vars(helpers.train), epochs=4)
    assert len(history) == 4
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    for h in history:
        assert set(h) == {"epoch", "train_loss", "valid_loss", "valid_acc"}
        assert all(isinstance(h[k], float) for k in ("train_loss", "valid_loss", "valid_acc"))
        assert 0.0 <= h["valid_acc"] <= 1.0


def test_loss_falls_on_a_learnable_problem():
    history, _ = run_fit(vars(helpers.train), epochs=20, lr=0.5)
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    assert history[-1]["valid_loss"] < history[0]["valid_loss"]
    assert history[-1]["valid_acc"] >= 0.85


def test_accuracy_and_evaluate_on_a_hand_made_example():
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [5.0, 4.0, 0.0], [0.0, 0.0, 1.0]])
    labels = torch.tensor([0, 1, 1, 2])  # the third row is wrong: 3 of 4 right
    assert helpers.train.accuracy(logits, labels).item() == 0.75
    model = nn.Identity()  # the "model" returns the logits it is given
    model.train()
    dl = DataLoader(TensorDataset(logits, labels), batch_size=3)  # batches of 3 and 1: weighting matters
    loss, acc = helpers.train.evaluate(model, F.cross_entropy, dl)
    assert acc == 0.75
    assert loss == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-6)
    assert not model.training  # evaluate switches to eval mode


def test_evaluate_records_no_graph():
    seen = []
    model = nn.Linear(2, 2)
    model.register_forward_hook(lambda module, args, out: seen.append(out.requires_grad))
    helpers.train.evaluate(model, F.cross_entropy, [(torch.randn(4, 2), torch.tensor([0, 1, 0, 1]))])
    assert seen == [False]


def test_loss_batch_without_opt_leaves_parameters_unchanged():
    set_seed(0)
    model = nn.Linear(5, 3)
    before = [p.detach().clone() for p in model.parameters()]
    xb, yb = torch.randn(8, 5), torch.randint(0, 3, (8,))
    loss, n = helpers.train.loss_batch(model, F.cross_entropy, xb, yb)
    assert isinstance(loss, float) and n == 8
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before))
    assert all(p.grad is None for p in model.parameters())  # no backward pass either


def test_loss_batch_with_opt_takes_one_step_and_clears_the_gradients():
    set_seed(0)
    model = nn.Linear(5, 3)
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    helpers.train.loss_batch(model, F.cross_entropy, torch.randn(8, 5), torch.randint(0, 3, (8,)), opt)
    assert all(not torch.equal(p, b) for p, b in zip(model.parameters(), before))
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())


def test_get_data_shuffles_training_only_and_doubles_the_validation_batch():
    train_ds, valid_ds = toy_problem()
    train_dl, valid_dl = helpers.train.get_data(train_ds, valid_ds, bs=16)
    assert isinstance(train_dl.sampler.sampler, torch.utils.data.RandomSampler) and train_dl.sampler.batch_size == 16
    assert isinstance(valid_dl.sampler.sampler, torch.utils.data.SequentialSampler) and valid_dl.sampler.batch_size == 32
    assert [len(yb) for _, yb in valid_dl] == [32] * (len(valid_ds) // 32) + ([len(valid_ds) % 32] if len(valid_ds) % 32 else [])


def test_batches_gives_the_same_batches_as_a_shuffled_dataloader():
    """Whole-batch indexing changes the speed, not the order: the same seed gives the very same batches."""
    train_ds, _ = toy_problem()
    set_seed(3)
    classic = list(DataLoader(train_ds, batch_size=16, shuffle=True))
    set_seed(3)
    batched = list(helpers.train.batches(train_ds, 16, shuffle=True))
    assert len(batched) == len(classic)
    for (xa, ya), (xb, yb) in zip(batched, classic):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_batches_falls_back_to_sample_by_sample_for_other_datasets():
    class Squares(Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return torch.tensor([float(i)]), i * i

    dl = helpers.train.batches(Squares(), 4, shuffle=False)
    assert dl.batch_size == 4
    assert [yb.tolist() for _, yb in dl] == [[0, 1, 4, 9], [16, 25, 36, 49], [64, 81]]


def test_fit_and_evaluate_reject_empty_loaders():
    model = nn.Linear(2, 2)
    empty = DataLoader(TensorDataset(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long)), batch_size=4)
    with pytest.raises(ValueError, match="no batches"):
        helpers.train.evaluate(model, F.cross_entropy, empty)
    with pytest.raises(ValueError, match="no batches"):
        helpers.train.fit(model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), empty, empty, 1)


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu")])
def test_fit_on_cpu_with_an_explicit_device(device):
    history, model = run_fit(vars(helpers.train), epochs=2, device=device)
    assert len(history) == 2 and next(model.parameters()).device.type == "cpu"
    assert history == run_fit(vars(helpers.train), epochs=2)[0]  # device=None: wherever the model is


class Untouchable:
    """A loader that fails the test if fit reads it: argument errors must come before any work."""

    def __iter__(self):
        raise AssertionError("fit read a batch before checking its arguments")


@pytest.mark.parametrize("epochs", [0, -1, 2.0, "3", None])
def test_fit_rejects_an_epoch_count_that_is_not_a_whole_number_from_1(epochs):
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=rf"fit: epochs must be a whole number, at least 1, not {epochs!r}"):
        helpers.train.fit(model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), Untouchable(),
                          Untouchable(), epochs)


def test_fit_rejects_a_model_without_parameters():
    with pytest.raises(ValueError, match="fit: the model has no parameters to train; did you forget"):
        helpers.train.fit(nn.Sequential(nn.Flatten(), nn.ReLU()), F.cross_entropy, None, Untouchable(), Untouchable(), 1)
