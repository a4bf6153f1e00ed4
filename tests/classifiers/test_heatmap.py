"""Where the AI looked: the occlusion heatmap, for every bundled model (shallow included)."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.heatmap import occlusion_heatmap, overlay
from classifiers.locations import bundled_assets_dir
from classifiers.pack import open_pack
from classifiers.runtime import OnnxClassifier
from classifiers.view import thumbnail_view

MODELS = sorted(p for p in (bundled_assets_dir() / "models").iterdir() if (p / "model.json").is_file())


class BrightCornerModel:
    """Says 'class 1' in proportion to the brightness of the image's top-left quarter: only that region matters."""

    def predict_batch(self, images: list[np.ndarray]) -> np.ndarray:
        out = []
        for image in images:
            h, w = image.shape[:2]
            p = float(image[: h // 2, : w // 2].mean()) / 255
            out.append([1 - p, p])
        return np.array(out, np.float32)


def test_the_heat_lies_where_the_answer_comes_from() -> None:
    image = np.zeros((28, 28, 3), np.uint8)
    image[2:12, 2:12] = 255  # a bright square inside the region the model reads
    image[16:26, 16:26] = 255  # and one outside it
    heatmap = occlusion_heatmap(BrightCornerModel(), image, 1)
    assert heatmap.heat.shape == (28, 28) and heatmap.heat.max() == pytest.approx(1.0)
    assert heatmap.heat[2:12, 2:12].mean() > 0.5 > heatmap.heat[16:26, 16:26].mean()


@pytest.mark.parametrize("model_dir", MODELS, ids=[p.name for p in MODELS])
def test_every_bundled_model_gets_a_heatmap_of_its_answer(model_dir) -> None:
    classifier = OnnxClassifier(model_dir, device="cpu")
    pack = open_pack(bundled_assets_dir() / "packs" / classifier.card.pack_id)
    image = pack.load_image(pack.available("test")[0].sha256)
    answer = int(classifier.predict_batch([image])[0].argmax())
    heatmap = occlusion_heatmap(classifier, image, answer)
    assert heatmap.grid.shape == (5, 5) and heatmap.heat.shape == image.shape[:2]
    assert 0.0 <= heatmap.heat.min() and heatmap.heat.max() <= 1.0
    assert heatmap.heat.max() > 0  # hiding some part of the garment changes the model's mind
    painted = overlay(image, heatmap.heat)
    assert painted.shape == image.shape and painted.dtype == np.uint8


def test_the_ai_view_is_a_thumbnail_of_the_same_size() -> None:
    image = np.random.default_rng(0).integers(0, 255, (28, 28, 3), dtype=np.uint8)
    view = thumbnail_view(image, 8)
    assert view.shape == image.shape and not np.array_equal(view, image)
    assert thumbnail_view(image, None) is image
