"""Running the AI opponents on served ranked images: each model loaded once per process, its session reused.

A model's card and ONNX bytes live in the database (import-pack puts them there, so every worker and host can run
them); the first use writes them to a cache folder in the data directory, checks the ONNX hash, and opens an
`OnnxClassifier` on the CPU. The model card's preprocessing (decode + resize, or features) is the game's.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifiers.card import CARD_FILE, ONNX_FILE, file_sha256
from classifiers.preprocess import decode_image
from classifiers.runtime import OnnxClassifier
from sync_server.errors import ServiceError
from sync_server.models import AiModel

CACHE_DIR = "model-cache"


class ModelRunner:
    """{onnx sha256: OnnxClassifier}, filled on first use; thread-safe."""

    def __init__(self, data_dir: Path) -> None:
        self.cache = data_dir / CACHE_DIR
        self._models: dict[str, OnnxClassifier] = {}
        self._lock = threading.Lock()

    def _classifier(self, session: Session, model: AiModel) -> OnnxClassifier:
        loaded = self._models.get(model.onnx_sha256)
        if loaded is not None:
            return loaded
        with self._lock:
            if model.onnx_sha256 not in self._models:
                self._models[model.onnx_sha256] = self._load(session, model)
            return self._models[model.onnx_sha256]

    def _load(self, session: Session, model: AiModel) -> OnnxClassifier:
        onnx = session.scalar(select(AiModel.onnx).where(AiModel.id == model.id))
        if onnx is None or model.card is None:
            raise ServiceError(409, "The AI opponent's model file is not on the server; ask an admin to re-import it")
        folder = self.cache / model.onnx_sha256
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write(folder / ONNX_FILE, onnx)
        _write(folder / CARD_FILE, json.dumps(model.card).encode("utf-8"))
        if file_sha256(folder / ONNX_FILE) != model.onnx_sha256:
            raise ServiceError(409, "The AI opponent's model file does not match its hash; ask an admin to re-import")
        return OnnxClassifier(folder, device="cpu")

    def probabilities(self, *, session: Session, model: AiModel, image: bytes) -> dict[str, float]:
        """{class: probability} of the model on exactly these encoded image bytes."""
        return self._classifier(session, model).predict(decode_image(image, name="served ranked image"))


def _write(path: Path, data: bytes) -> None:
    # Aside, then renamed: another worker process may be reading the same cache file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
