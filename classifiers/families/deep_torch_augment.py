"""Stochastic batch augmentation written with torch ops (no torchvision): crop, flip, colour jitter, erasing, mixup.

Imports torch at module level: only the deep families' methods import this module. Every function works on a
whole batch at once, with per-image randomness drawn from an explicit `torch.Generator` (seeded per epoch), so
training is reproducible and the same code runs on the CPU and the GPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

# ITU-R BT.601 luma weights: the grey level colour jitter pivots saturation around.
_LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class AugmentConfig:
    """What to apply to a training batch; every field at its "off" value disables that step.

    Attributes:
        crop_scale: random resized crop keeps between crop_scale and all of the image area (1.0: no crop).
        flip: flip each image left-right with probability 0.5.
        jitter: brightness/contrast/saturation factors drawn from [1 - jitter, 1 + jitter] (0: off).
        erase_prob: probability of erasing one random rectangle per image (0: off).
    """

    crop_scale: float = 1.0
    flip: bool = False
    jitter: float = 0.0
    erase_prob: float = 0.0

    @property
    def is_identity(self) -> bool:
        return self.crop_scale >= 1.0 and not self.flip and self.jitter == 0 and self.erase_prob == 0


def _uniform(n: int, low: float, high: float, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.rand(n, generator=gen, device=device) * (high - low) + low


def random_resized_crop(
    x: torch.Tensor,
    gen: torch.Generator,
    *,
    scale: float = 0.6,
    flip: bool = False,
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
) -> torch.Tensor:
    """Crop a random box of each image (area fraction in [scale, 1], aspect in `ratio`) and resize it back.

    One affine grid sample per batch: the crop, the resize and an optional left-right flip are the same
    bilinear resampling, so images are interpolated once.

    Args:
        x: float images (N, C, H, W).
        gen: the generator every random draw comes from (on x's device).
        scale: smallest kept area fraction (1.0 keeps the whole image, but a flip still applies).
        flip: also flip each image left-right with probability 0.5.
        ratio: range of the box's aspect ratio (width / height), drawn log-uniformly.
    """
    n, device = x.shape[0], x.device
    area = _uniform(n, scale, 1.0, gen, device)
    log_ratio = _uniform(n, math.log(ratio[0]), math.log(ratio[1]), gen, device)
    aspect = torch.exp(log_ratio) if scale < 1.0 else torch.ones(n, device=device)
    width = torch.sqrt(area * aspect).clamp(max=1.0)
    height = torch.sqrt(area / aspect).clamp(max=1.0)
    # box centre in normalised coordinates [-1, 1], chosen so the box stays inside the image
    cx = (torch.rand(n, generator=gen, device=device) * 2 - 1) * (1 - width)
    cy = (torch.rand(n, generator=gen, device=device) * 2 - 1) * (1 - height)
    sign = torch.ones(n, device=device)
    if flip:
        sign = torch.where(torch.rand(n, generator=gen, device=device) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3, device=device, dtype=x.dtype)
    theta[:, 0, 0] = width * sign
    theta[:, 0, 2] = cx
    theta[:, 1, 1] = height
    theta[:, 1, 2] = cy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def horizontal_flip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Flip each image (N, C, H, W) left-right with probability 0.5."""
    chosen = torch.rand(x.shape[0], generator=gen, device=x.device) < 0.5
    return torch.where(chosen[:, None, None, None], x.flip(-1), x)


def colour_jitter(x: torch.Tensor, gen: torch.Generator, strength: float) -> torch.Tensor:
    """Random brightness, contrast and saturation factors in [1 - strength, 1 + strength] per image.

    Args:
        x: float RGB images in [0, 1], (N, 3, H, W).
    """
    n = x.shape[0]
    low, high = max(0.0, 1 - strength), 1 + strength
    factors = [_uniform(n, low, high, gen, x.device)[:, None, None, None] for _ in range(3)]
    luma = torch.tensor(_LUMA, device=x.device, dtype=x.dtype)[None, :, None, None]
    x = x * factors[0]
    grey = (x * luma).sum(1, keepdim=True)
    x = (x - grey.mean((2, 3), keepdim=True)) * factors[1] + grey.mean((2, 3), keepdim=True)
    grey = (x * luma).sum(1, keepdim=True)
    x = (x - grey) * factors[2] + grey
    return x.clamp(0.0, 1.0)


def random_erasing(
    x: torch.Tensor,
    gen: torch.Generator,
    prob: float,
    *,
    area: tuple[float, float] = (0.02, 0.25),
    ratio: tuple[float, float] = (0.3, 3.3),
) -> torch.Tensor:
    """Replace one random rectangle of each chosen image with Gaussian noise (Zhong et al., 2017).

    Args:
        x: normalised float images (N, C, H, W); the noise has their scale (mean 0, std 1).
        prob: probability that an image gets a rectangle.
        area: range of the rectangle's area as a fraction of the image.
        ratio: range of its aspect ratio, drawn log-uniformly.
    """
    n, _, h, w = x.shape
    device = x.device
    chosen = torch.rand(n, generator=gen, device=device) < prob
    fraction = _uniform(n, area[0], area[1], gen, device)
    aspect = torch.exp(_uniform(n, math.log(ratio[0]), math.log(ratio[1]), gen, device))
    eh = (torch.sqrt(fraction / aspect) * h).clamp(1, h)
    ew = (torch.sqrt(fraction * aspect) * w).clamp(1, w)
    y0 = torch.rand(n, generator=gen, device=device) * (h - eh)
    x0 = torch.rand(n, generator=gen, device=device) * (w - ew)
    rows = torch.arange(h, device=device)[None, :, None]
    cols = torch.arange(w, device=device)[None, None, :]
    inside = (
        (rows >= y0[:, None, None])
        & (rows < (y0 + eh)[:, None, None])
        & (cols >= x0[:, None, None])
        & (cols < (x0 + ew)[:, None, None])
    )
    mask = (inside & chosen[:, None, None])[:, None]
    noise = torch.randn(x.shape, generator=gen, device=device, dtype=x.dtype)
    return torch.where(mask, noise, x)


def augment_batch(
    x: torch.Tensor, config: AugmentConfig, gen: torch.Generator, mean: torch.Tensor, std: torch.Tensor
) -> torch.Tensor:
    """Augment and normalise a batch.

    Args:
        x: float RGB images in [0, 1], (N, 3, H, W).
        mean, std: per-channel normalisation, shaped (1, 3, 1, 1).

    Returns:
        The normalised batch, augmented as `config` says (erasing happens after normalisation).
    """
    if config.crop_scale < 1.0:
        x = random_resized_crop(x, gen, scale=config.crop_scale, flip=config.flip)
    elif config.flip:
        x = horizontal_flip(x, gen)
    if config.jitter > 0:
        x = colour_jitter(x, gen, config.jitter)
    x = (x - mean) / std
    if config.erase_prob > 0:
        x = random_erasing(x, gen, config.erase_prob)
    return x


def soft_targets(labels: torch.Tensor, n_classes: int, smoothing: float = 0.0) -> torch.Tensor:
    """One-hot targets (N, C) with label smoothing: the true class gets 1 - smoothing + smoothing / C."""
    targets = F.one_hot(labels, n_classes).to(torch.float32)
    return targets * (1 - smoothing) + smoothing / n_classes


def mixup(
    x: torch.Tensor, targets: torch.Tensor, rng: np.random.Generator, gen: torch.Generator, *, alpha: float, prob: float
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Blend the batch with a shuffled copy of itself (Zhang et al., 2018) with probability `prob`.

    Args:
        x: input batch (N, ...).
        targets: soft targets (N, C).
        rng: draws the per-batch decision and the Beta(alpha, alpha) weight.
        gen: draws the pairing permutation.

    Returns:
        (mixed inputs, mixed targets, lambda); lambda is 1.0 when the batch was left alone.
    """
    if alpha <= 0 or prob <= 0 or rng.random() >= prob:
        return x, targets, 1.0
    lam = float(rng.beta(alpha, alpha))
    order = torch.randperm(x.shape[0], generator=gen, device=x.device)
    return lam * x + (1 - lam) * x[order], lam * targets + (1 - lam) * targets[order], lam
