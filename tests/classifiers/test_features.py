"""Hand-crafted features: the exact vector a shallow model's card promises, at training and at play time."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from classifiers.errors import ConfigError
from classifiers.features import EXTRACTOR_NAME, FeatureParams, extract, extract_batch, feature_dim


def _photo(height: int = 64, width: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth colour image with edges in several directions, plus noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    red = 128 + 90 * np.sin(xx / 5.0 + yy / 9.0)
    green = 128 + 90 * np.cos(yy / 4.0)
    blue = np.where((xx - width / 2) ** 2 + (yy - height / 2) ** 2 < (min(height, width) / 3) ** 2, 220.0, 30.0)
    image = np.dstack([red, green, blue]) + rng.normal(0, 8, (height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def _hog_length(p: FeatureParams) -> int:
    cells = p.size // p.hog_cell
    return (cells - 1) ** 2 * 4 * p.hog_bins


@pytest.mark.parametrize(
    "params",
    [
        FeatureParams(),
        FeatureParams(size=32),
        FeatureParams(size=48, hog_cell=6, hog_bins=12),
        FeatureParams(size=16, hog_cell=8, lbp_grid=1, hue_bins=4, gabor_orientations=2, gabor_scales=(1.5,)),
    ],
    ids=["default", "size32", "size48-cell6", "minimal"],
)
def test_vector_length_equals_feature_dim(params: FeatureParams) -> None:
    vector = extract(_photo(), params)
    assert vector.shape == (feature_dim(params),)
    expected = (
        _hog_length(params)
        + params.lbp_grid**2 * 10
        + params.hue_bins * params.sat_bins * params.val_bins
        + 6
        + 2 * params.gabor_orientations * len(params.gabor_scales)
    )
    assert feature_dim(params) == expected


def test_vector_is_float32_finite_and_deterministic() -> None:
    image = _photo()
    first = extract(image)
    second = extract(image.copy())
    assert first.dtype == np.float32
    assert np.isfinite(first).all()
    np.testing.assert_array_equal(first, second)


def test_different_images_give_different_vectors() -> None:
    assert not np.allclose(extract(_photo(seed=0)), extract(_photo(seed=0)[::-1]))


@pytest.mark.parametrize("shape", [(40, 90), (90, 40), (7, 13), (300, 200)])
def test_any_image_size_gives_the_same_length(shape: tuple[int, int]) -> None:
    vector = extract(_photo(*shape))
    assert vector.shape == (feature_dim(),)
    assert np.isfinite(vector).all()


def test_greyscale_images_work_in_rgb_and_2d_form() -> None:
    grey = cv2.cvtColor(_photo(), cv2.COLOR_RGB2GRAY)
    as_rgb = np.dstack([grey] * 3)
    vector = extract(as_rgb)
    assert np.isfinite(vector).all()
    np.testing.assert_array_equal(vector, extract(grey))


def test_flat_black_image_does_not_divide_by_zero() -> None:
    vector = extract(np.zeros((64, 64, 3), np.uint8))
    assert np.isfinite(vector).all()


def test_extract_batch_stacks_rows() -> None:
    images = [_photo(seed=s) for s in range(3)]
    batch = extract_batch(images, FeatureParams(size=32))
    assert batch.shape == (3, feature_dim(FeatureParams(size=32)))
    assert batch.dtype == np.float32
    np.testing.assert_array_equal(batch[1], extract(images[1], FeatureParams(size=32)))


def test_hog_part_agrees_with_scikit_image() -> None:
    """Same Dalal–Triggs layout (8-px cells, 2×2 blocks at one-cell stride, L2-Hys) as skimage.feature.hog.

    Our bin k is centred on 20k° with linear interpolation, skimage's bin k is the hard interval [20k°, 20k°+20°);
    an angle in skimage's bin k therefore lands in our bins k and k+1, so we compare against skimage's
    histogram summed with its cyclic neighbour.
    """
    skimage_feature = pytest.importorskip("skimage.feature")
    skimage_data = pytest.importorskip("skimage.data")
    params = FeatureParams(size=64)
    grey = cv2.resize(skimage_data.camera(), (64, 64), interpolation=cv2.INTER_AREA)
    reference = skimage_feature.hog(
        grey, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2), block_norm="L2-Hys", feature_vector=True
    )
    assert reference.size == _hog_length(params)
    ours = extract(np.dstack([grey] * 3), params)[: reference.size]
    per_bin = reference.reshape(-1, params.hog_bins)
    shifted = per_bin + np.roll(per_bin, 1, axis=1)
    assert np.corrcoef(shifted.ravel(), ours)[0, 1] > 0.9
    assert np.corrcoef(reference, ours)[0, 1] > 0.7


def test_hog_sees_stripe_direction() -> None:
    """Horizontal stripes have vertical gradients (90°), vertical stripes horizontal ones (0°)."""
    params = FeatureParams(size=32)
    stripes = np.zeros((32, 32, 3), np.uint8)
    stripes[::4] = 255
    stripes[1::4] = 255
    n = _hog_length(params)
    horizontal = extract(stripes, params)[:n].reshape(-1, params.hog_bins).sum(0)
    vertical = extract(stripes.transpose(1, 0, 2).copy(), params)[:n].reshape(-1, params.hog_bins).sum(0)
    # Bin k is centred on 20k°: 90° falls halfway between bins 4 and 5, 0° exactly on bin 0.
    assert set(np.flatnonzero(np.isclose(horizontal, horizontal.max()))) == {4, 5}
    assert vertical.argmax() == 0


def test_params_round_trip_through_a_card() -> None:
    params = FeatureParams(size=48, hog_cell=6, hog_bins=12, lbp_grid=3, gabor_scales=(1.5, 3.0, 6.0))
    card_entry = params.to_card()
    assert card_entry["name"] == EXTRACTOR_NAME
    assert card_entry["params"]["gabor_scales"] == [1.5, 3.0, 6.0]  # JSON has no tuples
    again = FeatureParams.from_card(json.loads(json.dumps(card_entry)))
    assert again == params
    np.testing.assert_array_equal(extract(_photo(), again), extract(_photo(), params))


def test_from_card_with_no_params_gives_the_defaults() -> None:
    assert FeatureParams.from_card({"name": EXTRACTOR_NAME}) == FeatureParams()


def test_from_card_rejects_another_extractor() -> None:
    with pytest.raises(ValueError, match="Unknown feature extractor 'sift'"):
        FeatureParams.from_card({"name": "sift", "params": {}})


def test_from_card_rejects_unknown_params_plainly() -> None:
    with pytest.raises(ValueError, match="colour_space"):
        FeatureParams.from_card({"name": EXTRACTOR_NAME, "params": {"colour_space": "lab"}})


def test_from_card_rejects_a_newer_extractor_version() -> None:
    entry = FeatureParams().to_card()
    entry["params"]["version"] = 2
    with pytest.raises(ValueError, match="version 2"):
        FeatureParams.from_card(entry)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 60, "hog_cell": 8}, r"size \(60\) must be a multiple of hog_cell \(8\)"),
        ({"size": 8, "hog_cell": 8}, "at least two cells"),
        ({"hog_cell": 0}, "hog_cell"),
        ({"size": -64}, "size"),
        ({"hog_bins": 0}, "hog_bins"),
        ({"lbp_grid": 0}, "lbp_grid"),
        ({"hue_bins": 0}, "hue_bins"),
        ({"gabor_scales": (2.0, -1.0)}, "gabor_scales"),
    ],
    ids=[
        "not-multiple",
        "one-cell",
        "zero-cell",
        "negative-size",
        "zero-bins",
        "zero-grid",
        "zero-hue",
        "negative-scale",
    ],
)
def test_invalid_params_raise_a_clear_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FeatureParams(**kwargs)


def test_grey_features_leave_the_colour_histogram_out_and_say_so_in_the_card() -> None:
    full, grey = FeatureParams(size=32), FeatureParams(size=32, colour=False, gabor_size=16)
    colour_length = full.hue_bins * full.sat_bins * full.val_bins + 6  # the histogram and the RGB mean and std
    assert feature_dim(grey) == feature_dim(full) - colour_length
    assert FeatureParams.from_card(json.loads(json.dumps(grey.to_card()))) == grey
    assert "colour" not in full.to_card()["params"]  # a colour card reads as it did before grey features existed


def test_gabor_at_a_smaller_size_sees_the_same_texture() -> None:
    """Gabor on the native 16 px image with scales shrunk alike finds the stripes the upscaled 32 px one finds."""
    stripes = np.zeros((16, 16, 3), np.uint8)
    stripes[::4] = 255
    stripes[1::4] = 255
    full = extract(stripes, FeatureParams(size=32, colour=False))
    native = extract(stripes, FeatureParams(size=32, colour=False, gabor_size=16))
    gabor = 2 * 4 * 2  # orientations × scales × (mean, std)
    np.testing.assert_array_equal(full[:-gabor], native[:-gabor])  # HOG and LBP still at `size`
    assert np.argmax(full[-gabor::2][:4]) == np.argmax(native[-gabor::2][:4])  # the same orientation responds most


def test_gabor_size_larger_than_size_is_refused() -> None:
    with pytest.raises(ConfigError, match="gabor_size"):
        FeatureParams(size=32, gabor_size=64)
