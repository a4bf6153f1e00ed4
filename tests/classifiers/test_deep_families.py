"""The PyTorch families' own machinery: schedule, augmentation, networks, early stopping, checkpoints, resume.

The family contract (fit → ONNX → parity → card → runtime) is in test_family_contract.py; this file checks what
only the deep families have. Everything runs on the CPU with tiny networks.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from classifiers.errors import ConfigError  # noqa: E402
from classifiers.families.base import load_split_images  # noqa: E402
from classifiers.families.deep_torch_augment import (  # noqa: E402
    AugmentConfig,
    augment_batch,
    colour_jitter,
    horizontal_flip,
    mixup,
    random_erasing,
    random_resized_crop,
    soft_targets,
)
from classifiers.families.deep_torch_config import stretch_factor  # noqa: E402
from classifiers.families.deep_torch_loop import EarlyStopping, lr_factor  # noqa: E402
from classifiers.families.deep_torch_nets import AttentionResNet, BasicCNN  # noqa: E402
from classifiers.families.deep_v1 import DeepV1Classifier  # noqa: E402
from classifiers.families.deep_v2 import DeepV2Classifier  # noqa: E402
from classifiers.pack import Pack  # noqa: E402
from classifiers.progress import Progress  # noqa: E402
from tests.helpers.synthetic import make_synthetic_pack  # noqa: E402

pytestmark = pytest.mark.torch

TINY_V1 = {"min_steps": 0, "batch_size": 16, "image_size": 16, "width": 8, "blocks": 2, "workers": 0, "device": "cpu"}
TINY_V2 = {"min_steps": 0, "batch_size": 16, "image_size": 16, "width": 8, "stages": 2, "workers": 0, "device": "cpu"}


def drive(generator: Generator[Progress, None, Any], stop_after_epoch: int | None = None) -> list[Progress]:
    """Run a fit generator to the end, or close it right after the "epoch" event of `stop_after_epoch`."""
    events = []
    for event in generator:
        events.append(event)
        if stop_after_epoch is not None and event.stage == "epoch" and event.done == stop_after_epoch:
            generator.close()
            break
    return events


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Pack:
    return make_synthetic_pack(tmp_path_factory.mktemp("packs"), per_class=20)


@pytest.fixture(scope="module")
def images(pack: Pack) -> list[np.ndarray]:
    return load_split_images(pack, "test")[0]


# -- learning-rate schedule -------------------------------------------------------------------------------------
def test_cosine_schedule_warms_up_linearly_then_decays_to_zero() -> None:
    total, warmup = 100, 10
    factors = [lr_factor(step, total, warmup, "cosine") for step in range(total + 1)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(factors[:10], factors[1:10], strict=False))  # rising warm-up
    assert all(a >= b for a, b in zip(factors[10:], factors[11:], strict=False))  # falling afterwards
    assert factors[-1] == pytest.approx(0.0, abs=1e-9)


def test_onecycle_starts_at_a_25th_peaks_and_ends_near_zero() -> None:
    total = 100
    factors = [lr_factor(step, total, 0, "onecycle") for step in range(total + 1)]
    assert factors[0] == pytest.approx(1 / 25 + (1 - 1 / 25) / 30)  # one step into the default 30 % warm-up
    assert max(factors) == pytest.approx(1.0)
    assert factors[29] == pytest.approx(1.0) and factors[30] == pytest.approx(1.0)  # warm-up ends at the peak
    assert factors[-1] == pytest.approx(1 / 250_000)


# -- augmentation -----------------------------------------------------------------------------------------------
def _batch(n: int = 6, size: int = 12, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def test_augmentation_is_reproducible_from_the_generator_seed() -> None:
    config = AugmentConfig(crop_scale=0.6, flip=True, jitter=0.3, erase_prob=0.5)
    mean, std = torch.full((1, 3, 1, 1), 0.5), torch.full((1, 3, 1, 1), 0.25)
    first = augment_batch(_batch(), config, torch.Generator().manual_seed(7), mean, std)
    again = augment_batch(_batch(), config, torch.Generator().manual_seed(7), mean, std)
    other = augment_batch(_batch(), config, torch.Generator().manual_seed(8), mean, std)
    assert first.shape == (6, 3, 12, 12)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_identity_augmentation_only_normalises() -> None:
    x = _batch()
    mean, std = torch.full((1, 3, 1, 1), 0.4), torch.full((1, 3, 1, 1), 0.2)
    assert AugmentConfig().is_identity
    out = augment_batch(x, AugmentConfig(), torch.Generator().manual_seed(0), mean, std)
    torch.testing.assert_close(out, (x - 0.4) / 0.2)


def test_full_scale_crop_without_flip_returns_the_image() -> None:
    x = _batch()
    out = random_resized_crop(x, torch.Generator().manual_seed(0), scale=1.0, flip=False)
    torch.testing.assert_close(out, x, atol=1e-5, rtol=0)


def test_crop_with_flip_mirrors_some_images_exactly() -> None:
    x = _batch(n=32)
    out = random_resized_crop(x, torch.Generator().manual_seed(0), scale=1.0, flip=True)
    mirrored = [torch.allclose(out[i], x[i].flip(-1), atol=1e-5) for i in range(32)]
    unchanged = [torch.allclose(out[i], x[i], atol=1e-5) for i in range(32)]
    assert all(m or u for m, u in zip(mirrored, unchanged, strict=True))
    assert 4 <= sum(mirrored) <= 28


def test_horizontal_flip_flips_or_keeps_each_image() -> None:
    x = _batch(n=32)
    out = horizontal_flip(x, torch.Generator().manual_seed(1))
    flipped = sum(bool(torch.equal(out[i], x[i].flip(-1))) for i in range(32))
    kept = sum(bool(torch.equal(out[i], x[i])) for i in range(32))
    assert flipped + kept == 32 and 4 <= flipped <= 28


def test_colour_jitter_stays_in_range_and_zero_strength_is_identity() -> None:
    x = _batch()
    out = colour_jitter(x, torch.Generator().manual_seed(0), 0.9)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert not torch.allclose(out, x)
    torch.testing.assert_close(colour_jitter(x, torch.Generator().manual_seed(0), 0.0), x)


def test_random_erasing_probability_bounds() -> None:
    x = _batch(n=16)
    assert torch.equal(random_erasing(x, torch.Generator().manual_seed(0), 0.0), x)
    erased = random_erasing(x, torch.Generator().manual_seed(0), 1.0)
    changed = [(erased[i] != x[i]).any().item() for i in range(16)]
    assert all(changed)
    # a rectangle, not the whole image: most pixels of every image survive
    assert all(((erased[i] == x[i]).float().mean() >= 0.5).item() for i in range(16))


def test_soft_targets_smooth_and_sum_to_one() -> None:
    targets = soft_targets(torch.tensor([0, 2]), 4, smoothing=0.2)
    torch.testing.assert_close(targets.sum(1), torch.ones(2))
    assert targets[0, 0].item() == pytest.approx(0.8 + 0.05)
    assert targets[0, 1].item() == pytest.approx(0.05)


def test_mixup_blends_inputs_and_targets_with_the_same_weight() -> None:
    x = _batch(n=8)
    targets = soft_targets(torch.arange(8) % 4, 4)
    same, same_targets, lam = mixup(x, targets, np.random.default_rng(0), torch.Generator(), alpha=0.4, prob=0.0)
    assert lam == 1.0 and same is x and same_targets is targets
    mixed, mixed_targets, lam = mixup(
        x, targets, np.random.default_rng(0), torch.Generator().manual_seed(0), alpha=0.4, prob=1.0
    )
    assert 0.0 < lam < 1.0
    torch.testing.assert_close(mixed_targets.sum(1), torch.ones(8))
    assert not torch.equal(mixed, x)


# -- networks ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [16, 28, 33])
def test_networks_give_logits_for_any_input_size(size: int) -> None:
    x = torch.rand(2, 3, size, size)
    for network in (
        BasicCNN(5, width=8, blocks=3),
        AttentionResNet(5, attention="cbam", width=8, stages=3),
        AttentionResNet(5, attention="se", width=8, stages=2, depth=2),
    ):
        assert network.eval()(x).shape == (2, 5)


def test_cbam_and_se_are_different_networks() -> None:
    cbam = sum(p.numel() for p in AttentionResNet(4, attention="cbam", width=8, stages=2).parameters())
    se = sum(p.numel() for p in AttentionResNet(4, attention="se", width=8, stages=2).parameters())
    assert cbam > se  # CBAM adds the spatial 7x7 convolutions


# -- early stopping ---------------------------------------------------------------------------------------------
def test_early_stopping_keeps_the_best_weights_and_counts_patience() -> None:
    network = torch.nn.Linear(2, 2)
    stopper = EarlyStopping(patience=2)
    assert not stopper.update(1, 1.0, network)
    best = {k: v.clone() for k, v in network.state_dict().items()}
    with torch.no_grad():
        network.weight.add_(1.0)
    assert not stopper.update(2, 1.5, network)
    assert stopper.update(3, 1.0 - 1e-6, network)  # below the minimum improvement: still no progress
    assert stopper.best_epoch == 1
    torch.testing.assert_close(stopper.best_state["weight"], best["weight"])
    assert not EarlyStopping(patience=0).update(1, 1.0, network)


# -- training ---------------------------------------------------------------------------------------------------
def test_deep_v1_stops_early_and_restores_the_best_epoch(pack: Pack) -> None:
    estimator = DeepV1Classifier(epochs=30, patience=1, lr=0.5, **TINY_V1)  # a wild lr: validation loss bounces
    events = drive(estimator.fit(pack))
    info = estimator.training_info_
    assert info["stopped_early"] and info["epochs_run"] < 30
    assert info["best_epoch"] == min(range(len(info["history"])), key=lambda i: info["history"][i]["val_loss"]) + 1
    epochs = [event for event in events if event.stage == "epoch"]
    assert len(epochs) == info["epochs_run"]
    assert "stopping" in epochs[-1].message


def test_min_steps_stretches_epochs_only_on_a_small_pack() -> None:
    # issue 18's pack: 60 images per class, 3 classes, batch 64 -> 3 steps an epoch; 30 epochs would be 90 steps
    assert stretch_factor(30, 3, 600) == 7  # 30 epochs of 7 passes: 630 steps
    assert stretch_factor(30, 844, 600) == 1  # Fashion-MNIST's 54,000 images: unchanged
    assert stretch_factor(30, 3, 0) == 1


def test_a_small_pack_trains_min_steps_with_patience_counted_alike(pack: Pack) -> None:
    params = {**TINY_V1, "min_steps": 40, "augment": False}
    estimator = DeepV1Classifier(epochs=2, patience=1, **params)  # 3 batches of 16 per epoch
    events = drive(estimator.fit(pack))
    info = estimator.training_info_
    steps_per_epoch = info["steps_per_epoch"]
    stretch = -(-40 // (2 * steps_per_epoch))
    assert info["epochs_planned"] == 2 * stretch > 2  # the card records the stretched plan and what ran
    epoch_events = [event for event in events if event.stage == "epoch"]
    assert epoch_events[0].total == 2 * stretch and f"epoch 1/{2 * stretch}" in epoch_events[0].message
    # patience 1 (in requested epochs) waits `stretch` passes without improvement, not one
    bad_runs, run = [], 0
    losses = [row["val_loss"] for row in info["history"]]
    best = float("inf")
    for loss in losses:
        run = 0 if loss < best - 1e-4 else run + 1
        best = min(best, loss)
        bad_runs.append(run)
    assert max(bad_runs[:-1], default=0) < stretch
    if info["stopped_early"]:
        assert bad_runs[-1] == stretch
    else:
        assert info["epochs_run"] == 2 * stretch and info["steps"] >= 40


def test_progress_events_carry_the_metrics_a_ui_shows(pack: Pack) -> None:
    estimator = DeepV2Classifier(epochs=2, **TINY_V2)
    events = drive(estimator.fit(pack))
    steps = [event for event in events if event.stage == "step"]
    epochs = [event for event in events if event.stage == "epoch"]
    assert steps and {"loss", "accuracy", "lr", "images_per_s", "epoch", "step"} <= set(steps[-1].metrics)
    assert [event.done for event in epochs] == [1, 2]
    assert {"val_loss", "val_accuracy", "loss", "lr", "images_per_s", "rss_mb"} <= set(epochs[-1].metrics)
    info = estimator.training_info_
    assert info["device"] == "cpu" and info["parameters"] > 0 and info["peak_rss_mb"] > 0
    assert len(info["history"]) == 2 and info["normalisation"]["std"][0] > 0


def test_a_seed_reproduces_a_model_on_the_cpu(pack: Pack, images: list[np.ndarray]) -> None:
    first, again = (DeepV2Classifier(epochs=2, seed=3, **TINY_V2) for _ in range(2))
    drive(first.fit(pack))
    drive(again.fit(pack))
    np.testing.assert_array_equal(first.predict_proba(images), again.predict_proba(images))


def test_an_interrupted_run_resumes_to_the_same_model(pack: Pack, images: list[np.ndarray], tmp_path: Path) -> None:
    params = {"epochs": 3, "seed": 1, "mixup_prob": 0.5, "erase_prob": 0.3, **TINY_V2}
    whole = DeepV2Classifier(**params)
    drive(whole.fit(pack))

    checkpoint = tmp_path / "run.pt"
    drive(DeepV2Classifier(**params, checkpoint=str(checkpoint)).fit(pack), stop_after_epoch=1)
    assert checkpoint.is_file()
    resumed = DeepV2Classifier(**params, checkpoint=str(checkpoint), resume=str(checkpoint))
    events = drive(resumed.fit(pack))
    assert any("resumed from" in event.message for event in events)
    assert [event.done for event in events if event.stage == "epoch"] == [2, 3]
    assert resumed.training_info_["epochs_run"] == 3
    assert resumed.training_info_["resumed"]["after_epoch"] == 1
    np.testing.assert_allclose(resumed.predict_proba(images), whole.predict_proba(images), atol=1e-6)


def test_a_checkpoint_of_other_settings_is_refused(pack: Pack, tmp_path: Path) -> None:
    checkpoint = tmp_path / "v1.pt"
    drive(DeepV1Classifier(epochs=1, checkpoint=str(checkpoint), **TINY_V1).fit(pack))
    other = DeepV1Classifier(epochs=2, resume=str(checkpoint), **{**TINY_V1, "width": 12})
    with pytest.raises(ConfigError, match="width=8.*width=12"):
        drive(other.fit(pack))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"epochs": 3},
            "was trained with a 1-epoch cosine schedule (epochs=1), but this run asks for epochs=3; "
            "pass --epochs 1 to resume it",
        ),
        ({"lr": 0.01}, "pass --lr 0.002 to resume it"),
        ({"batch_size": 8}, "pass --batch-size 16 to resume it"),
    ],
)
def test_resuming_with_another_schedule_is_refused(
    pack: Pack, tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    # a cosine schedule built for one epoch count and continued under another is a run nobody asked for, and its
    # card would claim a schedule that never ran
    checkpoint = tmp_path / "v1.pt"
    drive(DeepV1Classifier(epochs=1, checkpoint=str(checkpoint), **TINY_V1).fit(pack))
    other = DeepV1Classifier(resume=str(checkpoint), **{"epochs": 1, **TINY_V1, **change})
    with pytest.raises(ConfigError) as caught:
        drive(other.fit(pack))
    assert expected in str(caught.value) and "or train without --resume" in str(caught.value)


def test_a_corrupt_or_missing_checkpoint_is_a_clear_error(pack: Pack, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No checkpoint at"):
        drive(DeepV1Classifier(epochs=1, resume=str(tmp_path / "nope.pt"), **TINY_V1).fit(pack))
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="not a readable training checkpoint"):
        drive(DeepV1Classifier(epochs=1, resume=str(broken), **TINY_V1).fit(pack))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown when no GPU is present")
def test_asking_for_cuda_without_a_gpu_says_what_to_do(pack: Pack) -> None:
    with pytest.raises(ConfigError, match="--device auto or cpu"):
        drive(DeepV1Classifier(epochs=1, **{**TINY_V1, "device": "cuda"}).fit(pack))


def test_gpu_only_options_are_skipped_with_a_note_on_the_cpu(pack: Pack) -> None:
    if torch.cuda.is_available():
        pytest.skip("checks the CPU fallback")
    estimator = DeepV2Classifier(epochs=1, amp="bf16", compile=True, accumulate=2, schedule="onecycle", **TINY_V2)
    drive(estimator.fit(pack))
    info = estimator.training_info_
    assert info["amp"] == "none" and info["compiled"] is False
    assert any("bf16" in note for note in info["notes"]) and any("compile" in note for note in info["notes"])


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"blocks": 9}, "blocks"),
        ({"epochs": 0}, "epochs"),
        ({"device": "tpu"}, "device"),
        ({"image_size": 4}, "image_size"),
    ],
)
def test_deep_v1_rejects_bad_hyperparameters_by_name(pack: Pack, params: dict[str, Any], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        drive(DeepV1Classifier(**{**TINY_V1, **params}).fit(pack))


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"variant": "xyz"}, "variant"),
        ({"schedule": "step"}, "schedule"),
        ({"amp": "int8"}, "amp"),
        ({"accumulate": 0}, "accumulate"),
        ({"crop_scale": 0.0}, "crop_scale"),
        ({"warmup": 99.0}, "warmup"),
    ],
)
def test_deep_v2_rejects_bad_hyperparameters_by_name(pack: Pack, params: dict[str, Any], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        drive(DeepV2Classifier(**{**TINY_V2, **params}).fit(pack))
