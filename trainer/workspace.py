"""The trainer workspace: where built packs, trained models and the registry live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from classifiers.card import CARD_FILE
from classifiers.errors import ModelCardError
from classifiers.locations import bundled_assets_dir, user_data_dir
from classifiers.pack import Pack, find_pack
from trainer.model_registry import REGISTRY_URL_ENV, ModelRegistry

WORKSPACE_ENV = "EYEVSAI_WORKSPACE"


@dataclass(frozen=True)
class Workspace:
    """The folders of one workspace, and where its registry and tuning studies live.

    registry_url / tuning_url: a database URL shared by several machines instead of the workspace's SQLite files
    (docs/operators.md "Training on several machines").
    """

    root: Path
    registry_url: str | None = None
    tuning_url: str | None = None

    @classmethod
    def resolve(cls, override: str | Path | None = None, *, registry_url: str | None = None) -> Workspace:
        """--workspace, else $EYEVSAI_WORKSPACE, else <user data dir>/trainer; --registry, else
        $EYEVSAI_REGISTRY_URL, else the workspace's registry.db."""
        registry_url = registry_url or os.environ.get(REGISTRY_URL_ENV) or None
        if override:
            return cls(Path(override), registry_url)
        if os.environ.get(WORKSPACE_ENV):
            return cls(Path(os.environ[WORKSPACE_ENV]), registry_url)
        return cls(user_data_dir() / "trainer", registry_url)

    @property
    def packs_dir(self) -> Path:
        return self.root / "packs"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def registry_path(self) -> Path:
        return self.root / "registry.db"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def checkpoints_dir(self) -> Path:
        return self.root / "checkpoints"

    @property
    def weights_dir(self) -> Path:
        """Pretrained backbone weights converted or fetched for the transfer family."""
        return self.root / "weights"

    @property
    def tuning_storage(self) -> Path | str:
        """Optuna studies (a study per pack, family and variant): the tuning URL, else one SQLite file beside the
        registry."""
        return self.tuning_url or self.root / "tuning.db"

    def registry(self) -> ModelRegistry:
        """Open (creating if needed) the workspace's model registry; the caller closes it."""
        return ModelRegistry(self.registry_url or self.registry_path)

    def pack_roots(self) -> list[Path]:
        return [self.packs_dir, bundled_assets_dir() / "packs"]

    def find_pack(self, pack: str) -> Pack:
        return find_pack(pack, self.pack_roots())

    def model_dir(self, model: str) -> Path:
        """A model's folder: a path to it, or its id in this workspace or among the bundled models."""
        candidate = Path(model)
        if (candidate / CARD_FILE).is_file():
            return candidate
        for root in (self.models_dir, bundled_assets_dir() / "models"):
            if (root / model / CARD_FILE).is_file():
                return root / model
        raise ModelCardError(
            f"No model '{model}' in {self.models_dir} or the bundled models. "
            "Pass a model folder or an id from `eyevsai-train models`."
        )
