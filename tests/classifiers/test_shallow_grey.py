"""Shallow features follow the pack: a grey pack of small images trains without the colour histogram and with
Gabor at the images' own size, the card says so, and the game's runtime computes the same vector."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from classifiers.card import read_card
from classifiers.features import FeatureParams
from classifiers.pack import Pack, open_pack
from classifiers.progress import run_to_end
from classifiers.runtime import OnnxClassifier
from tests.helpers.synthetic import make_synthetic_pack, synthetic_sources
from trainer.packs import SourceImage, SplitFractions, build_pack
from trainer.training import train_model


def _grey_pack(out: Path, size: int = 16) -> Pack:
    """The synthetic stripes, grey and shrunk to `size` px (like Fashion-MNIST's 28 px grey images)."""
    sources = []
    for source in synthetic_sources(12):
        rgb = cv2.imdecode(np.frombuffer(source.data, np.uint8), cv2.IMREAD_GRAYSCALE)
        ok, encoded = cv2.imencode(".png", cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA))
        assert ok
        sources.append(SourceImage(encoded.tobytes(), source.label, source.origin))
    fractions = SplitFractions(val=0.15, test=0.25, ranked=0.0)
    run_to_end(build_pack(sources, out, pack_id="grey", title="Grey", licence="CC0", fractions=fractions))
    return open_pack(out / "grey")


def test_a_grey_pack_trains_on_the_grey_feature_set_and_the_game_reads_it(tmp_path: Path) -> None:
    pack = _grey_pack(tmp_path / "packs")
    result = run_to_end(
        train_model("shallow", pack, tmp_path / "models", variant="logreg", params={"feature_size": 32})
    )
    extractor = FeatureParams.from_card(read_card(result.model_dir).input.extractor)
    assert (extractor.colour, extractor.gabor_size) == (False, 16)
    game = OnnxClassifier(result.model_dir, device="cpu")  # the runtime recomputes the card's features
    images = [pack.load_image(sha) for sha in pack.labelled("test")[0]]
    assert game.predict_batch(images).shape == (len(images), len(pack.classes))
    assert result.card.test_accuracy > 0.5  # four classes: chance is 0.25


def test_a_colour_pack_keeps_the_full_feature_set(tmp_path: Path) -> None:
    pack = make_synthetic_pack(tmp_path / "packs", per_class=10)  # 48 px colour images, features at 32
    result = run_to_end(
        train_model("shallow", pack, tmp_path / "models", variant="logreg", params={"feature_size": 32})
    )
    assert read_card(result.model_dir).input.extractor["params"] == FeatureParams(size=32).to_card()["params"]
