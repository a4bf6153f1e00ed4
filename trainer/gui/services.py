"""The GUI's one door to the trainer: packs, training, predictions, the model registry, tuning and publishing.

Qt-free, so every page's data path is testable without a window, and thin: each method delegates to the module
the CLI uses (`trainer.packs`, `trainer.training`, `trainer.model_registry`, `trainer.tuning`, ...). Long operations
return Progress generators for a `GeneratorWorker`. The registry's SQLite connection belongs to the thread that
opened it, so every registry operation opens its own short-lived connection on the thread it runs on.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.card import ModelCard, read_card
from classifiers.errors import ConfigError, PackError
from classifiers.pack import Pack, discover_packs
from classifiers.progress import Progress
from classifiers.registry import FamilyInfo, get_family, list_families
from trainer.inspection import FolderInspection, inspect_image_folder, sample_shas, thumbnail
from trainer.model_registry import DONE, ModelRecord, ModelRegistry, record_training
from trainer.packs import BuildReport, SplitFractions, build_pack, export_game_pack, iter_image_folder
from trainer.predictions import SplitPredictions, predict_test_split
from trainer.publish import PublishReport, publish
from trainer.study_summary import StudySnapshot, summarise_study
from trainer.training import TrainResult, default_model_id, train_model
from trainer.workspace import Workspace

PACK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class ModelRow:
    """One model as the registry page lists it."""

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

    @property
    def is_playable(self) -> bool:
        return self.status == DONE and self.model_dir is not None


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
    )


class TrainerServices:
    """Everything the pages do, on one workspace."""

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
        self, folder: str | Path, pack_id: str, *, title: str = "", licence: str = "", seed: int = 0
    ) -> Generator[Progress, None, BuildReport]:
        """Build a pack from a class-per-folder tree into the workspace.

        Raises:
            PackError: a bad id, an existing pack, or a folder that cannot make a pack.
        """
        if not PACK_ID.match(pack_id):
            raise PackError(
                f"Pack id {pack_id!r} may contain only letters, digits, '-' and '_' (and must start "
                "with a letter or digit)."
            )
        folder = Path(folder)
        images = iter_image_folder(folder)
        report = None
        for item in build_pack(
            images,
            self.workspace.packs_dir,
            pack_id=pack_id,
            title=title or folder.name,
            licence=licence or "unknown",
            source=str(folder.resolve()),
            seed=seed,
            fractions=SplitFractions(),
        ):
            if isinstance(item, BuildReport):
                report = item
            else:
                yield item
        assert report is not None
        return report

    def sample_thumbnails(self, pack: Pack, per_class: int, size: int) -> dict[str, list[np.ndarray]]:
        """Thumbnails of a few images per class (train split when present, else test)."""
        split = "train" if pack.available("train") else "test"
        return {
            name: [thumbnail(pack.load_image(sha), size) for sha in shas]
            for name, shas in sample_shas(pack, split, per_class).items()
        }

    # -- training ---------------------------------------------------------------------------------------------
    def families(self) -> list[FamilyInfo]:
        return list_families()

    def train(
        self,
        family: str,
        variant: str,
        pack: Pack,
        params: dict[str, Any],
        *,
        title: str = "",
        tuning_notes: dict[str, Any] | None = None,
    ) -> Generator[Progress, None, TrainResult]:
        """Train one model into the workspace, recorded in its registry (running, then done/failed/interrupted).

        Args:
            tuning_notes: `TuneResult.notes()` when params are a tuning study's best; the card and the registry
                then record the model as tuned.
        """
        info = get_family(family)
        model_id = default_model_id(pack.id, info.name, variant)
        work = train_model(
            info.name,
            pack,
            self.workspace.models_dir,
            variant=variant,
            params=params,
            model_id=model_id,
            title=title or None,
            training_notes=tuning_notes,
        )
        with self._registry() as registry:
            return (
                yield from record_training(
                    registry,
                    work,
                    model_id=model_id,
                    family=info.name,
                    variant=variant,
                    pack_id=pack.id,
                    models_dir=self.workspace.models_dir,
                    config={"params": params, **(tuning_notes or {})},
                    tuned=bool(tuning_notes),
                )
            )

    def predict_test(self, model_dir: str | Path, pack: Pack) -> Generator[Progress, None, SplitPredictions]:
        return predict_test_split(model_dir, pack)

    def test_thumbnails(self, pack: Pack, shas: list[str], size: int) -> list[np.ndarray]:
        return [thumbnail(pack.load_image(sha), size) for sha in shas]

    # -- registry ---------------------------------------------------------------------------------------------
    @contextmanager
    def _registry(self) -> Iterator[ModelRegistry]:
        registry = self.workspace.registry()
        try:
            yield registry
        finally:
            registry.close()

    def models(self) -> tuple[list[ModelRow], list[str]]:
        """Every model of the registry (after reconciling it with the models folder) and what reconcile changed."""
        with self._registry() as registry:
            changes = registry.reconcile(self.workspace.models_dir)
            return [_row(record) for record in registry.records()], changes

    def card(self, row: ModelRow) -> ModelCard:
        if row.model_dir is None:
            raise ConfigError(f"Model '{row.id}' has no folder ({row.status}); there is nothing to open.")
        return read_card(row.model_dir)

    def delete_model(self, model_id: str) -> list[Path]:
        """Delete a model's files and registry row, and re-rank the difficulties of its pack."""
        with self._registry() as registry:
            record = registry.get(model_id)
            removed = registry.remove(record)
            registry.refresh_difficulties(record.pack_id)
            return removed

    def publish(self, pack_id: str, destination: str | Path) -> Generator[Progress, None, PublishReport]:
        """Rank the pack's active models, copy them with their prediction tables into destination/models (as
        `eyevsai-train publish` does), then the pack's test and ranked images into destination/packs, so the game
        reading destination finds both.

        Raises:
            PackError: the pack has no active model or no images to publish.
            ConfigError: destination is the workspace itself.
        """
        destination = Path(destination)
        if destination.resolve() == self.workspace.root.resolve():
            raise ConfigError(f"{destination} is the trainer workspace itself; publish into another folder.")
        pack = self.find_pack(pack_id)
        with self._registry() as registry:
            registry.reconcile(self.workspace.models_dir)
            report = yield from publish(registry, pack, destination, models_dir=self.workspace.models_dir)
        if (destination / "packs" / pack.id).resolve() != pack.root.resolve():  # else the pack is there already
            yield Progress("publish", 0, 1, f"copying the test and ranked images of {pack.id} for the game")
            export_game_pack(pack, destination / "packs")
        yield Progress("publish", 1, 1, f"published {pack.id} to {destination}")
        return report

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
    ) -> Generator[Progress | StudySnapshot, None, Any]:
        """Run (or resume) the Optuna study of pack × family (× variant), yielding progress and, after every
        trial, a StudySnapshot for the trials table and plots; returns the TuneResult."""
        import optuna

        from trainer.tuning import open_storage, study_name, tune

        info = get_family(family)
        storage_path = self.workspace.tuning_storage
        work = tune(
            info,
            pack,
            storage_path=storage_path,
            trials=trials,
            timeout=timeout,
            variant=variant,
            base_params=base_params,
            seed=seed,
        )
        name = study_name(pack.id, info.name, variant)
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
                    storage = storage or open_storage(storage_path)
                    yield summarise_study(optuna.load_study(study_name=name, storage=storage))
        finally:
            work.close()  # a cancelled run closes the study's running trial (tune marks it failed)
        yield summarise_study(optuna.load_study(study_name=name, storage=storage or open_storage(storage_path)))
        return result
