"""The prediction table: one model's probabilities on a pack's ranked images, as the trainer publishes it and the
sync server imports it for ranked play (the server never runs a model during a game).

On disk it is one JSON file per model (`json.dumps(..., indent=1, ensure_ascii=False)` plus a newline)::

    {"model_id": "...", "onnx_sha256": "...", "classes": [...], "predictions": {image sha256: [p, ...]}}

Each row lists the probabilities in `classes` order (the model card's order), rounded to `DECIMALS` decimals so
that tables made on different machines compare equal. Pure data and JSON text only: computing a table needs
onnxruntime and lives in `classifiers.batch_prediction`; the callers read and write the files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DECIMALS = 6
EXPECTED_SHAPE = '{"model_id", "onnx_sha256", "classes", "predictions": {sha256: [probabilities]}}'


class PredictionTableError(ValueError):
    """A prediction table file that is unreadable or not shaped like a prediction table."""


@dataclass(frozen=True)
class PredictionTable:
    """One model's probabilities per image.

    Attributes:
        model_id: the model card's id.
        onnx_sha256: the hash of the ONNX file that produced the table.
        classes: the column order of every row (the card's class order).
        predictions: image sha256 → probabilities in `classes` order.
    """

    model_id: str
    onnx_sha256: str
    classes: list[str]
    predictions: dict[str, list[float]]

    @classmethod
    def from_rows(
        cls, model_id: str, onnx_sha256: str, classes: Sequence[str], rows: Iterable[tuple[str, Sequence[float]]]
    ) -> PredictionTable:
        """A table from (image sha256, probabilities) pairs, rounding each probability to `DECIMALS` decimals."""
        predictions = {sha: [round(float(p), DECIMALS) for p in row] for sha, row in rows}
        return cls(model_id, onnx_sha256, list(classes), predictions)

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "onnx_sha256": self.onnx_sha256,
            "classes": self.classes,
            "predictions": self.predictions,
        }

    @classmethod
    def from_json_obj(cls, obj: Mapping[str, Any]) -> PredictionTable:
        """Raises: KeyError, TypeError, ValueError or AttributeError for an object of another shape."""
        return cls(
            str(obj["model_id"]),
            str(obj["onnx_sha256"]),
            [str(c) for c in obj["classes"]],
            {str(k): [float(p) for p in v] for k, v in obj["predictions"].items()},
        )

    def to_json(self) -> str:
        """The file's text: `json.dumps(..., indent=1, ensure_ascii=False)` and a final newline."""
        return json.dumps(self.to_json_obj(), indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def parse(cls, text: str, *, source: str = "Prediction table") -> PredictionTable:
        """The table in a file's text; `source` names the file in the error message.

        Raises:
            PredictionTableError: the text is not JSON, or not shaped like a prediction table.
        """
        try:
            return cls.from_json_obj(json.loads(text))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PredictionTableError(
                f"{source} is not valid ({type(exc).__name__}: {exc}). Expected {EXPECTED_SHAPE}."
            ) from exc
