"""Shared PyTorch machinery of the deep families: data, the training loop, checkpoints and the ONNX export.

Imports torch at module level: `deep_v1` and `deep_v2` import this module inside their methods, so listing
families never loads torch. The training loop (`Trainer` in `deep_torch_loop`) is driven by `fit_network`, a
generator of Progress events; how to train (`TrainConfig`) is in `deep_torch_config`, which both import.
"""

from __future__ import annotations

import logging
import os
import random
import warnings
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from classifiers.card import file_sha256
from classifiers.errors import ConfigError
from classifiers.families.deep_torch_config import TrainConfig
from classifiers.families.deep_torch_loop import Trainer
from classifiers.families.soft_labels import read_soft_labels, target_table
from classifiers.pack import Pack
from classifiers.preprocess import decode_image, prepare_batch, resize_rgb
from classifiers.progress import Progress

ONNX_OPSET = 18  # the lowest opset torch.onnx's dynamo exporter writes natively
CHECKPOINT_FORMAT = 1
_STATS_IMAGES = 2000
_PREDICT_BATCH = 256


@dataclass
class FitResult:
    """A trained network (on the CPU, in eval mode, best epoch's weights) and what the card should record."""

    network: nn.Module
    mean: list[float]
    std: list[float]
    info: dict[str, Any]


# -- environment ------------------------------------------------------------------------------------------------
def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every GPU)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def pick_device(device: str) -> torch.device:
    """The torch device for "auto" (CUDA when available), "cpu" or "cuda".

    Raises:
        ConfigError: "cuda" was asked for but no GPU is usable.
    """
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for, but torch sees no CUDA GPU. Use --device auto or cpu.")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


# -- data -------------------------------------------------------------------------------------------------------
class PackImages:
    """A map-style dataset over one pack split: each item is decoded and resized when asked for (lazily), so
    DataLoader worker processes do the decoding and only file paths travel to them.

    Items are (uint8 tensor (size, size, 3), label), or with `human` (image, label, its human distribution: a
    float row, all zeros for an image without one).
    """

    def __init__(self, paths: Sequence[str], labels: np.ndarray, size: int, human: np.ndarray | None = None) -> None:
        self.paths = list(paths)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.size = size
        self.human = human

    @classmethod
    def from_pack(cls, pack: Pack, split: str, size: int, soft: dict[str, np.ndarray] | None = None) -> PackImages:
        shas, labels = pack.labelled(split)
        human = None if soft is None else target_table(shas, soft, len(pack.classes))
        return cls([str(pack.image_path(sha)) for sha in shas], labels, size, human)

    @property
    def human_count(self) -> int:
        """How many items carry a human distribution."""
        return 0 if self.human is None else int((self.human.sum(1) > 0).sum())

    def __len__(self) -> int:
        return len(self.paths)

    def image(self, index: int) -> np.ndarray:
        path = Path(self.paths[index])
        return resize_rgb(decode_image(path.read_bytes(), name=str(path)), self.size, self.size)

    def __getitem__(self, index: int) -> tuple:
        item = torch.from_numpy(self.image(index)), int(self.labels[index])
        return item if self.human is None else (*item, torch.from_numpy(self.human[index]))


def channel_stats(dataset: PackImages, limit: int = _STATS_IMAGES) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation (of pixels scaled to [0, 1]) over up to `limit` evenly spaced
    images; these become the normalisation inside the ONNX graph."""
    if len(dataset) == 0:
        return [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]
    picks = np.linspace(0, len(dataset) - 1, min(limit, len(dataset))).astype(int)
    pixels = np.stack([dataset.image(i) for i in np.unique(picks)]).reshape(-1, 3).astype(np.float64) / 255.0
    std = np.maximum(pixels.std(0), 1e-3)  # a constant channel must not divide by zero
    return [round(float(v), 6) for v in pixels.mean(0)], [round(float(v), 6) for v in std]


def make_loader(
    dataset: PackImages, *, batch_size: int, shuffle: bool, workers: int, device: torch.device
) -> DataLoader:
    """A DataLoader with its own generator (re-seeded per epoch by the trainer) and persistent workers."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=device.type == "cuda",
        generator=torch.Generator().manual_seed(0),
    )


# -- checkpoints ------------------------------------------------------------------------------------------------
def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write a checkpoint atomically: an interrupted write never leaves a truncated file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": CHECKPOINT_FORMAT, **state}, tmp)
    os.replace(tmp, path)


def load_checkpoint(
    path: str | Path, identity: dict[str, Any], schedule: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint` and check it belongs to this model and this schedule.

    Args:
        identity: what shapes the network (family, variant, architecture, classes, image size).
        schedule: what shapes the optimisation (`TrainConfig.schedule_settings`): a resumed run must continue
            the learning-rate schedule it started, or the card would describe a run that never happened. A
            checkpoint written before schedules were saved is not checked.

    Raises:
        ConfigError: missing or unreadable file, or a checkpoint of another network, pack, input size or schedule.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"No checkpoint at {path}. Check the --resume path, or train without --resume.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises pickle, zip and runtime errors for corrupt files
        raise ConfigError(f"{path} is not a readable training checkpoint ({exc}).") from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ConfigError(f"{path} is not a checkpoint of this trainer version (format {CHECKPOINT_FORMAT}).")
    saved = state.get("identity", {})
    for key in sorted(set(identity) | set(saved)):
        if saved.get(key) != identity.get(key):
            raise ConfigError(
                f"Checkpoint {path} was saved with {key}={saved.get(key)!r}, but this run has "
                f"{key}={identity.get(key)!r}. Resume with the same settings, or train afresh without --resume."
            )
    if schedule is not None and state.get("schedule") is not None:
        _check_schedule(path, state["schedule"], schedule)
    return state


def _check_schedule(path: Path, saved: dict[str, Any], asked: dict[str, Any]) -> None:
    """Raise ConfigError naming the first schedule setting that differs and the option that would match it."""
    for key in asked:
        if key in saved and saved[key] != asked[key]:
            built = f"a {saved.get('epochs')}-epoch {saved.get('schedule', 'cosine')} schedule"
            raise ConfigError(
                f"Checkpoint {path} was trained with {built} ({key}={saved[key]!r}), but this run asks for "
                f"{key}={asked[key]!r}; pass --{key.replace('_', '-')} {saved[key]} to resume it, or train "
                "without --resume."
            )


def resume_record(path: str | Path, state: dict[str, Any]) -> dict[str, Any]:
    """What the model card says about a resumed run: the checkpoint's file name and hash (never its folder, which
    is the training machine's) and the epoch it continued after."""
    return {"checkpoint": Path(path).name, "checkpoint_sha256": file_sha256(path), "after_epoch": int(state["epoch"])}


# -- the fit ----------------------------------------------------------------------------------------------------
def fit_network(
    build: Callable[[], nn.Module], pack: Pack, config: TrainConfig, *, image_size: int, identity: dict[str, Any]
) -> Generator[Progress, None, FitResult]:
    """Train `build()` on the pack's train split, early-stopping on its val split.

    Args:
        build: makes the untrained network (called after seeding, so its initial weights follow the seed).
        pack: the training data (labelled train and val splits).
        config: how to train.
        image_size: images are resized to image_size² before augmentation.
        identity: what a checkpoint must match to be resumed (family, variant, architecture, classes, size).

    Yields Progress events ("prepare", "step", "epoch"); returns the best epoch's network on the CPU.
    """
    device = pick_device(config.device)
    soft = read_soft_labels(config.soft_labels, pack.classes) if config.soft_labels else None
    train_set = PackImages.from_pack(pack, "train", image_size, soft)
    if soft is not None:
        yield Progress("prepare", 0, 1, f"human soft labels for {train_set.human_count} of {len(train_set)} images")
    val_set = PackImages.from_pack(pack, "val", image_size)
    resumed = load_checkpoint(config.resume, identity, config.schedule_settings()) if config.resume else None
    resumed_info = resume_record(config.resume, resumed) if resumed is not None else None
    if resumed is not None:
        mean, std = resumed["normalisation"]["mean"], resumed["normalisation"]["std"]
    else:
        yield Progress("prepare", 0, 1, f"measuring pixel statistics of {min(len(train_set), _STATS_IMAGES)} images")
        mean, std = channel_stats(train_set)
    seed_everything(config.seed)
    network = build()
    loaders = [
        make_loader(data, batch_size=config.batch_size, shuffle=shuffle, workers=config.workers, device=device)
        for data, shuffle in ((train_set, True), (val_set, False))
    ]
    trainer = Trainer(
        network,
        config,
        device=device,
        n_classes=len(pack.classes),
        mean=mean,
        std=std,
        identity=identity,
        batches_per_epoch=len(loaders[0]),
    )
    if resumed is not None:
        trainer.restore(resumed)
        yield Progress("prepare", 1, 1, f"resumed from {config.resume} after epoch {trainer.epoch}")
    else:
        yield Progress("prepare", 1, 1, f"{trainer.parameter_count:,} parameters on {device.type}")
    while trainer.epoch < trainer.epochs and not trainer.stopped:
        yield from trainer.train_epoch(loaders[0])
        event = trainer.end_epoch(loaders[1])
        if config.checkpoint:  # before the event: a consumer that stops on it still finds this epoch on disk
            save_checkpoint(config.checkpoint, trainer.checkpoint_state())
        yield event
    trainer.restore_best()
    info = trainer.info()
    info["resumed"] = resumed_info
    del loaders  # shuts persistent workers down now rather than at garbage collection
    network = network.to("cpu", memory_format=torch.contiguous_format).eval()
    return FitResult(network, mean, std, info)


# -- inference and export ---------------------------------------------------------------------------------------
class ImageClassifier(nn.Module):
    """The exported graph: RGB uint8 NHWC images → scale, normalise, NCHW → network → softmax probabilities."""

    def __init__(self, network: nn.Module, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.network = network
        self.register_buffer("mean", torch.tensor(list(mean), dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(list(std), dtype=torch.float32).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.permute(0, 3, 1, 2).to(torch.float32) / 255.0
        return torch.softmax(self.network((x - self.mean) / self.std), dim=1)


def predict_proba(
    network: nn.Module, mean: Sequence[float], std: Sequence[float], images: Sequence[np.ndarray], size: int
) -> np.ndarray:
    """Probabilities (N, C) from PyTorch on the CPU, for RGB uint8 images of any size (resized like the game)."""
    model = ImageClassifier(network, mean, std).eval()
    batch = prepare_batch(list(images), size, size)
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(batch), _PREDICT_BATCH):
            outputs.append(model(torch.from_numpy(batch[start : start + _PREDICT_BATCH])).numpy())
    return np.concatenate(outputs).astype(np.float64)


def export_onnx(network: nn.Module, mean: Sequence[float], std: Sequence[float], size: int, path: str | Path) -> int:
    """Write the ONNX graph: input "images" uint8 (batch, size, size, 3), output "probabilities" (batch, C).

    Returns:
        The opset written.
    """
    model = ImageClassifier(network, mean, std).eval()
    example = torch.zeros((2, size, size, 3), dtype=torch.uint8)
    batch = torch.export.Dim("batch", min=1, max=65536)
    # torch.onnx logs a warning per torchvision operator it cannot register; torchvision is deliberately absent
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation chatter from torch.export internals
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=["images"],
            output_names=["probabilities"],
            dynamic_shapes={"images": {0: batch}},
            opset_version=ONNX_OPSET,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    return ONNX_OPSET
