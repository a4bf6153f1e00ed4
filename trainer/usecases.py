"""The trainer's use cases: build a pack, train, evaluate, tune, publish, list and remove models, on one workspace.

Both front ends call this layer: the CLI (`trainer.commands`) drives its Progress generators with a progress bar,
the GUI (`trainer.gui`) runs them on a worker thread. It is Qt-free and thin: each use case composes the domain
modules (`trainer.packs`, `trainer.training`, `trainer.model_registry`, `trainer.tuning`, `trainer.publish`, ...)
and holds what both front ends would otherwise restate (record a run in the registry, then close it; reconcile the
registry first; the workspace's folders). The registry's SQLite connection belongs to the thread that opened it,
so every registry operation opens its own short-lived connection on the thread it runs on.
"""

from __future__ import annotations

from collections.abc import Collection, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.card import ModelCard, discover_models, read_card
from classifiers.chance import is_at_chance
from classifiers.errors import ConfigError, ModelCardError, PackError
from classifiers.families.base import check_trainable
from classifiers.pack import Pack, discover_packs
from classifiers.progress import Progress
from classifiers.registry import FamilyInfo, get_family, list_families
from classifiers.runtime import OnnxClassifier
from trainer.datasets import iter_packaged
from trainer.inspection import FolderInspection, inspect_image_folder, sample_shas, thumbnail
from trainer.model_registry import DONE, RUNNING, ModelRecord, ModelRegistry, record_training
from trainer.packs import BuildReport, SourceImage, SplitFractions, build_pack, export_game_pack, iter_image_folder
from trainer.predictions import SplitPredictions, predict_test_split
from trainer.publish import PublishReport, TierTest, publish, tier_tests
from trainer.recipes import RECIPES, FetchContext, find_recipe
from trainer.recipes.combined import COMBINED, DEFAULT_PARTS
from trainer.recipes.fetch import FetchReport, fetch_pack
from trainer.study_summary import StudySnapshot, load_snapshot, study_names, summarise_study
from trainer.training import TrainResult, default_model_id, evaluate_on_test, reassign_difficulties, train_model
from trainer.tuning import TuneResult, open_storage, study_name, tune
from trainer.tuning_spaces import estimator_defaults
from trainer.workspace import Workspace


@dataclass(frozen=True)
class ModelRow:
    """One model as the GUI's model list shows it."""

    id: str
    title: str
    pack_id: str
    family: str
    variant: str
    status: str
    test_accuracy: float | None
    macro_f1: float | None
    difficulty: str | None
    created: str
    model_dir: Path | None
    tuned: bool = False
    error: str = ""
    at_chance: bool = False  # its test accuracy is not better than guessing (`classifiers.chance`)

    @property
    def is_playable(self) -> bool:
        return self.status == DONE and self.model_dir is not None


@dataclass(frozen=True)
class Evaluation:
    """A model's metrics on a pack's test split, measured through onnxruntime."""

    model_id: str
    pack_id: str
    provider: str
    metrics: dict[str, Any]


def _row(record: ModelRecord) -> ModelRow:
    title = record.id
    if record.status == DONE and record.model_dir:
        try:
            title = read_card(record.model_dir, check_onnx=False).title
        except Exception:  # noqa: BLE001 - a broken card still lists; reconcile reports it
            pass
    return ModelRow(
        id=record.id,
        title=title,
        pack_id=record.pack_id,
        family=record.family,
        variant=record.variant,
        status=record.status,
        test_accuracy=record.test_accuracy,
        macro_f1=(record.metrics or {}).get("macro_f1"),
        difficulty=record.difficulty,
        created=(record.finished or record.created or "")[:19].replace("T", " "),
        model_dir=Path(record.model_dir) if record.model_dir else None,
        tuned=record.tuned,
        error=record.error or "",
        at_chance=record.test_accuracy is not None and is_at_chance(record.metrics),
    )


def refuse_to_overwrite(model_dir: Path) -> None:
    """Training to the folder of an existing model would delete it: say so before any work is done.

    Raises:
        ConfigError: model_dir exists.
    """
    if model_dir.exists():
        raise ConfigError(
            f"A model already exists in {model_dir}. Choose another --id, or pass --replace to overwrite it."
        )


def check_training(info: FamilyInfo, variant: str, params: dict[str, Any], pack: Pack) -> None:
    """Everything about a training run that can be checked without training: the variant, every hyperparameter
    (values, rules between them, files they name, a GPU asked for), and that the pack can train a classifier.

    Raises:
        ConfigError / MissingExtraError: a bad variant or hyperparameter, or the family is not installed.
        PackError: a class with fewer than two training images.
    """
    info.create(variant, **params).check_params()
    check_trainable(pack)


class TrainerUseCases:
    """Everything a user does with the trainer, on one workspace; the CLI and the GUI call only these."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    # -- packs ------------------------------------------------------------------------------------------------
    def packs(self) -> tuple[list[Pack], list[str]]:
        """Packs of the workspace, then the bundled ones (which are game packs: test images only)."""
        return discover_packs(self.workspace.pack_roots())

    def find_pack(self, pack_id: str) -> Pack:
        return self.workspace.find_pack(pack_id)

    def inspect_folder(self, folder: str | Path) -> Generator[Progress, None, FolderInspection]:
        return inspect_image_folder(folder)

    def build_pack(
        self,
        folder: str | Path,
        pack_id: str,
        *,
        title: str | None = None,
        licence: str | None = None,
        fractions: SplitFractions | None = None,
        seed: int = 0,
        out_dir: str | Path | None = None,
    ) -> Generator[Progress, None, BuildReport]:
        """Build a pack from a class-per-folder tree into the workspace (or out_dir).

        Raises:
            PackError: a bad id, an existing pack, or a folder that cannot make a pack.
        """
        folder = Path(folder)
        meta = {"title": title or folder.name, "licence": licence or "unknown", "source": str(folder.resolve())}
        return self._build(iter_image_folder(folder), pack_id, meta, fractions, seed, 0, out_dir)

    def build_packaged_pack(
        self,
        dataset: str,
        pack_id: str,
        *,
        title: str | None = None,
        licence: str | None = None,
        fractions: SplitFractions | None = None,
        seed: int = 0,
        limit: int | None = None,
        out_dir: str | Path | None = None,
    ) -> Generator[Progress, None, BuildReport]:
        """Build a pack from a packaged dataset (`trainer.datasets`), at most `limit` images per class."""
        info, images, total = iter_packaged(dataset, limit)
        meta = {"title": title or info.title, "licence": licence or info.licence, "source": info.source}
        return self._build(images, pack_id, meta, fractions, seed, total, out_dir)

    def fetch_pack(
        self,
        recipe: str,
        pack_id: str | None = None,
        *,
        dest: str | Path | None = None,
        base_url: str | None = None,
        limit: int | None = None,
        sources: list[str] | None = None,
        fractions: SplitFractions | None = None,
        seed: int = 0,
    ) -> Generator[Progress, None, FetchReport]:
        """Fetch a recipe's dataset (`trainer.recipes`) and build it into the workspace (or dest).

        Downloads go to the workspace's downloads folder, where an interrupted one resumes. `sources` names the
        packs a `combined` recipe is made of (default: the recipes' default pack ids).

        Raises:
            PackError: unknown recipe, a bad or taken id, a missing source pack, a bad limit.
            DownloadError: a download failed or did not match its checksum.
        """
        chosen = find_recipe(recipe)
        if limit is not None and limit < 1:
            raise ConfigError(f"--limit must be at least 1 (got {limit}).")
        parts = tuple(self._source_pack(name) for name in (sources or DEFAULT_PARTS)) if chosen is COMBINED else ()
        ctx = FetchContext(self.workspace.root / "downloads", base_url=base_url, limit=limit, sources=parts)
        return fetch_pack(
            chosen, ctx, Path(dest or self.workspace.packs_dir), pack_id=pack_id, fractions=fractions, seed=seed
        )

    def _source_pack(self, name: str) -> Pack:
        try:
            return self.workspace.find_pack(name)
        except PackError as exc:
            hint = f" Fetch it first: eyevsai-train pack fetch {name}." if name in RECIPES else ""
            raise PackError(f"{exc}{hint}") from exc

    def _build(
        self,
        images: Iterator[SourceImage | str],
        pack_id: str,
        meta: dict[str, str],
        fractions: SplitFractions | None,
        seed: int,
        total: int,
        out_dir: str | Path | None,
    ) -> Generator[Progress, None, BuildReport]:
        return build_pack(
            images,
            out_dir or self.workspace.packs_dir,
            pack_id=pack_id,
            fractions=fractions or SplitFractions(),
            seed=seed,
            total=total,
            **meta,
        )

    def sample_thumbnails(self, pack: Pack, per_class: int, size: int) -> dict[str, list[np.ndarray]]:
        """Thumbnails of a few images per class (train split when present, else test)."""
        split = "train" if pack.available("train") else "test"
        return {
            name: [thumbnail(pack.load_image(sha), size) for sha in shas]
            for name, shas in sample_shas(pack, split, per_class).items()
        }

    def test_thumbnails(self, pack: Pack, shas: list[str], size: int) -> list[np.ndarray]:
        return [thumbnail(pack.load_image(sha), size) for sha in shas]

    # -- training and evaluation ------------------------------------------------------------------------------
    def families(self) -> list[FamilyInfo]:
        return list_families()

    def train(
        self,
        family: str,
        variant: str | None,
        pack: Pack,
        params: dict[str, Any],
        *,
        model_id: str | None = None,
        title: str | None = None,
        tuning_notes: dict[str, Any] | None = None,
        models_dir: str | Path | None = None,
        replace: bool = False,
    ) -> Generator[Progress, None, TrainResult]:
        """Train one model into the workspace's models (or models_dir), recorded in the registry (running, then
        done/failed/interrupted); returns the TrainResult, its difficulty ranked among the pack's models.

        Args:
            variant: None for the family's first variant.
            tuning_notes: `TuneResult.notes()` when params are a tuning study's best; the card and the registry
                then record the model as tuned.
            replace: overwrite an existing model folder of the same id (otherwise that is refused).

        Raises:
            ConfigError: the model folder exists and replace is false; bad hyperparameters (`check_training`).
            PackError: the pack cannot train a classifier.
            Neither leaves a row in the registry: they are raised before the run is recorded.
        """
        info = get_family(family)
        variant = variant or info.variants[0]
        destination = Path(models_dir or self.workspace.models_dir)
        model_id = model_id or default_model_id(pack.id, info.name, variant)
        if not replace:  # now, not at the first step: nothing starts, no progress shows, for a refused run
            refuse_to_overwrite(destination / model_id)
        check_training(info, variant, params, pack)  # a typo is refused here, not recorded as a failed run
        work = train_model(
            info.name,
            pack,
            destination,
            variant=variant,
            params=params,
            model_id=model_id,
            title=title or None,
            training_notes=tuning_notes,
        )
        config = {"params": params, **(tuning_notes or {})}
        return self._recorded(work, model_id, info.name, variant, pack.id, destination, config)

    def _recorded(
        self,
        work: Generator[Progress, None, TrainResult],
        model_id: str,
        family: str,
        variant: str,
        pack_id: str,
        models_dir: Path,
        config: dict[str, Any],
    ) -> Generator[Progress, None, TrainResult]:
        """The training run recorded in the registry, whose connection lives on the thread that drives the run."""
        with self._registry() as registry:
            return (
                yield from record_training(
                    registry,
                    work,
                    model_id=model_id,
                    family=family,
                    variant=variant,
                    pack_id=pack_id,
                    models_dir=models_dir,
                    config=config,
                    tuned="tuning" in config,
                )
            )

    def evaluate(
        self, model: str, pack_id: str | None = None, split: str = "test"
    ) -> Generator[Progress, None, Evaluation]:
        """Measure a model (id or folder) on a pack's labelled split (default: the test split of the model's own
        pack; see `training.split_labels`).

        Raises:
            ModelCardError: no such model, or the pack's classes differ from the model's.
        """
        classifier = OnnxClassifier(self.workspace.model_dir(model))
        pack = self.find_pack(pack_id or classifier.card.pack_id)
        if list(pack.classes) != list(classifier.card.classes):
            raise ModelCardError(
                f"Model '{classifier.card.id}' predicts {classifier.card.classes} but pack '{pack.id}' has classes "
                f"{pack.classes}. Evaluate it on the pack it was trained for."
            )
        return self._evaluation(classifier, pack, split)

    @staticmethod
    def _evaluation(
        classifier: OnnxClassifier, pack: Pack, split: str = "test"
    ) -> Generator[Progress, None, Evaluation]:
        metrics = yield from evaluate_on_test(classifier, pack, split=split)
        return Evaluation(classifier.card.id, pack.id, classifier.provider, metrics)

    def predict_test(self, model_dir: str | Path, pack: Pack) -> Generator[Progress, None, SplitPredictions]:
        return predict_test_split(model_dir, pack)

    # -- tuning -----------------------------------------------------------------------------------------------
    def tune(
        self,
        family: str,
        pack: Pack,
        *,
        trials: int,
        variant: str | None,
        base_params: dict[str, Any],
        timeout: float | None = None,
        seed: int = 0,
    ) -> Generator[Progress, None, TuneResult]:
        """Run (or resume) the Optuna study of pack × family (× variant) in the workspace; returns the TuneResult."""
        return tune(
            get_family(family),
            pack,
            storage_path=self.workspace.tuning_storage,
            trials=trials,
            timeout=timeout,
            variant=variant,
            base_params=base_params,
            seed=seed,
        )

    def tune_with_snapshots(
        self, family: str, pack: Pack, **options: Any
    ) -> Generator[Progress | StudySnapshot, None, TuneResult]:
        """`tune`, also yielding a StudySnapshot after every trial and at the end (the GUI's table and plots)."""
        import optuna  # lazy: optuna

        work = self.tune(family, pack, **options)
        name = study_name(pack.id, get_family(family).name, options.get("variant"))
        storage = None
        try:
            while True:
                try:
                    event = next(work)
                except StopIteration as stop:
                    result = stop.value
                    break
                yield event
                if event.stage == "trial":
                    storage = storage or open_storage(self.workspace.tuning_storage)
                    yield summarise_study(optuna.load_study(study_name=name, storage=storage))
        finally:
            work.close()  # a cancelled run closes the study's running trial (tune marks it failed)
        storage = storage or open_storage(self.workspace.tuning_storage)
        yield summarise_study(optuna.load_study(study_name=name, storage=storage))
        return result

    def train_tuned(self, family: str, pack: Pack, result: TuneResult) -> Generator[Progress, None, TrainResult]:
        """Re-train a study's best parameters into the workspace, recorded as tuned; a family with checkpoints
        writes them to the workspace's checkpoints, so a long re-train can be resumed with `train ... --resume`."""
        info = get_family(family)
        model_id = default_model_id(pack.id, info.name, result.variant)
        params = dict(result.params)
        if "checkpoint" in estimator_defaults(info):
            params.setdefault("checkpoint", str(self.workspace.checkpoints_dir / f"{model_id}.pt"))
        return self.train(
            info.name, result.variant, pack, params, model_id=model_id, tuning_notes=result.notes(), replace=True
        )

    def stored_study(self, name: str) -> Generator[Progress, None, StudySnapshot | None]:
        """The workspace's tuning study `name` (None when there is none yet)."""
        yield Progress("load", 0, 1, f"reading study {name}")
        storage = self.workspace.tuning_storage
        return load_snapshot(storage, name) if name in study_names(storage) else None

    # -- the model registry -----------------------------------------------------------------------------------
    @contextmanager
    def _registry(self) -> Iterator[ModelRegistry]:
        registry = self.workspace.registry()
        try:
            yield registry
        finally:
            registry.close()

    def reconcile(self) -> list[str]:
        """Bring the registry in line with the models folder; return what changed, one line each."""
        with self._registry() as registry:
            return registry.reconcile(self.workspace.models_dir)

    def model_records(
        self, *, pack_id: str | None = None, statuses: tuple[str, ...] | None = None
    ) -> tuple[list[ModelRecord], list[str]]:
        """The registry's runs (after reconciling it with the models folder), and what reconcile changed."""
        with self._registry() as registry:
            changes = registry.reconcile(self.workspace.models_dir)
            return registry.records(pack_id=pack_id, statuses=statuses), changes

    def model_record(self, model_id: str) -> tuple[ModelRecord, list[str]]:
        """One run of the registry (after reconciling it), and what reconcile changed.

        Raises:
            ModelCardError: no run of that id.
        """
        with self._registry() as registry:
            changes = registry.reconcile(self.workspace.models_dir)
            return registry.get(model_id), changes

    def models(self) -> tuple[list[ModelRow], list[str]]:
        """Every model of the registry as the GUI lists it, and what reconcile changed."""
        records, changes = self.model_records()
        return [_row(record) for record in records], changes

    def card(self, row: ModelRow) -> ModelCard:
        if row.model_dir is None:
            raise ConfigError(f"Model '{row.id}' has no folder ({row.status}); there is nothing to open.")
        return read_card(row.model_dir)

    def remove_model(self, model_id: str) -> list[Path]:
        """Delete a model's files and registry row, and re-rank the difficulties of its pack.

        Raises:
            ConfigError: the model is being trained.
        """
        with self._registry() as registry:
            record = registry.get(model_id)
            if record.status == RUNNING:
                raise ConfigError(f"Model '{model_id}' is being trained (process {record.owner_pid}); stop that first.")
            removed = registry.remove(record)
            registry.refresh_difficulties(record.pack_id)
            return removed

    # -- publishing -------------------------------------------------------------------------------------------
    def test_tiers(
        self, pack_id: str, models_dir: str | Path
    ) -> Generator[Progress, None, tuple[dict[str, str], list[TierTest]]]:
        """Re-rank the difficulties of pack_id's models in models_dir (e.g. the bundled `assets/models`) and test
        each pair of adjacent tiers on the pack's test split, as publish does; returns (model id -> level, tests).

        Raises:
            PackError: no such pack, or no model of it in models_dir.
        """
        pack = self.find_pack(pack_id)
        levels = reassign_difficulties(models_dir, pack.id)
        if not levels:
            raise PackError(f"No model of pack '{pack.id}' in {models_dir}. Check --models-dir and --pack.")
        models, _problems = discover_models(models_dir)
        placed = [(path, card) for path, card in models if card.id in levels]
        tests = yield from tier_tests(placed, levels, pack)
        return levels, tests

    def publishable(self, pack_id: str) -> list[ModelRow]:
        """The pack's active models in the workspace's models folder: what `publish` can choose from."""
        with self._registry() as registry:
            registry.reconcile(self.workspace.models_dir)
            return [_row(record) for record in registry.active(pack_id, self.workspace.models_dir)]

    def publish(
        self,
        pack_id: str,
        destination: str | Path,
        *,
        with_game_pack: bool = True,
        models: Collection[str] | None = None,
        allow_chance: bool = False,
    ) -> Generator[Progress, None, PublishReport]:
        """Rank the pack's chosen active models (default all; those at chance are refused unless allow_chance),
        copy them with their prediction tables into destination/models, and (with_game_pack) the pack's test and
        ranked images into destination/packs, so the game reading destination finds both.

        Raises:
            PackError: the pack has no active model (or none left to publish) or no images to publish.
            ConfigError: destination is the workspace itself; `models` names no active model of the pack.
        """
        destination = Path(destination)
        if destination.resolve() == self.workspace.root.resolve():
            raise ConfigError(f"{destination} is the trainer workspace itself; publish into another folder.")
        chosen = {"models": models, "allow_chance": allow_chance}
        return self._publish(self.find_pack(pack_id), destination, with_game_pack, chosen)

    def _publish(
        self, pack: Pack, destination: Path, with_game_pack: bool, chosen: dict[str, Any]
    ) -> Generator[Progress, None, PublishReport]:
        with self._registry() as registry:
            registry.reconcile(self.workspace.models_dir)
            report = yield from publish(registry, pack, destination, models_dir=self.workspace.models_dir, **chosen)
        if not with_game_pack:
            return report
        if (destination / "packs" / pack.id).resolve() != pack.root.resolve():  # else the pack is there already
            yield Progress("publish", 0, 1, f"copying the test and ranked images of {pack.id} for the game")
            export_game_pack(pack, destination / "packs")
        yield Progress("publish", 1, 1, f"published {pack.id} to {destination}")
        return report
