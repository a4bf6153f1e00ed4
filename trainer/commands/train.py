"""`eyevsai-train train FAMILY`: one subcommand per family, each with its own hyperparameters."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from classifiers.chance import is_at_chance
from classifiers.errors import ConfigError
from classifiers.families.embedding import SMALL_PACK_FAMILIES, small_pack_images_per_class
from classifiers.families.params import Hyperparams, Param, hyperparams_of
from classifiers.registry import family_label, get_family
from trainer.commands.context import state_of
from trainer.usecases import TrainerUseCases

app = typer.Typer(help="Train one model on a pack and export it to ONNX with its model card.", no_args_is_help=True)

PackOpt = Annotated[str, typer.Option("--pack", help="Pack id (in the workspace or bundled) or pack folder.")]
IdOpt = Annotated[str | None, typer.Option("--id", help="Model id (default: <pack>-<family>-<variant>-<time>).")]
TitleOpt = Annotated[str | None, typer.Option(help="Human-readable model title.")]
OutOpt = Annotated[
    Path | None, typer.Option("--models-dir", help="Where to write the model folder (default: the workspace's models).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the resulting card as JSON.")]
ReplaceOpt = Annotated[
    bool,
    typer.Option(
        "--replace", help="Overwrite the model folder if --id names one that exists (otherwise that is refused)."
    ),
]


def run_training(
    ctx: typer.Context,
    family: str,
    variant: str | None,
    pack: str,
    params: dict[str, Any],
    model_id: str | None,
    title: str | None,
    as_json: bool,
    models_dir: Path | None = None,
    *,
    replace: bool = False,
) -> None:
    """Shared by every family's command: train (recorded in the workspace's model registry), then print a summary."""
    state = state_of(ctx)
    output = state.output
    output.as_json = as_json
    usecases = TrainerUseCases(state.workspace)
    found = usecases.find_pack(pack)
    per_class = small_pack_images_per_class(found) if get_family(family).name in SMALL_PACK_FAMILIES else None
    if per_class is not None:
        output.info(
            f"small pack ({per_class} training images per class): try `eyevsai-train train embedding --pack {pack}`, "
            "pretrained features train in seconds"
        )
    work = usecases.train(
        family,
        variant,
        found,
        params,
        model_id=model_id,
        title=title,
        models_dir=models_dir,
        replace=replace,
    )
    result = output.drive(work)
    card = result.card
    if as_json:
        output.emit_json(
            {"model_dir": str(result.model_dir), **card.to_json_obj(), "at_chance": is_at_chance(card.metrics)}
        )
        return
    output.table(
        f"Model {card.id}",
        ["field", "value"],
        [
            ["family / variant", f"{family_label(card.family)} / {card.variant}"],
            ["pack", card.pack_id],
            ["test accuracy", f"{card.metrics['test_accuracy']:.1%} on {card.metrics['n_test']} images"],
            ["macro F1", f"{card.metrics['macro_f1']:.3f}"],
            ["difficulty", card.difficulty or "-"],
            ["ONNX parity", f"max abs diff {result.parity.max_abs_diff:.1e} on {result.parity.n_images} images"],
            ["time", f"{result.seconds:.1f} s"],
            ["saved to", str(result.model_dir)],
        ],
    )
    output.flag_chance(card.id, card.metrics)


@dataclass(frozen=True)
class TrainArgs:
    """A train command's values: the variant, the family's checked hyperparameters and the common options."""

    pack: str
    variant: str
    params: dict[str, Any]
    model_id: str | None
    title: str | None
    models_dir: Path | None
    replace: bool
    as_json: bool


Runner = Callable[[typer.Context, str, TrainArgs], None]
# Option names that are not --<name-with-dashes>: kept as they were before the options were generated.
OPTION_NAMES = {"pca_components": "--pca", "C": "--C"}
_KEYWORD = inspect.Parameter.KEYWORD_ONLY


def option_name(param: Param) -> str:
    return OPTION_NAMES.get(param.name, "--" + param.name.replace("_", "-"))


def _option(param: Param) -> inspect.Parameter:
    """The typer option of a declared hyperparameter. Values arrive as text and are read by the Param itself, so
    the CLI, `--set` and the GUI accept and refuse exactly the same values, with the same message."""
    text = param.help[:1].upper() + param.help[1:] + "."
    if param.kind == "bool":
        flag = option_name(param)
        option = typer.Option(f"{flag}/--no-{flag[2:]}", help=text)
        return inspect.Parameter(param.name, _KEYWORD, annotation=Annotated[bool, option], default=param.default)
    if param.kind == "choice":
        metavar = "|".join(param.choices)
    else:
        metavar = "|".join(
            [*param.words, "INTEGER" if param.kind == "int" else "FLOAT" if param.kind == "float" else "TEXT"]
        )
    if param.optional:
        metavar += "|none"
    default = None if param.default is None else str(param.default)  # shown in --help, read like a given value
    option = typer.Option(option_name(param), help=text, metavar=metavar)
    return inspect.Parameter(param.name, _KEYWORD, annotation=Annotated[str | None, option], default=default)


def read_params(declared: Hyperparams, values: dict[str, Any], variant: str, variant_flag: str) -> dict[str, Any]:
    """The hyperparameters `variant` uses: a given text read and checked by its Param, otherwise its default.

    Every given value is checked, whichever variant reads it. Parameters of other variants are left out, as the
    GUI's form leaves them out, so both front ends record the same config for the same model; a value changed for a
    parameter the variant does not read is refused rather than silently ignored.

    Raises:
        ConfigError: "--n-estimators 0: n_estimators must be an integer from 1 to 5000.", or
            "--n-estimators 300: n_estimators is used only by --algorithm rf, not svm."
    """
    params = {}
    for param in declared:
        if not param.in_cli:
            continue
        value = values.get(param.name)  # text (an option's default too), a flag's bool, or None: not given
        if isinstance(value, str):
            value = param.parse(value, f"{option_name(param)} {value}")
        elif value is None:
            value = param.default
        if param.applies_to(variant):
            params[param.name] = value
        elif value != param.default:
            raise ConfigError(
                f"{option_name(param)} {values.get(param.name)}: {param.name} is used only by "
                f"{variant_flag} {' or '.join(param.variants)}, not {variant}."
            )
    return params


def family_command(family: str, doc: str, *, variant_option: str | None = None, run: Runner | None = None) -> Any:
    """A `train FAMILY` command whose options are the family's declared hyperparameters.

    Its values are checked (each against its Param, then the estimator's own rules) before any pack is read;
    then `run` (default: `run_training`) trains.
    """
    info = get_family(family)
    declared = hyperparams_of(info.estimator)
    assert declared is not None, f"family {family!r} declares no HYPERPARAMS"
    variant_flag = f"--{variant_option}"

    def command(ctx: typer.Context, **values: Any) -> None:
        variant = values.pop("variant", declared.variants[0])
        if variant not in declared.variants:
            raise ConfigError(
                f"{variant_flag} {variant}: family '{family_label(info.name)}' has no variant {variant!r}; "
                f"choose one of {', '.join(declared.variants)}."
            )
        params = read_params(declared, values, variant, variant_flag)
        info.create(variant, **params).check_params()  # rules between values, files: still before any work
        common = {name: values[name] for name in ("pack", "model_id", "title", "models_dir", "replace", "as_json")}
        (run or _run)(ctx, info.name, TrainArgs(variant=variant, params=params, **common))

    variant = []
    if variant_option:
        help_text = declared.variant_help[:1].upper() + declared.variant_help[1:]
        option = typer.Option(variant_flag, help=help_text, metavar="|".join(declared.variants))
        variant = [
            inspect.Parameter("variant", _KEYWORD, annotation=Annotated[str, option], default=declared.variants[0])
        ]
    command.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
            inspect.Parameter("pack", _KEYWORD, annotation=PackOpt),
            *variant,
            *(_option(param) for param in declared if param.in_cli),
            inspect.Parameter("model_id", _KEYWORD, annotation=IdOpt, default=None),
            inspect.Parameter("title", _KEYWORD, annotation=TitleOpt, default=None),
            inspect.Parameter("models_dir", _KEYWORD, annotation=OutOpt, default=None),
            inspect.Parameter("replace", _KEYWORD, annotation=ReplaceOpt, default=False),
            inspect.Parameter("as_json", _KEYWORD, annotation=JsonOpt, default=False),
        ]
    )
    command.__doc__ = doc
    command.__name__ = family
    return command


def _run(ctx: typer.Context, family: str, args: TrainArgs) -> None:
    run_training(
        ctx,
        family,
        args.variant,
        args.pack,
        args.params,
        args.model_id,
        args.title,
        args.as_json,
        args.models_dir,
        replace=args.replace,
    )


app.command("shallow")(
    family_command(
        "shallow",
        """Hand-crafted features (HOG, LBP, colour, Gabor) + SVM / RandomForest / LogisticRegression.

    Example: eyevsai-train train shallow --pack fashion-mnist --algorithm rf --n-estimators 300
    """,
        variant_option="algorithm",
    )
)
