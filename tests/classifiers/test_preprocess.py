"""Decode + resize: the only preprocessing the game and the trainer do."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from classifiers.errors import EyeVsAIError, ImageDecodeError
from classifiers.preprocess import decode_image, load_image, prepare_batch, resize_rgb

RED_RGB = np.zeros((10, 12, 3), np.uint8)
RED_RGB[..., 0] = 255


def _encode(rgb: np.ndarray, ext: str) -> bytes:
    ok, data = cv2.imencode(ext, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return data.tobytes()


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".webp"])
def test_pure_red_decodes_as_rgb_red(ext: str) -> None:
    image = decode_image(_encode(RED_RGB, ext))
    assert image.shape == (10, 12, 3)
    assert image.dtype == np.uint8
    mean = image.reshape(-1, 3).mean(0)
    assert mean[0] > 230  # channel 0 is red, not blue (OpenCV decodes BGR)
    assert mean[1] < 25 and mean[2] < 25


def test_png_is_lossless() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
    np.testing.assert_array_equal(decode_image(_encode(image, ".png")), image)


def test_greyscale_and_rgba_files_decode_to_three_channels() -> None:
    ok, grey = cv2.imencode(".png", np.full((5, 6), 77, np.uint8))
    assert ok
    decoded = decode_image(grey.tobytes())
    assert decoded.shape == (5, 6, 3)
    assert (decoded == 77).all()
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 2] = 255  # BGRA: red
    rgba[..., 3] = 255
    ok, data = cv2.imencode(".png", rgba)
    assert ok
    decoded = decode_image(data.tobytes())
    assert decoded.shape == (4, 4, 3)
    assert tuple(decoded[0, 0]) == (255, 0, 0)


@pytest.mark.parametrize(
    "data", [b"definitely not an image", b"", _encode(RED_RGB, ".png")[:20]], ids=["garbage", "empty", "truncated"]
)
def test_undecodable_bytes_raise_a_clear_error(data: bytes) -> None:
    with pytest.raises(ImageDecodeError, match=f"Could not decode upload.bin \\({len(data)} bytes\\)") as info:
        decode_image(data, name="upload.bin")
    assert isinstance(info.value, EyeVsAIError)


def test_load_image_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "red.png"
    path.write_bytes(_encode(RED_RGB, ".png"))
    np.testing.assert_array_equal(load_image(path), RED_RGB)


def test_load_image_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ImageDecodeError, match="Could not read image") as info:
        load_image(tmp_path / "nope.png")
    assert str(tmp_path / "nope.png") in str(info.value)


@pytest.mark.parametrize(
    ("source", "target"), [((64, 48), (32, 32)), ((10, 12), (40, 30)), ((50, 20), (20, 50)), ((32, 32), (32, 32))]
)
def test_resize_rgb_gives_exact_shape_and_uint8(source: tuple[int, int], target: tuple[int, int]) -> None:
    image = np.random.default_rng(0).integers(0, 256, (*source, 3), dtype=np.uint8)
    resized = resize_rgb(image, *target)
    assert resized.shape == (*target, 3)
    assert resized.dtype == np.uint8
    assert resized.flags["C_CONTIGUOUS"]


def test_resize_keeps_colour() -> None:
    for size in ((5, 6), (40, 50)):
        resized = resize_rgb(RED_RGB, *size)
        assert (resized == [255, 0, 0]).all()


def test_resize_accepts_a_greyscale_array() -> None:
    resized = resize_rgb(np.full((20, 20), 9, np.uint8), 10, 10)
    assert resized.shape == (10, 10, 3)
    assert (resized == 9).all()


def test_resize_same_size_returns_equal_pixels_without_aliasing_the_input() -> None:
    image = np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3)
    resized = resize_rgb(image, 4, 4)
    np.testing.assert_array_equal(resized, image)


def test_prepare_batch_is_nhwc_uint8() -> None:
    images = [RED_RGB, np.zeros((100, 30, 3), np.uint8), np.zeros((8, 8), np.uint8)]
    batch = prepare_batch(images, 16, 24)
    assert batch.shape == (3, 16, 24, 3)
    assert batch.dtype == np.uint8
    assert (batch[0] == [255, 0, 0]).all()
