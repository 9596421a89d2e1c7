"""What notebook 12 logs comes back from TensorBoard's event files exactly as stored: scalars rounded to float32,
image bytes, the traced graph, the projector's files (sprite size included), add_hparams' protobuf fields and
add_figure's image. Each test builds its own small log, so nothing depends on the notebook's training."""

from __future__ import annotations

import math
import re
import warnings
from io import BytesIO

import numpy as np
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2
from torch import nn
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import make_grid


def read(run_dir) -> EventAccumulator:
    reader = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0})
    reader.Reload()
    return reader


def test_scalars_come_back_as_the_nearest_float32_with_their_steps(tmp_path):
    values = [0.1, 1 / 3, 2.0**-30, 12345.678901]
    with SummaryWriter(tmp_path) as w:
        for step, v in zip((0, 100, 200, 300), values):
            w.add_scalar("loss/train", v, step)
    events = read(tmp_path).Scalars("loss/train")
    assert [e.step for e in events] == [0, 100, 200, 300]
    assert [e.value for e in events] == [float(np.float32(v)) for v in values]
    assert events[0].value == 0.10000000149011612 != 0.1  # the rounding is real


def test_an_image_comes_back_as_exactly_the_bytes_add_image_made(tmp_path):
    grid = make_grid(torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0)), nrow=4)  # (3, 122, 122)
    with SummaryWriter(tmp_path) as w:
        w.add_image("batch", grid, 7)
    img = read(tmp_path).Images("batch")[-1]
    pixels = np.array(Image.open(BytesIO(img.encoded_image_string)))
    assert (img.step, img.width, img.height) == (7, grid.shape[2], grid.shape[1])
    assert (pixels == (grid.permute(1, 2, 0).numpy() * 255).clip(0, 255).astype(np.uint8)).all()  # truncated, lossless


def test_the_graph_names_every_module_and_its_aten_operations(tmp_path):
    model = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 4, 3, stride=2), nn.ReLU(), nn.Flatten(),
                          nn.Linear(4 * 13 * 13, 10))
    with SummaryWriter(tmp_path) as w, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w.add_graph(model, torch.zeros(2, 784))
    assert all(re.match(r"`torch\.jit\.trace(_method)?` is deprecated", str(c.message)) for c in caught)
    graph = read(tmp_path).Graph()
    modules = {node.name.split("/")[1] for node in graph.node if node.name.startswith("Sequential/")}
    ops = {node.op for node in graph.node if node.op.startswith("aten::")}
    assert modules == {"Unflatten[0]", "Conv2d[1]", "ReLU[2]", "Flatten[3]", "Linear[4]"}
    assert {"aten::_convolution", "aten::relu", "aten::linear"} <= ops


def test_the_projector_files_hold_labels_features_and_a_square_sprite(tmp_path):
    n = 50
    features = torch.randn(n, 8, generator=torch.Generator().manual_seed(1))
    labels = [i % 10 for i in range(n)]
    with SummaryWriter(tmp_path) as w:
        w.add_embedding(features, metadata=labels, label_img=torch.rand(n, 1, 28, 28), global_step=42, tag="feats")
    emb = tmp_path / "00042" / "feats"
    assert (emb / "metadata.tsv").read_text().splitlines() == [str(y) for y in labels]
    vectors = torch.from_numpy(np.loadtxt(emb / "tensors.tsv", delimiter="\t", dtype=np.float32))
    torch.testing.assert_close(vectors, features, rtol=0, atol=0)  # to the last bit
    with Image.open(emb / "sprite.png") as sprite:
        assert sprite.size == (math.ceil(math.sqrt(n)) * 28,) * 2  # 8 tiles of 28 pixels per side
    config = (tmp_path / "projector_config.pbtxt").read_text()
    assert 'tensor_path: "00042/feats/tensors.tsv"' in config and "single_image_dim: 28" in config


def test_add_hparams_stores_the_hyperparameters_as_plugin_data_and_the_metrics_as_scalars(tmp_path):
    with SummaryWriter(tmp_path / "lr=0.1") as w:
        w.add_scalar("accuracy/valid", 0.9, 10)
        w.add_hparams({"lr": 0.1, "bs": 64, "opt": "sgd"}, {"hparam/valid_acc": 0.97}, run_name=".")
    assert len(list((tmp_path / "lr=0.1").glob("events.out.tfevents.*"))) == 2  # the run's own directory: "."
    reader = read(tmp_path / "lr=0.1")
    assert reader.Scalars("hparam/valid_acc")[0].value == float(np.float32(0.97))
    content = reader.PluginTagToContent("hparams")
    assert set(content) == {"_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"}
    hparams = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    values = hparams.session_start_info.hparams
    assert (values["lr"].number_value, values["bs"].number_value, values["opt"].string_value) == (0.1, 64, "sgd")


def test_add_figure_logs_the_figure_at_its_size_in_pixels(tmp_path):
    from matplotlib.figure import Figure  # no pyplot: no backend, nothing left open

    fig = Figure(figsize=(5, 4), dpi=100)
    fig.subplots().imshow(np.eye(10))
    with SummaryWriter(tmp_path) as w:
        w.add_figure("confusion_matrix", fig, global_step=3)
    img = read(tmp_path).Images("confusion_matrix")[-1]
    pixels = np.array(Image.open(BytesIO(img.encoded_image_string)))
    assert (img.step, img.width, img.height) == (3, 500, 400) and pixels.shape == (400, 500, 3)  # RGB
