"""The models the benchmark times that come from a notebook, copied verbatim from it.

``Mnist_CNN`` is notebook 09's nn_tutorial CNN (``tests/test_promotion.py`` checks the copy against the notebook and
that both train alike). It takes images, (bs, 1, 28, 28): the sections pass ``bench.common.images(x)``.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn


class Mnist_CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1)

    def forward(self, xb):               # (bs, 1, 28, 28)
        xb = F.relu(self.conv1(xb))      # (bs, 16, 14, 14)
        xb = F.relu(self.conv2(xb))      # (bs, 16, 7, 7)
        xb = F.relu(self.conv3(xb))      # (bs, 10, 4, 4)
        xb = F.avg_pool2d(xb, 4)         # (bs, 10, 1, 1)
        return xb.view(-1, xb.size(1))   # (bs, 10)
