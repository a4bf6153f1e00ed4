"""The training loop of the deep families: epochs of augmented, mixed, accumulated and clipped steps with a
warm-up learning-rate schedule, early stopping with best-weights restore, checkpoints and progress metrics.

Imports torch at module level: only `deep_torch_common` (its `fit_network`) imports this module.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from classifiers.families.deep_torch_augment import augment_batch, mixup, soft_targets
from classifiers.families.deep_torch_config import TrainConfig, memory_metrics, stretch_factor
from classifiers.progress import Progress

_MIN_IMPROVEMENT = 1e-4  # a smaller drop in validation loss is noise, not progress
_STEP_EVENTS_PER_EPOCH = 25


def lr_factor(step: int, total: int, warmup: int, schedule: str) -> float:
    """The learning rate at optimizer step `step` of `total`, as a fraction of the peak.

    "cosine": linear warm-up from 0 over `warmup` steps, then cosine decay to 0.
    "onecycle": linear warm-up from 1/25 (over 30 % of the steps when `warmup` is 0), then cosine decay to
    1/250000, as in Smith's one-cycle policy.
    """
    start, end = (1 / 25, 1 / 250_000) if schedule == "onecycle" else (0.0, 0.0)
    if schedule == "onecycle" and warmup == 0:
        warmup = int(0.3 * total)
    if step < warmup:
        return start + (1 - start) * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return end + (1 - end) * 0.5 * (1 + math.cos(math.pi * progress))


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross entropy against soft (smoothed or mixed) targets."""
    return -(targets * F.log_softmax(logits, dim=1)).sum(1).mean()


def with_human(targets: torch.Tensor, human: torch.Tensor, weight: float) -> torch.Tensor:
    """Targets mixed with the human answer distributions: `weight` of the human row plus the rest of the hard
    (smoothed) target; a row of zeros (no human answers for that image) keeps the hard target."""
    has = (human.sum(1, keepdim=True) > 0).to(targets.dtype)
    return targets + has * weight * (human - targets)


@dataclass
class EarlyStopping:
    """Tracks the lowest validation loss, keeps a copy of those weights, and says when patience ran out."""

    patience: int
    best_loss: float = math.inf
    best_epoch: int = 0
    bad_epochs: int = 0
    best_state: dict[str, torch.Tensor] | None = None

    def update(self, epoch: int, loss: float, network: nn.Module) -> bool:
        """Record epoch `epoch`'s loss; return True when training should stop."""
        if loss < self.best_loss - _MIN_IMPROVEMENT:
            self.best_loss, self.best_epoch, self.bad_epochs = loss, epoch, 0
            self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in network.state_dict().items()}
        else:
            self.bad_epochs += 1
        return self.patience > 0 and self.bad_epochs >= self.patience

    def state(self) -> dict[str, Any]:
        return {
            "best_loss": self.best_loss,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "best_state": self.best_state,
        }

    def load(self, state: dict[str, Any]) -> None:
        self.best_loss, self.best_epoch = float(state["best_loss"]), int(state["best_epoch"])
        self.bad_epochs, self.best_state = int(state["bad_epochs"]), state["best_state"]


class Trainer:
    """One training run's mutable state: network, optimizer, scaler, schedule position, history."""

    def __init__(
        self,
        network: nn.Module,
        config: TrainConfig,
        *,
        device: torch.device,
        n_classes: int,
        mean: list[float],
        std: list[float],
        identity: dict[str, Any],
        batches_per_epoch: int,
    ) -> None:
        self.config = config
        self.device = device
        self.n_classes = n_classes
        self.identity = identity
        self.normalisation = {"mean": list(mean), "std": list(std)}
        self.notes: list[str] = []
        # channels-last suits the CPU's oneDNN convolutions (about 1.6x faster here) and the GPU's tensor cores
        self.network = network.to(device, memory_format=torch.channels_last)
        self.model = self._compiled(network)
        self.amp_dtype = self._amp_dtype()
        self.optimizer = torch.optim.AdamW(network.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.mean = torch.tensor(mean, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(std, device=device).view(1, 3, 1, 1)
        self.steps_per_epoch = math.ceil(batches_per_epoch / config.accumulate)
        # A small pack: each requested epoch becomes `stretch` passes, and patience and warm-up (counted in
        # requested epochs) stretch with it, so early stopping waits as many steps as on a large pack.
        self.stretch = stretch_factor(config.epochs, self.steps_per_epoch, config.min_steps)
        self.epochs = config.epochs * self.stretch  # the most epochs this run takes
        self.stopper = EarlyStopping(config.patience * self.stretch)
        self.total_steps = max(1, self.steps_per_epoch * self.epochs)
        self.warmup_steps = round(config.warmup * self.stretch * self.steps_per_epoch)
        self.epoch = 0  # epochs completed
        self.step = 0  # optimizer steps taken
        self.stopped = False
        self.history: list[dict[str, float]] = []
        self._epoch_train: dict[str, float] = {}

    @property
    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.network.parameters())

    def _compiled(self, network: nn.Module) -> nn.Module:
        if not self.config.compile:
            return network
        if self.device.type != "cuda":
            self.notes.append("torch.compile skipped: it is used only on a GPU")
            return network
        return torch.compile(network)

    def _amp_dtype(self) -> torch.dtype | None:
        amp = self.config.amp
        if amp == "none":
            return None
        if self.device.type != "cuda":
            self.notes.append(f"mixed precision {amp} skipped: it is used only on a GPU")
            return None
        if amp == "bf16" and not torch.cuda.is_bf16_supported():
            self.notes.append("bf16 is not supported by this GPU; used fp16 with loss scaling")
            return torch.float16
        return torch.bfloat16 if amp == "bf16" else torch.float16

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def _inputs(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 NHWC → float NCHW in [0, 1] (channels-last strides, so no copy is made)."""
        return images.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255.0)

    # -- one epoch ----------------------------------------------------------------------------------------------
    def train_epoch(self, loader: DataLoader) -> Iterator[Progress]:
        """Train one epoch, yielding "step" events with running loss, accuracy, lr and throughput."""
        config, epoch = self.config, self.epoch + 1
        # Every random stream is re-seeded from (seed, epoch): a run resumed after epoch k repeats exactly what
        # the uninterrupted run would have done from epoch k + 1.
        epoch_seed = config.seed * 1_000_003 + epoch
        torch.manual_seed(epoch_seed)  # dropout
        loader.generator.manual_seed(epoch_seed)  # shuffling
        gen = torch.Generator(device=self.device).manual_seed(epoch_seed)  # augmentation, mixup pairing
        rng = np.random.default_rng(epoch_seed)  # mixup's per-batch decision and weight
        self.model.train()
        n_batches, every = len(loader), max(1, len(loader) // _STEP_EVENTS_PER_EPOCH)
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        seen, started = 0, time.perf_counter()
        self.optimizer.zero_grad(set_to_none=True)
        for index, (images, labels, *human) in enumerate(loader):
            x = augment_batch(self._inputs(images), config.augment, gen, self.mean, self.std)
            labels = labels.to(self.device, non_blocking=True)
            targets = soft_targets(labels, self.n_classes, config.label_smoothing)
            if human:
                targets = with_human(targets, human[0].to(self.device, non_blocking=True), config.soft_label_weight)
            x, targets, _ = mixup(x, targets, rng, gen, alpha=config.mixup_alpha, prob=config.mixup_prob)
            with self._autocast():
                logits = self.model(x)
            loss = soft_cross_entropy(logits.float(), targets)
            self.scaler.scale(loss / config.accumulate).backward()
            if (index + 1) % config.accumulate == 0 or index + 1 == n_batches:
                self._optimizer_step()
            loss_sum += loss.detach() * len(labels)
            correct += (logits.detach().argmax(1) == targets.argmax(1)).sum()
            seen += len(labels)
            if (index + 1) % every == 0 or index + 1 == n_batches:
                metrics = {
                    "loss": float(loss_sum) / seen,
                    "accuracy": int(correct) / seen,
                    "lr": self.lr,
                    "images_per_s": seen / (time.perf_counter() - started),
                    "epoch": epoch,
                    "step": index + 1,
                }
                yield Progress(
                    "step", index + 1, n_batches, f"epoch {epoch}/{self.epochs} step {index + 1}/{n_batches}", metrics
                )
        self._epoch_train = {
            "loss": float(loss_sum) / max(1, seen),
            "accuracy": int(correct) / max(1, seen),
            "images_per_s": seen / (time.perf_counter() - started),
        }

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _optimizer_step(self) -> None:
        factor = lr_factor(self.step, self.total_steps, self.warmup_steps, self.config.schedule)
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.lr * factor
        if self.config.clip > 0:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.network.parameters(), self.config.clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1

    @torch.inference_mode()
    def evaluate(self, loader: DataLoader) -> tuple[float, float]:
        """(mean cross entropy, accuracy) on a loader's images, without augmentation or smoothing."""
        self.model.eval()
        loss_sum, correct, seen = 0.0, 0, 0
        for images, labels in loader:
            x = (self._inputs(images) - self.mean) / self.std
            labels = labels.to(self.device)
            with self._autocast():
                logits = self.model(x).float()
            loss_sum += float(F.cross_entropy(logits, labels, reduction="sum"))
            correct += int((logits.argmax(1) == labels).sum())
            seen += len(labels)
        return loss_sum / max(1, seen), correct / max(1, seen)

    def end_epoch(self, val_loader: DataLoader) -> Progress:
        """Validate, update early stopping and the history; return the "epoch" event."""
        self.epoch += 1
        record: dict[str, float] = {"epoch": self.epoch, **self._epoch_train, "lr": self.lr}
        if len(val_loader.dataset) > 0:  # type: ignore[arg-type]
            record["val_loss"], record["val_accuracy"] = self.evaluate(val_loader)
        monitored = record.get("val_loss", record["loss"])  # no val split: fall back to the training loss
        self.stopped = self.stopper.update(self.epoch, monitored, self.network)
        record.update(memory_metrics(self.device))
        record = {key: round(value, 6) if isinstance(value, float) else value for key, value in record.items()}
        self.history.append(record)
        val = f", val loss {record['val_loss']:.4f} acc {record['val_accuracy']:.1%}" if "val_loss" in record else ""
        stop = f"; no improvement for {self.stopper.patience} epochs, stopping" if self.stopped else ""
        message = f"epoch {self.epoch}/{self.epochs}: loss {record['loss']:.4f}{val}{stop}"
        shown = ("val_accuracy", "val_loss", "loss", "accuracy", "lr", "images_per_s", "rss_mb", "gpu_peak_mb")
        return Progress(
            "epoch",
            self.epoch,
            self.epochs,
            message,
            {key: record[key] for key in shown if key in record} | {"epoch": self.epoch},
        )

    # -- state --------------------------------------------------------------------------------------------------
    def checkpoint_state(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "schedule": self.config.schedule_settings(),
            "normalisation": self.normalisation,
            "epoch": self.epoch,
            "step": self.step,
            "stopped": self.stopped,
            "history": self.history,
            "model": self.network.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "stopper": self.stopper.state(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint (already checked by `load_checkpoint`)."""
        self.network.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.stopper.load(state["stopper"])
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.stopped, self.history = bool(state["stopped"]), list(state["history"])

    def restore_best(self) -> None:
        """Load the weights of the epoch with the lowest validation loss."""
        if self.stopper.best_state is not None:
            self.network.load_state_dict(self.stopper.best_state)

    def info(self) -> dict[str, Any]:
        """What the model card records about this run."""
        speeds = [row["images_per_s"] for row in self.history if "images_per_s" in row]
        peaks = [row[key] for row in self.history for key in ("peak_rss_mb",) if key in row]
        gpu = [row["gpu_peak_mb"] for row in self.history if "gpu_peak_mb" in row]
        info: dict[str, Any] = {
            "device": self.device.type,
            "amp": str(self.amp_dtype).removeprefix("torch.") if self.amp_dtype else "none",
            "compiled": self.model is not self.network,
            "parameters": self.parameter_count,
            "epochs_run": self.epoch,
            "epochs_planned": self.epochs,  # the requested epochs, times the small-pack stretch
            "steps_per_epoch": self.steps_per_epoch,
            "steps": self.step,
            "best_epoch": self.stopper.best_epoch,
            "best_val_loss": round(self.stopper.best_loss, 6) if math.isfinite(self.stopper.best_loss) else None,
            "stopped_early": self.stopped,
            "images_per_s": round(float(np.median(speeds)), 1) if speeds else None,
            "peak_rss_mb": max(peaks) if peaks else None,
            "normalisation": self.normalisation,
            "history": self.history,
        }
        if gpu:
            info["gpu_peak_mb"] = max(gpu)
        if self.notes:
            info["notes"] = self.notes
        return info
