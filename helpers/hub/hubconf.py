"""torch.hub entry points for the course, loaded offline (notebook 11).

    torch.hub.load(str(Path(helpers.__file__).parent / "hub"), "mnist_cnn", source="local")

torch.hub imports this file and offers every public callable in it as an entry point, so it
imports only modules (never classes or functions) at top level.
"""

import collections

from torch import nn

dependencies = ["torch"]


def mnist_cnn(pretrained: bool = False, num_classes: int = 10, p_drop: float = 0.2) -> nn.Sequential:
    """The course's small MNIST CNN (notebook 11), freshly initialised: (bs, 784) -> (bs, num_classes).

    It has two children, ``features`` (bs, 784) -> (bs, 64) and ``head`` (dropout, then a linear layer).
    No weights are published for it, so ``pretrained=True`` raises ValueError: train it, or load a
    state_dict you saved, instead.
    """
    if pretrained:
        raise ValueError("mnist_cnn has no published weights; call it with pretrained=False and "
                         "load a state_dict you trained (see notebook 11)")
    features = nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),                          # (bs, 784) -> (bs, 1, 28, 28)
        nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),   # (bs, 16, 14, 14)
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),  # (bs, 32, 7, 7)
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),  # (bs, 64, 4, 4)
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),                 # (bs, 64)
    )
    head = nn.Sequential(nn.Dropout(p_drop), nn.Linear(64, num_classes))
    return nn.Sequential(collections.OrderedDict(features=features, head=head))
