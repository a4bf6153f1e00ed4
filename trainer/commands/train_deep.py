"""`eyevsai-train train deep-v1` and `train deep-v2`: the PyTorch families, with checkpoints to resume from."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from trainer.commands.context import state_of
from trainer.commands.train import IdOpt, JsonOpt, OutOpt, PackOpt, ReplaceOpt, SeedOpt, TitleOpt, run_training
from trainer.training import default_model_id
from trainer.usecases import refuse_to_overwrite

EpochsOpt = Annotated[int, typer.Option(help="The most epochs to train (early stopping may end sooner).")]
BatchOpt = Annotated[int, typer.Option(help="Images per forward pass.")]
SizeOpt = Annotated[
    int | None, typer.Option(help="Square input side in pixels (default: the pack's image size, at most 64).")
]
LrOpt = Annotated[float, typer.Option("--lr", help="Peak learning rate (AdamW).")]
DecayOpt = Annotated[float, typer.Option(help="AdamW weight decay.")]
WidthOpt = Annotated[int, typer.Option(help="Channels of the first layer; later blocks double them.")]
DropoutOpt = Annotated[float, typer.Option(help="Dropout before the classifier head.")]
PatienceOpt = Annotated[
    int,
    typer.Option(
        help="Stop after this many epochs without a lower validation loss "
        "(0: never); the best epoch's weights are kept."
    ),
]
WorkersOpt = Annotated[int, typer.Option(help="Worker processes decoding images (0: none).")]
DeviceOpt = Annotated[Literal["auto", "cpu", "cuda"], typer.Option(help="auto | cpu | cuda")]
ResumeOpt = Annotated[Path | None, typer.Option(help="Continue from this checkpoint (same settings).")]
CheckpointOpt = Annotated[
    Path | None,
    typer.Option(
        help="Checkpoint written after every epoch (default: <workspace>/checkpoints/<id>.pt, or the --resume file)."
    ),
]
AttentionOpt = Annotated[Literal["cbam", "se"], typer.Option(help="cbam (channel + spatial) | se (squeeze-excitation)")]
ScheduleOpt = Annotated[Literal["cosine", "onecycle"], typer.Option(help="Learning-rate schedule, with warm-up.")]
AmpOpt = Annotated[Literal["none", "bf16", "fp16"], typer.Option(help="Mixed precision, used only on a GPU.")]


def register(app: typer.Typer) -> None:
    """Add the deep families' subcommands to the `train` app."""
    app.command("deep-v1")(deep_v1)
    app.command("deep-v2")(deep_v2)


def _train(
    ctx: typer.Context,
    family: str,
    variant: str,
    pack: str,
    params: dict[str, Any],
    model_id: str | None,
    title: str | None,
    as_json: bool,
    models_dir: Path | None,
    checkpoint: Path | None,
    *,
    replace: bool = False,
) -> None:
    """Pick the model id and checkpoint path, say where the checkpoint goes, then train like every family."""
    state = state_of(ctx)
    if model_id is None:
        model_id = default_model_id(state.workspace.find_pack(pack).id, family, variant)
    if not replace:  # before the checkpoint message: nothing is started for a refused run
        refuse_to_overwrite((models_dir or state.workspace.models_dir) / model_id)
    resume = params.get("resume")
    checkpoint = checkpoint or (Path(resume) if resume else state.workspace.checkpoints_dir / f"{model_id}.pt")
    params["checkpoint"] = str(checkpoint)
    if not as_json:
        state.output.info(f"Checkpoints go to {checkpoint}; continue an interrupted run with --resume {checkpoint}")
    run_training(
        ctx, family, variant, pack, params, model_id, title, as_json, models_dir, replace=True
    )  # an existing model was refused above, before the checkpoint note


def deep_v1(
    ctx: typer.Context,
    pack: PackOpt,
    epochs: EpochsOpt = 30,
    batch_size: BatchOpt = 64,
    image_size: SizeOpt = None,
    lr: LrOpt = 2e-3,
    weight_decay: DecayOpt = 5e-4,
    width: WidthOpt = 32,
    blocks: Annotated[int, typer.Option(help="Conv blocks (two conv-BN-ReLU and a max-pool each).")] = 3,
    dropout: DropoutOpt = 0.3,
    patience: PatienceOpt = 6,
    augment: Annotated[bool, typer.Option(help="Random flips and mild crops of training images.")] = True,
    seed: SeedOpt = 0,
    workers: WorkersOpt = 2,
    device: DeviceOpt = "auto",
    resume: ResumeOpt = None,
    checkpoint: CheckpointOpt = None,
    model_id: IdOpt = None,
    title: TitleOpt = None,
    models_dir: OutOpt = None,
    replace: ReplaceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """A basic CNN (conv/BN/ReLU/pool blocks, dropout) in PyTorch, with early stopping; exported to ONNX.

    Example: eyevsai-train train deep-v1 --pack fashion-mnist --epochs 30 --batch-size 64 --image-size 28
    """
    params = {
        "epochs": epochs,
        "batch_size": batch_size,
        "image_size": image_size,
        "lr": lr,
        "weight_decay": weight_decay,
        "width": width,
        "blocks": blocks,
        "dropout": dropout,
        "patience": patience,
        "augment": augment,
        "seed": seed,
        "workers": workers,
        "device": device,
        "resume": str(resume) if resume else None,
    }
    _train(ctx, "deep_v1", "cnn", pack, params, model_id, title, as_json, models_dir, checkpoint, replace=replace)


def deep_v2(
    ctx: typer.Context,
    pack: PackOpt,
    attention: AttentionOpt = "cbam",
    epochs: EpochsOpt = 40,
    batch_size: BatchOpt = 64,
    image_size: SizeOpt = None,
    lr: LrOpt = 3e-3,
    weight_decay: DecayOpt = 5e-4,
    width: WidthOpt = 32,
    stages: Annotated[int, typer.Option(help="Residual stages; each after the first halves the resolution.")] = 3,
    depth: Annotated[int, typer.Option(help="Residual blocks per stage.")] = 1,
    dropout: DropoutOpt = 0.2,
    patience: PatienceOpt = 8,
    crop_scale: Annotated[
        float, typer.Option(help="Random resized crops keep this much of the area or more (1: no crop).")
    ] = 0.7,
    flip: Annotated[bool, typer.Option(help="Random left-right flips.")] = True,
    jitter: Annotated[float, typer.Option(help="Brightness/contrast/saturation jitter (0: off).")] = 0.2,
    erase_prob: Annotated[float, typer.Option(help="Probability of random erasing per image.")] = 0.25,
    mixup_alpha: Annotated[float, typer.Option(help="Mixup Beta(alpha, alpha) (0: no mixup).")] = 0.2,
    mixup_prob: Annotated[float, typer.Option(help="Probability that a batch is mixed.")] = 0.5,
    label_smoothing: Annotated[float, typer.Option(help="Label smoothing in [0, 1).")] = 0.1,
    accumulate: Annotated[int, typer.Option(help="Batches per optimizer step (gradient accumulation).")] = 1,
    clip: Annotated[float, typer.Option(help="Gradient-norm clipping (0: off).")] = 2.0,
    schedule: ScheduleOpt = "cosine",
    warmup: Annotated[float, typer.Option(help="Learning-rate warm-up in epochs.")] = 1.0,
    amp: AmpOpt = "none",
    compile_: Annotated[bool, typer.Option("--compile", help="torch.compile the network (GPU only).")] = False,
    seed: SeedOpt = 0,
    workers: WorkersOpt = 2,
    device: DeviceOpt = "auto",
    resume: ResumeOpt = None,
    checkpoint: CheckpointOpt = None,
    model_id: IdOpt = None,
    title: TitleOpt = None,
    models_dir: OutOpt = None,
    replace: ReplaceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """A ResNet with CBAM or SE attention, mixup, label smoothing and augmentation, in PyTorch; exported to ONNX.

    Example: eyevsai-train train deep-v2 --pack fashion-mnist --attention cbam --epochs 40 --image-size 28
    --mixup-alpha 0.2 --schedule onecycle
    """
    params = {
        "epochs": epochs,
        "batch_size": batch_size,
        "image_size": image_size,
        "lr": lr,
        "weight_decay": weight_decay,
        "width": width,
        "stages": stages,
        "depth": depth,
        "dropout": dropout,
        "patience": patience,
        "crop_scale": crop_scale,
        "flip": flip,
        "jitter": jitter,
        "erase_prob": erase_prob,
        "mixup_alpha": mixup_alpha,
        "mixup_prob": mixup_prob,
        "label_smoothing": label_smoothing,
        "accumulate": accumulate,
        "clip": clip,
        "schedule": schedule,
        "warmup": warmup,
        "amp": amp,
        "compile": compile_,
        "seed": seed,
        "workers": workers,
        "device": device,
        "resume": str(resume) if resume else None,
    }
    _train(ctx, "deep_v2", attention, pack, params, model_id, title, as_json, models_dir, checkpoint, replace=replace)
