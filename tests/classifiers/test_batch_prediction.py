"""The one batch-prediction path: batches, progress, unreadable images and the card's class order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from classifiers.batch_prediction import predict_images
from classifiers.card import read_card
from classifiers.errors import ImageDecodeError, PackError
from classifiers.locations import bundled_assets_dir
from classifiers.pack import Pack, open_pack
from classifiers.progress import Progress, run_to_end
from classifiers.runtime import OnnxClassifier
from tests.helpers.synthetic import make_synthetic_pack


class CountingClassifier:
    """Stands in for OnnxClassifier: every image gets the same row; the batch sizes it was given are kept."""

    def __init__(self, classes: Sequence[str], row: Sequence[float]) -> None:
        self.card = SimpleNamespace(classes=list(classes))
        self.row = np.asarray(row, np.float32)
        self.batches: list[int] = []

    def predict_batch(self, images: Sequence[np.ndarray]) -> np.ndarray:
        assert images, "an empty batch is not worth running"
        self.batches.append(len(images))
        return np.tile(self.row, (len(images), 1))


@pytest.fixture
def pack(tmp_path: Path) -> Pack:
    return make_synthetic_pack(tmp_path, per_class=6)


def _shas(pack: Pack, n: int) -> list[str]:
    return [entry.sha256 for entry in pack.available("train")[:n]]


def _uniform(pack: Pack) -> CountingClassifier:
    return CountingClassifier(pack.classes, [1 / len(pack.classes)] * len(pack.classes))


def test_images_run_in_batches_with_one_progress_event_per_batch(pack: Pack) -> None:
    classifier, shas, events = _uniform(pack), _shas(pack, 10), []
    work = predict_images(classifier, pack, shas, batch=4, stage="evaluate", message="checking")
    result = run_to_end(work, events.append)
    assert classifier.batches == [4, 4, 2]
    assert [(e.stage, e.done, e.total) for e in events] == [
        ("evaluate", 4, 10),
        ("evaluate", 8, 10),
        ("evaluate", 10, 10),
    ]
    assert events[0].message == "checking (4/10)"
    assert result.shas == shas and result.unreadable == []
    assert result.probabilities.shape == (10, len(pack.classes))


def test_columns_follow_the_models_card_not_the_pack(pack: Pack) -> None:
    card_order = list(reversed(pack.classes))
    classifier = CountingClassifier(card_order, [0.7, 0.2, 0.1, 0.0])
    result = run_to_end(predict_images(classifier, pack, _shas(pack, 2)))
    assert result.classes == card_order
    for probabilities in result.by_image().values():
        assert probabilities[pack.classes[-1]] == pytest.approx(0.7)
        assert probabilities[pack.classes[0]] == pytest.approx(0.0)
        assert list(probabilities) == card_order


def _break_two_images(pack: Pack, shas: list[str]) -> tuple[str, str]:
    garbled, missing = shas[1], shas[5]
    pack.image_path(garbled).write_bytes(b"not an image")
    pack.image_path(missing).unlink()
    return garbled, missing


def test_an_unreadable_image_stops_the_run_and_is_named(pack: Pack) -> None:
    shas = _shas(pack, 8)
    garbled, missing = _break_two_images(pack, shas)
    with pytest.raises(ImageDecodeError, match=garbled[:12]):
        run_to_end(predict_images(_uniform(pack), pack, shas))
    with pytest.raises(PackError, match=missing[:12]):
        run_to_end(predict_images(_uniform(pack), pack, [missing]))


def test_unreadable_images_can_be_skipped_and_are_reported(pack: Pack) -> None:
    shas = _shas(pack, 8)
    garbled, missing = _break_two_images(pack, shas)
    classifier, events = _uniform(pack), []
    result = run_to_end(predict_images(classifier, pack, shas, batch=3, skip_unreadable=True), events.append)
    assert result.unreadable == [garbled, missing]
    assert result.shas == [sha for sha in shas if sha not in (garbled, missing)]
    assert len(result.probabilities) == len(result.shas) == 6 and set(result.by_image()) == set(result.shas)
    assert classifier.batches == [2, 2, 2] and events[-1].done == events[-1].total == 8


def test_a_batch_of_unreadable_images_only_runs_nothing(pack: Pack) -> None:
    shas = _shas(pack, 2)
    for sha in shas:
        pack.image_path(sha).write_bytes(b"garbage")
    classifier = _uniform(pack)
    result = run_to_end(predict_images(classifier, pack, shas, skip_unreadable=True))
    assert classifier.batches == [] and result.unreadable == shas
    assert result.probabilities.shape == (0, len(pack.classes)) and result.by_image() == {}


def test_no_images_no_events(pack: Pack) -> None:
    events: list[Progress] = []
    result = run_to_end(predict_images(_uniform(pack), pack, []), events.append)
    assert events == [] and result.shas == [] and result.probabilities.shape == (0, len(pack.classes))


def test_a_batch_below_one_is_refused(pack: Pack) -> None:
    with pytest.raises(ValueError, match="batch must be at least 1, got 0"):
        run_to_end(predict_images(_uniform(pack), pack, _shas(pack, 1), batch=0))


def test_a_real_model_gives_what_it_gives_image_by_image() -> None:
    """Through onnxruntime and the card's preprocessing: batching changes neither the rows nor their order."""
    model_dir = bundled_assets_dir() / "models" / "fashion-mnist-shallow-logreg"
    pack = open_pack(bundled_assets_dir() / "packs" / "fashion-mnist")
    classifier = OnnxClassifier(model_dir, device="cpu", card=read_card(model_dir))
    shas = [entry.sha256 for entry in pack.available("test")[:7]]
    result = run_to_end(predict_images(classifier, pack, shas, batch=3))
    one_by_one = np.concatenate([classifier.predict_batch([pack.load_image(sha)]) for sha in shas])
    np.testing.assert_allclose(result.probabilities, one_by_one, atol=1e-6)
    assert result.classes == classifier.card.classes and result.shas == shas
    assert result.by_image()[shas[0]] == pytest.approx(classifier.predict(pack.load_image(shas[0])), abs=1e-6)
