"""Generated pictures that look like photos and scans, and clips of them: gradients and shapes
in colour, each one different (by its seed), so that no two tests upload the same bytes."""

from __future__ import annotations

import colorsys
import io
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from tests import videos


def landscape(seed: int, size: tuple[int, int] = (1600, 1067)) -> bytes:
    """A JPEG of a sky, a sun and hills fading into the distance, in a palette from ``seed``."""
    rng = random.Random(seed)
    width, height = size
    sky_hue, land_hue = rng.random(), rng.random()
    top = _hsv(sky_hue, rng.uniform(0.3, 0.6), rng.uniform(0.55, 0.8))
    horizon = _hsv(sky_hue + rng.uniform(0.05, 0.2), rng.uniform(0.2, 0.5), rng.uniform(0.85, 1))
    sky = Image.linear_gradient("L").resize(size)
    image = Image.composite(Image.new("RGB", size, horizon), Image.new("RGB", size, top), sky)
    draw = ImageDraw.Draw(image)
    sun_x, sun_y = rng.uniform(0.15, 0.85) * width, rng.uniform(0.15, 0.35) * height
    radius = rng.uniform(0.04, 0.08) * width
    draw.ellipse((sun_x - radius, sun_y - radius, sun_x + radius, sun_y + radius),
                 fill=_hsv(sky_hue + 0.5, 0.15, 1))
    layers = 4
    for layer in range(layers):
        base = height * (0.45 + 0.13 * layer)
        points = [(0.0, float(height))]
        for step in range(11):
            points.append((width * step / 10, base - rng.uniform(0, 0.15) * height))
        points.append((float(width), float(height)))
        # Far hills are pale and blue-ish, near ones dark and saturated, as haze makes them.
        nearness = layer / (layers - 1)
        draw.polygon(points, fill=_hsv(land_hue + 0.04 * layer, 0.25 + 0.45 * nearness,
                                       0.75 - 0.5 * nearness))
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    return _encode(image, "JPEG", quality=90)


def scan(pages: int, seed: int, size: tuple[int, int] = (850, 1100), fmt: str = "TIFF") -> bytes:
    """A multi-page TIFF (or PDF) like a scanned document: paper, lines of "text", a page
    number."""
    rng = random.Random(seed)
    font = ImageFont.load_default(size=size[0] // 6)
    frames = []
    for number in range(1, pages + 1):
        paper = (rng.randint(236, 250), rng.randint(228, 242), rng.randint(205, 225))
        page = Image.new("RGB", size, paper)
        draw = ImageDraw.Draw(page)
        margin = size[0] // 10
        draw.rectangle((margin, margin, size[0] - margin, margin + size[1] // 5),
                       fill=_colour(rng))
        for line in range(12):
            y = margin + size[1] // 4 + line * size[1] // 24
            length = rng.uniform(0.55, 1.0) * (size[0] - 2 * margin)
            draw.rectangle((margin, y, margin + length, y + size[1] // 80), fill=(70, 66, 60))
        draw.text((size[0] / 2, size[1] - margin * 1.5), str(number), fill=(40, 40, 40),
                  font=font, anchor="mm")
        frames.append(page)
    buffer = io.BytesIO()
    options = {"compression": "tiff_lzw"} if fmt == "TIFF" else {"resolution": 100.0}
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], **options)
    return buffer.getvalue()


def animation(seed: int, frames: int = 6, size: tuple[int, int] = (480, 320)) -> bytes:
    """An animated GIF: a ball crossing a coloured field, a tenth of a second a frame."""
    rng = random.Random(seed)
    field, ball = _colour(rng), _colour(rng)
    images = []
    for frame in range(frames):
        image = Image.new("RGB", size, field)
        x = size[0] * (frame + 1) // (frames + 1)
        ImageDraw.Draw(image).ellipse((x - 30, size[1] // 2 - 30, x + 30, size[1] // 2 + 30),
                                      fill=ball)
        images.append(image)
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return buffer.getvalue()


def clip(seed: int, *, codec: str = "libvpx-vp9", container: str = "webm", audio: bool = False
         ) -> bytes:
    """A three-second clip of a landscape, made by a real encoder: by default VP9 in WebM,
    which any Chromium plays (a build without proprietary codecs has no H.264)."""
    picture = Image.open(io.BytesIO(landscape(seed, (640, 360))))
    return videos.clip(picture, codec=codec, container=container, seconds=3.0, audio=audio)


def corrupt_jpeg(seed: int) -> bytes:
    """Bytes that are no image at all, to be declared as a JPEG."""
    return b"this is not a JPEG " + random.Random(seed).randbytes(4000)


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return _hsv(rng.random(), rng.uniform(0.4, 0.7), rng.uniform(0.5, 0.8))


def _hsv(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    red, green, blue = colorsys.hsv_to_rgb(hue % 1, saturation, value)
    return (round(red * 255), round(green * 255), round(blue * 255))


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()
