"""`eyevsai-train train deep-v1` and `train deep-v2`: the PyTorch families, with checkpoints to resume from."""

from __future__ import annotations

import typer

from trainer.commands.context import state_of
from trainer.commands.train import TrainArgs, family_command, run_training
from trainer.training import default_model_id
from trainer.usecases import refuse_to_overwrite


def register(app: typer.Typer) -> None:
    """Add the deep families' subcommands to the `train` app."""
    app.command("deep-v1")(deep_v1)
    app.command("deep-v2")(deep_v2)


def _train(ctx: typer.Context, family: str, args: TrainArgs) -> None:
    """Pick the model id and checkpoint path, say where the checkpoint goes, then train like every family."""
    state = state_of(ctx)
    model_id = args.model_id
    if model_id is None:
        model_id = default_model_id(state.workspace.find_pack(args.pack).id, family, args.variant)
    if not args.replace:  # before the checkpoint message: nothing is started for a refused run
        refuse_to_overwrite((args.models_dir or state.workspace.models_dir) / model_id)
    params, resume = dict(args.params), args.params.get("resume")
    checkpoint = params.get("checkpoint") or resume or str(state.workspace.checkpoints_dir / f"{model_id}.pt")
    params["checkpoint"] = checkpoint
    if not args.as_json:
        state.output.info(f"Checkpoints go to {checkpoint}; continue an interrupted run with --resume {checkpoint}")
    run_training(
        ctx, family, args.variant, args.pack, params, model_id, args.title, args.as_json, args.models_dir, replace=True
    )  # an existing model was refused above, before the checkpoint note


deep_v1 = family_command(
    "deep_v1",
    """A basic CNN (conv/BN/ReLU/pool blocks, dropout) in PyTorch, with early stopping; exported to ONNX.

    Example: eyevsai-train train deep-v1 --pack fashion-mnist --epochs 30 --batch-size 64 --image-size 28
    """,
    run=_train,
)
deep_v2 = family_command(
    "deep_v2",
    """A ResNet with CBAM or SE attention, mixup, label smoothing and augmentation, in PyTorch; exported to ONNX.

    Example: eyevsai-train train deep-v2 --pack fashion-mnist --attention cbam --epochs 40 --image-size 28
    --mixup-alpha 0.2 --schedule onecycle
    """,
    variant_option="attention",
    run=_train,
)
