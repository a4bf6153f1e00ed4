"""Training on human uncertainty (issue 20): a human-label export's answer distributions as soft targets for the
deep families (`--soft-labels FILE`), read per image and mixed with the hard label."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from classifiers.errors import ConfigError
from classifiers.families.soft_labels import read_soft_labels, target_table

torch = pytest.importorskip("torch")

from classifiers.families.base import load_split_images  # noqa: E402
from classifiers.families.deep_torch_loop import with_human  # noqa: E402
from classifiers.families.deep_v1 import DeepV1Classifier  # noqa: E402
from classifiers.pack import Pack  # noqa: E402
from tests.helpers.synthetic import make_synthetic_pack  # noqa: E402

pytestmark = pytest.mark.torch
TINY = {
    "min_steps": 0,
    "batch_size": 16,
    "image_size": 16,
    "width": 8,
    "blocks": 2,
    "workers": 0,
    "device": "cpu",
    "augment": False,
}


def _export(path: Path, records: dict[str, dict[str, int]]) -> Path:
    lines = [{"image_sha256": sha, "label": "x", "answer_counts": counts} for sha, counts in records.items()]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    return path


def test_answer_counts_become_distributions_over_the_pack_classes(tmp_path: Path) -> None:
    path = _export(tmp_path / "human_labels.jsonl", {"a" * 64: {"cat": 3, "dog": 1}, "b" * 64: {"emu": 2}})
    soft = read_soft_labels(tmp_path, ["cat", "dog"])  # the export's folder works as well as its file
    assert list(soft) == ["a" * 64]  # no answer in a pack class: skipped
    np.testing.assert_allclose(soft["a" * 64], [0.75, 0.25])
    table = target_table(["c" * 64, "a" * 64], soft, 2)
    np.testing.assert_allclose(table, [[0, 0], [0.75, 0.25]])
    path.write_text("not json\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 1"):
        read_soft_labels(path, ["cat", "dog"])


def test_a_human_row_is_mixed_in_and_an_empty_one_keeps_the_hard_label() -> None:
    hard = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    human = torch.tensor([[0.5, 0.5], [0.0, 0.0]])
    mixed = with_human(hard, human, 0.5)
    torch.testing.assert_close(mixed, torch.tensor([[0.75, 0.25], [0.0, 1.0]]))
    torch.testing.assert_close(with_human(hard, human, 1.0)[0], human[0])


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Pack:
    return make_synthetic_pack(tmp_path_factory.mktemp("packs"), per_class=12)


def test_soft_labels_reach_the_loss_and_agreeing_ones_change_nothing(pack: Pack, tmp_path: Path) -> None:
    shas, labels = pack.labelled("train")
    agree = _export(tmp_path / "agree.jsonl", {sha: {pack.classes[y]: 4} for sha, y in zip(shas, labels, strict=True)})
    other = _export(
        tmp_path / "other.jsonl", {sha: {pack.classes[(y + 1) % 4]: 4} for sha, y in zip(shas, labels, strict=True)}
    )
    images = load_split_images(pack, "test")[0]

    def fit(**extra: object) -> tuple[np.ndarray, list[str]]:
        estimator = DeepV1Classifier(epochs=2, lr=0.01, seed=0, **TINY, **extra)
        messages = [e.message for e in estimator.fit(pack)]
        return estimator.predict_proba(images), messages

    hard, _ = fit()
    same, messages = fit(soft_labels=str(agree), soft_label_weight=1.0)
    assert f"human soft labels for {len(shas)} of {len(shas)} images" in messages
    np.testing.assert_allclose(same, hard, atol=1e-6)  # people who agree with the labels: the same model
    changed, _ = fit(soft_labels=str(other), soft_label_weight=0.5)
    assert np.abs(changed - hard).max() > 1e-3
    with pytest.raises(ConfigError, match="No soft labels"):
        list(DeepV1Classifier(epochs=1, soft_labels=str(tmp_path / "missing.jsonl"), **TINY).fit(pack))
