"""The prediction table: its exact file text, a lossless round trip, and clear errors for broken text."""

from __future__ import annotations

import json

import pytest

from game_rules.prediction_table import PredictionTable, PredictionTableError

SHA_A, SHA_B = "a" * 64, "b" * 64


def _table() -> PredictionTable:
    return PredictionTable.from_rows(
        "m-1", "f" * 64, ["cat", "chat"], [(SHA_B, [0.25000004, 0.74999996]), (SHA_A, [1 / 3, 2 / 3])]
    )


def test_the_file_format_is_pinned() -> None:
    # indent 1, non-ASCII kept, rows in the order given, probabilities rounded to 6 decimals, a final newline
    expected = (
        '{\n "model_id": "m-1",\n "onnx_sha256": "' + "f" * 64 + '",\n "classes": [\n  "cat",\n  "chat"\n ],\n'
        ' "predictions": {\n  "' + SHA_B + '": [\n   0.25,\n   0.75\n  ],\n  "' + SHA_A + '": [\n'
        "   0.333333,\n   0.666667\n  ]\n }\n}\n"
    )
    assert _table().to_json() == expected


def test_a_table_reads_back_equal() -> None:
    table = PredictionTable.from_rows("modèle", "0" * 64, ["été", "hiver"], [(SHA_A, [0.5, 0.5])])
    text = table.to_json()
    assert "modèle" in text
    assert PredictionTable.parse(text) == table


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        ("{not json", "JSONDecodeError"),
        (json.dumps({"model_id": "m", "classes": [], "predictions": {}}), "KeyError"),
        (json.dumps({"model_id": "m", "onnx_sha256": "", "classes": [], "predictions": []}), "AttributeError"),
        (json.dumps({"model_id": "m", "onnx_sha256": "", "classes": [], "predictions": {"a": ["x"]}}), "ValueError"),
    ],
)
def test_a_broken_table_is_refused_with_the_expected_shape(content: str, detail: str) -> None:
    with pytest.raises(PredictionTableError, match=detail) as raised:
        PredictionTable.parse(content, source="Prediction table broken.json")
    assert "broken.json" in str(raised.value) and '"predictions": {sha256: [probabilities]}' in str(raised.value)
