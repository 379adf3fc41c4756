"""The perceptual hash on pictures made by real encoders: edits that leave the picture the same
stay within the default distance, different pictures lie far apart, and the hash is of the
picture as shown (upright)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance

from lightbox.imaging.perceptual import distance, perceptual_hash
from lightbox.services.listing import DEFAULT_SIMILAR_DISTANCE
from tests.support import render_data

SIZE = (1200, 900)


def scene(seed: int) -> Image.Image:
    """A made-up photograph: smooth colour fields at several scales, and a few discs on them."""
    rng = np.random.default_rng(seed)
    channels = []
    for _ in range(3):
        field = np.zeros((SIZE[1], SIZE[0]))
        for cells in (3, 7, 17, 41):
            coarse = Image.fromarray((rng.random((cells, cells * 4 // 3 + 1)) * 255)
                                     .astype(np.uint8))
            field += np.asarray(coarse.resize(SIZE, Image.Resampling.BICUBIC), float) / cells**0.7
        channels.append(field)
    samples = np.stack(channels, axis=-1)
    samples = (samples - samples.min()) / (samples.max() - samples.min()) * 255
    image = Image.fromarray(samples.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(2, 8))):
        x, y, r = int(rng.integers(0, SIZE[0])), int(rng.integers(0, SIZE[1])), int(
            rng.integers(40, 300))
        draw.ellipse((x - r, y - r, x + r, y + r),
                     fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    return image


def gradient(seed: int) -> Image.Image:
    angle = seed * 0.7
    y, x = np.mgrid[0:SIZE[1], 0:SIZE[0]] / max(SIZE)
    ramp = np.cos(angle) * x + np.sin(angle) * y
    samples = np.stack([ramp, ramp[::-1], np.full_like(ramp, seed / 10)], axis=-1)
    samples = (samples - samples.min()) / (np.ptp(samples) or 1) * 255
    return Image.fromarray(samples.astype(np.uint8))


def noise(seed: int) -> Image.Image:
    rng = np.random.default_rng(1000 + seed)
    return Image.fromarray(rng.integers(0, 256, (SIZE[1] // 8, SIZE[0] // 8, 3), dtype=np.uint8)
                           ).resize(SIZE, Image.Resampling.NEAREST)


def shapes(seed: int) -> Image.Image:
    rng = np.random.default_rng(2000 + seed)
    image = Image.new("RGB", SIZE, tuple(int(v) for v in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x0, y0 = int(rng.integers(0, SIZE[0] - 200)), int(rng.integers(0, SIZE[1] - 200))
        box = (x0, y0, x0 + int(rng.integers(100, 600)), y0 + int(rng.integers(100, 500)))
        fill = tuple(int(v) for v in rng.integers(0, 255, 3))
        (draw.rectangle if rng.random() < 0.5 else draw.ellipse)(box, fill=fill)
    return image


def jpeg(image: Image.Image, quality: int = 92, **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, **save)
    return buffer.getvalue()


def decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def crop(image: Image.Image, fraction: float) -> Image.Image:
    dx, dy = int(image.width * fraction), int(image.height * fraction)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


EDITS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "re-encoded at quality 60": lambda image: decoded(jpeg(image, 60)),
    "resized to half": lambda image: decoded(jpeg(image.resize(
        (image.width // 2, image.height // 2), Image.Resampling.LANCZOS))),
    "brightened by 10 %": lambda image: decoded(jpeg(ImageEnhance.Brightness(image).enhance(1.1))),
    "cropped by 2 %": lambda image: decoded(jpeg(crop(image, 0.02))),
}
PHOTOS = [scene(seed) for seed in range(12)]


@pytest.mark.parametrize("edit", EDITS)
def test_an_edited_photo_stays_within_the_default_distance(edit: str) -> None:
    for photo in PHOTOS:
        original = perceptual_hash(decoded(jpeg(photo)))
        assert distance(original, perceptual_hash(EDITS[edit](photo))) <= \
            DEFAULT_SIMILAR_DISTANCE, edit


def test_unrelated_pictures_lie_far_apart() -> None:
    pictures = PHOTOS + [maker(seed) for maker in (gradient, noise, shapes) for seed in range(6)]
    hashes = [perceptual_hash(decoded(jpeg(picture))) for picture in pictures]
    gaps = [distance(a, b) for a, b in itertools.combinations(hashes, 2)]
    # Twice the default distance apart (22 measured): an edit and an unrelated picture are
    # never confused.
    assert min(gaps) >= 2 * DEFAULT_SIMILAR_DISTANCE
    assert np.mean(gaps) > 24


def test_half_of_the_bits_are_set_so_that_each_tells_pictures_apart() -> None:
    for photo in PHOTOS:
        assert perceptual_hash(photo).bit_count() == 32


def test_a_hash_is_64_bits_and_the_same_for_the_same_picture() -> None:
    hashes = {perceptual_hash(PHOTOS[0]) for _ in range(3)}
    assert len(hashes) == 1
    assert 0 <= hashes.pop() < 1 << 64


def test_a_rendition_carries_the_hash_of_the_picture_upright(tmp_path: Path) -> None:
    photo = PHOTOS[3]
    upright = render_data(tmp_path, jpeg(photo))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned a quarter; shown upright
    turned = render_data(tmp_path, jpeg(photo.transpose(Image.Transpose.ROTATE_90), exif=exif))
    assert upright.perceptual_hash is not None and turned.perceptual_hash is not None
    assert distance(upright.perceptual_hash, turned.perceptual_hash) <= 4
    # Without its tag the same pixels are another picture: the hash is of what is shown.
    sideways = render_data(tmp_path, jpeg(photo.transpose(Image.Transpose.ROTATE_90)))
    assert sideways.perceptual_hash is not None
    assert distance(upright.perceptual_hash, sideways.perceptual_hash) > 2 * DEFAULT_SIMILAR_DISTANCE
