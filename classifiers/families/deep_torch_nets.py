"""The networks of the deep families: deep_v1's basic CNN and deep_v2's ResNet with CBAM or SE attention.

Imports torch at module level: only the deep families' methods import this module. Each network takes
normalised float images (N, 3, H, W) and returns logits; the ONNX wrapper in `deep_torch_common` adds the
uint8 NHWC input and the softmax around it. Global pooling is written as mean/amax over the spatial axes so the
graph exports for any input size.
"""

from __future__ import annotations

import torch
from torch import nn


def _conv_bn_relu(cin: int, cout: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class BasicCNN(nn.Module):
    """`blocks` × (conv-BN-ReLU, conv-BN-ReLU, max-pool), doubling the width each block; dropout; linear head.

    Args:
        n_classes: output logits.
        width: channels of the first block.
        blocks: number of conv blocks (each halves the resolution).
        dropout: dropout before the head (and a quarter of it after each block).
    """

    def __init__(self, n_classes: int, *, width: int = 32, blocks: int = 3, dropout: float = 0.3) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for i in range(blocks):
            cout = width * 2**i
            layers += [
                *_conv_bn_relu(cin, cout),
                *_conv_bn_relu(cout, cout),
                nn.MaxPool2d(2),
                nn.Dropout2d(dropout / 4),
            ]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(cin, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x).mean(dim=(2, 3))
        return self.head(self.dropout(x))


class SqueezeExcitation(nn.Module):
    """Channel attention from the global average (Hu et al., 2018)."""

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        hidden = max(4, channels // reduction)
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = torch.sigmoid(self.mlp(x.mean(dim=(2, 3))))
        return x * weights[:, :, None, None]


class CBAM(nn.Module):
    """Channel then spatial attention (Woo et al., 2018).

    Channel: a shared MLP over the global average and max; spatial: a 7×7 conv over the channel-wise average
    and max maps.
    """

    def __init__(self, channels: int, reduction: int = 8, kernel: int = 7) -> None:
        super().__init__()
        hidden = max(4, channels // reduction)
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, channels))
        self.spatial = nn.Conv2d(2, 1, kernel, padding=kernel // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channel = self.mlp(x.mean(dim=(2, 3))) + self.mlp(x.amax(dim=(2, 3)))
        x = x * torch.sigmoid(channel)[:, :, None, None]
        maps = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.spatial(maps))


class AttentionBlock(nn.Module):
    """A ResNet basic block (two 3×3 convs) with attention on the residual branch before the addition."""

    def __init__(self, cin: int, cout: int, stride: int, attention: str) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *_conv_bn_relu(cin, cout, stride),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
        )
        self.attention = CBAM(cout) if attention == "cbam" else SqueezeExcitation(cout)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.attention(self.body(x)) + self.shortcut(x))


class AttentionResNet(nn.Module):
    """A small ResNet: a 3×3 stem, then stages of `depth` attention blocks; each later stage halves the
    resolution and doubles the width; global average pooling, dropout, linear head.

    Args:
        n_classes: output logits.
        attention: "cbam" or "se".
        width: channels of the stem and the first stage.
        stages: number of stages.
        depth: blocks per stage.
        dropout: dropout before the head.
    """

    def __init__(
        self,
        n_classes: int,
        *,
        attention: str = "cbam",
        width: int = 32,
        stages: int = 3,
        depth: int = 1,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [*_conv_bn_relu(3, width)]
        cin = width
        for stage in range(stages):
            cout = width * 2**stage
            for block in range(depth):
                stride = 2 if stage > 0 and block == 0 else 1
                layers.append(AttentionBlock(cin, cout, stride, attention))
                cin = cout
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(cin, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x).mean(dim=(2, 3))
        return self.head(self.dropout(x))
