"""Upload → thumbnails → listing through the running local stack, exactly as a client does it."""

from __future__ import annotations

import hashlib
import io
import re
import time
import uuid

import pytest
import requests
from PIL import Image, PngImagePlugin

from lightbox import filetypes
from tests.e2e.conftest import Client, Stack
from tests.images import dng, pdf
from tests.support import image_bytes, pattern
from tests.unit.test_imaging_jpeg import assert_quadrants, quadrants
from tests.videos import clip

pytestmark = pytest.mark.e2e


def check_thumbnails(asset: dict[str, object], displayed: tuple[int, int], pages: int) -> None:
    """Every page has every size; each downloads, decodes, and fits without upscaling."""
    thumbnails = asset["thumbnails"]
    assert isinstance(thumbnails, list)
    assert sorted((t["page"], t["size"]) for t in thumbnails) == [
        (page, size) for page in range(1, pages + 1) for size in (256, 1280)
    ]
    for thumbnail in thumbnails:
        response = requests.get(thumbnail["url"], timeout=30)
        assert response.status_code == 200
        image = Image.open(io.BytesIO(response.content))
        image.load()
        assert image.format == "JPEG"
        assert image.size == (thumbnail["width"], thumbnail["height"])
        expected_longest = min(thumbnail["size"], max(displayed))
        assert max(image.size) == expected_longest
        ratio = displayed[0] / displayed[1]
        assert abs(image.width / image.height - ratio) < 0.02


@pytest.mark.parametrize(
    ("filename", "content_type", "data", "displayed", "pages"),
    [
        ("rotated.jpg", "image/jpeg", image_bytes("JPEG", (3000, 2000), orientation=6),
         (2000, 3000), 1),
        ("transparent.png", "image/png", image_bytes("PNG", (1500, 1000), "RGBA"), (1500, 1000), 1),
        ("scan.tif", "image/tiff", image_bytes("TIFF", (1000, 1500), pages=3,
                                                compression="tiff_deflate"), (1000, 1500), 3),
        ("still.gif", "image/gif", image_bytes("GIF", (500, 300)), (500, 300), 1),
        ("photo.webp", "image/webp", image_bytes("WEBP", (1600, 1200)), (1600, 1200), 1),
        ("IMG_0001.HEIC", "image/heic", image_bytes("HEIF", (3000, 2000), orientation=6),
         (2000, 3000), 1),
        ("photo.avif", "image/avif", image_bytes("AVIF", (1600, 1200), orientation=8),
         (1200, 1600), 1),
        ("scan.jxl", "image/jxl", image_bytes("JXL", (1600, 1200), orientation=6), (1200, 1600), 1),
        # Pages of 1000×1500 points, larger than every size: a page's thumbnails are rendered
        # at their size, and one smaller than a size would be drawn larger than its points.
        ("scan.pdf", "application/pdf",
         pdf(*[Image.open(io.BytesIO(image_bytes("JPEG", (1000, 1500))))] * 3), (1000, 1500), 3),
        # A camera held upright: the sensor's landscape turned by Orientation 6, and its preview.
        ("DSC_0001.DNG", "image/x-adobe-dng",
         dng(pattern((3000, 2000)), orientation=6, preview=pattern((3000, 2000))), (2000, 3000),
         1),
    ],
)
def test_an_uploaded_image_comes_back_as_thumbnails(
    client: Client, filename: str, content_type: str, data: bytes,
    displayed: tuple[int, int], pages: int,
) -> None:
    asset_id = client.upload(filename, content_type, data)

    asset = client.wait_until_settled(asset_id)

    assert asset["status"] == "ready", asset["error"]
    assert asset["filename"] == filename
    assert asset["content_type"] == content_type
    assert asset["size_bytes"] == len(data)
    assert asset["sha256"] == hashlib.sha256(data).hexdigest()
    assert (asset["width"], asset["height"]) == displayed
    assert asset["pages"] == pages
    original = requests.get(asset["original_url"], timeout=30)
    assert original.status_code == 200 and original.content == data
    check_thumbnails(asset, displayed, pages)
    assert asset["placeholder"]


def test_an_animation_is_its_first_frame_with_its_frames_and_seconds(client: Client) -> None:
    frames = [pattern((400, 300), seed=index) for index in range(5)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:],
                   duration=[100, 200, 300, 400, 500], loop=0)
    asset_id = client.upload("loop.gif", "image/gif", buffer.getvalue())

    asset = client.wait_until_settled(asset_id)

    assert asset["status"] == "ready", asset["error"]
    assert (asset["frames"], asset["duration"], asset["pages"]) == (5, 1.5, 1)
    check_thumbnails(asset, (400, 300), 1)


PORTRAIT = quadrants(360, 640)


@pytest.mark.parametrize(
    ("filename", "content_type", "data", "displayed", "codec"),
    [
        ("clip.mp4", "video/mp4", clip(quadrants(640, 360), audio=True), (640, 360), "h264"),
        ("IMG_0002.MOV", "video/quicktime",
         clip(quadrants(640, 360), codec="libx265", container="mov", pix_fmt="yuv420p10le"),
         (640, 360), "hevc"),
        # A phone held upright: frames stored sideways, and a display matrix to turn them.
        ("portrait.mp4", "video/mp4",
         clip(PORTRAIT.transpose(Image.Transpose.ROTATE_90), rotation=-90), (360, 640), "h264"),
        ("clip.webm", "video/webm", clip(quadrants(640, 360), codec="libvpx-vp9",
                                         container="webm"), (640, 360), "vp9"),
    ],
    ids=["h264-mp4", "hevc-mov", "portrait", "vp9-webm"],
)
def test_a_clip_comes_back_with_a_poster_upright_and_its_duration(
    client: Client, filename: str, content_type: str, data: bytes,
    displayed: tuple[int, int], codec: str,
) -> None:
    asset_id = client.upload(filename, content_type, data)

    asset = client.wait_until_settled(asset_id)

    assert asset["status"] == "ready", asset["error"]
    assert asset["content_type"] == content_type
    assert asset["sha256"] == hashlib.sha256(data).hexdigest()
    assert (asset["width"], asset["height"], asset["codec"]) == (*displayed, codec)
    assert asset["duration"] == pytest.approx(3.0, abs=0.05)
    assert asset["has_audio"] is (filename == "clip.mp4")
    check_thumbnails(asset, displayed, 1)
    poster = max(asset["thumbnails"], key=lambda t: t["size"])
    assert_quadrants(Image.open(io.BytesIO(requests.get(poster["url"], timeout=30).content)))
    # A <video> element seeks with range requests: the signed URL answers them.
    ranged = requests.get(asset["original_url"], headers={"Range": "bytes=100-199"}, timeout=30)
    assert ranged.status_code == 206 and ranged.content == data[100:200]


def test_the_listing_pages_through_what_was_uploaded(client: Client) -> None:
    uploaded = [client.upload(f"page-{n}.png", "image/png", image_bytes("PNG", (64 + n, 64)))
                for n in range(3)]
    seen: list[str] = []
    url = f"{client.api}/v1/assets?limit=1"
    while url and len(seen) < 3:
        page = client.http.get(url, timeout=30).json()
        seen += [item["asset_id"] for item in page["items"]]
        url = f"{client.api}/v1/assets?limit=1&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert seen == list(reversed(uploaded))


def test_the_complete_route_agrees_with_the_bucket_event(client: Client) -> None:
    asset_id = client.upload("both.png", "image/png", image_bytes("PNG"))
    responses = [client.http.post(f"{client.api}/v1/uploads/{asset_id}/complete", timeout=30)
                 for _ in range(3)]
    assert all(r.status_code == 202 for r in responses)
    assert all(r.json()["status"] in ("uploaded", "processing", "ready") for r in responses)
    assert client.wait_until_settled(asset_id)["status"] == "ready"


def test_a_truncated_image_fails_with_a_reason(client: Client) -> None:
    data = image_bytes("JPEG", (1600, 1200))
    asset_id = client.upload("broken.jpg", "image/jpeg", data[: len(data) // 2])
    asset = client.wait_until_settled(asset_id)
    assert asset["status"] == "failed"
    assert asset["error"].startswith("the image data is truncated")
    assert asset["thumbnails"] == []


def test_a_file_that_lies_about_its_type_fails_saying_what_it_is(client: Client) -> None:
    asset_id = client.upload("invoice.jpg", "image/jpeg", b"PK\x03\x04" + bytes(500))
    asset = client.wait_until_settled(asset_id)
    assert asset["status"] == "failed"
    assert asset["error"] == (
        f"unsupported file: this is a ZIP archive, not {filetypes.SUPPORTED_NAMES}"
    )


def test_a_file_sent_as_octet_stream_is_what_its_bytes_are(client: Client) -> None:
    data = image_bytes("WEBP", (640, 480))
    asset_id = client.upload("from-a-phone", "application/octet-stream", data)
    asset = client.wait_until_settled(asset_id)
    assert asset["status"] == "ready", asset["error"]
    assert asset["content_type"] == "image/webp"
    check_thumbnails(asset, (640, 480), 1)


def test_the_same_bytes_twice_are_stored_once(client: Client) -> None:
    data = image_bytes("PNG", (301, 203))  # bytes no other test uploads: one owner for all
    first = client.upload("first.png", "image/png", data)
    assert client.wait_until_settled(first)["status"] == "ready"

    second = client.upload("second.png", "image/png", data)
    duplicate = client.wait_until_settled(second)
    assert duplicate["status"] == "duplicate"
    assert duplicate["duplicate_of"] == first

    declared = client.presign("third.png", "image/png", data,
                              sha256=hashlib.sha256(data).hexdigest())
    assert declared.status_code == 200
    assert declared.json() == {"asset_id": first, "status": "ready", "duplicate": True}


def test_known_bytes_sent_to_a_project_are_found_there_showing_the_original(
    client: Client,
) -> None:
    data = image_bytes("PNG", (307, 211))  # bytes no other test uploads
    first = client.upload("first.png", "image/png", data)
    held = client.wait_until_settled(first)
    assert held["status"] == "ready"
    created = client.http.post(f"{client.api}/v1/projects", timeout=30,
                               json={"name": f"Trip {uuid.uuid4().hex[:8]}"})
    assert created.status_code == 201, created.text
    project = created.json()["project_id"]

    # Declared: presign answers at once with a duplicate in the project.
    sha256 = hashlib.sha256(data).hexdigest()
    answer = client.presign("again.png", "image/png", data, sha256=sha256, project_id=project)
    assert answer.status_code == 200, answer.text
    ticket = answer.json()
    assert ticket["duplicate"] is True and ticket["status"] == "duplicate"
    assert ticket["asset_id"] != first
    repeated = client.presign("again.png", "image/png", data, sha256=sha256, project_id=project)
    assert repeated.json()["asset_id"] == ticket["asset_id"]  # one copy per project

    # Not declared: the thumbnail worker finds the same bytes after the upload.
    later = client.upload("later.png", "image/png", data, project_id=project)
    assert client.wait_until_settled(later)["status"] == "duplicate"

    listed = client.http.get(f"{client.api}/v1/assets", params={"project_id": project},
                             timeout=30).json()["items"]
    assert {item["asset_id"] for item in listed} == {ticket["asset_id"], later}
    for item in [*listed, client.asset(ticket["asset_id"])]:
        assert item["duplicate_of"] == first and item["project_id"] == project
        assert (item["width"], item["height"], item["sha256"]) == (307, 211, held["sha256"])
        assert sorted(t["size"] for t in item["thumbnails"]) == sorted(
            t["size"] for t in held["thumbnails"])
        assert requests.get(item["original_url"], timeout=30).content == data
        for thumbnail in item["thumbnails"]:
            assert requests.get(thumbnail["url"], timeout=30).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/v1/uploads", b"{", 400, "bad_request"),
        ("POST", "/v1/uploads", b'{"filename": "a.bmp", "content_type": "image/bmp", '
                                b'"size_bytes": 10}', 415, "unsupported_media_type"),
        ("POST", "/v1/uploads", b'{"filename": "a.jpg", "content_type": "image/jpeg", '
                                b'"size_bytes": 9999999999999}', 413, "too_large"),
        ("GET", "/v1/assets/00000000-0000-0000-0000-000000000000", b"", 404, "asset_not_found"),
        ("GET", "/v1/assets?limit=500", b"", 422, "invalid_field"),
        ("GET", "/v1/nothing-here", b"", 404, "not_found"),
        ("DELETE", "/v1/uploads", b"", 405, "method_not_allowed"),
    ],
)
def test_every_error_has_the_common_shape(
    client: Client, method: str, path: str, body: bytes, status: int, code: str
) -> None:
    response = client.http.request(method, f"{client.api}{path}", data=body,
                                   headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]


def test_health_reports_every_dependency(client: Client) -> None:
    response = client.http.get(f"{client.api}/health", timeout=30)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok", "checks": {"database": "ok", "storage": "ok", "queue": "ok"}
    }


def test_one_photo_can_be_followed_in_the_log_from_presign_to_ready(
        stack: Stack, client: Client) -> None:
    unique = PngImagePlugin.PngInfo()  # bytes no other test uploads: not a duplicate
    unique.add_text("test", uuid.uuid4().hex)
    asset_id = client.upload("followed.png", "image/png",
                             image_bytes("PNG", (640, 480), pnginfo=unique))
    assert client.wait_until_settled(asset_id)["status"] == "ready"

    def about() -> list[str]:
        return [line for line in stack.log_path.read_text(errors="replace").splitlines()
                if f"asset_id={asset_id} owner=local" in line]

    # The row says ready a moment before the thumbnail function logs it and its metrics.
    deadline = time.monotonic() + 10
    while not any("metric UploadToReady" in line for line in about()):
        assert time.monotonic() < deadline, "\n".join(about())
        time.sleep(0.2)
    lines = about()
    functions = [line.split()[2] for line in lines]
    assert functions[0] == "PresignFunction", lines
    assert "UploadCompleteFunction" in functions and "ThumbnailFunction" in functions, lines
    assert any(f"asset {asset_id} ready" in line for line in lines), lines
    # Each line also names the invocation it came from, and the render reported its metrics.
    assert all(re.search(r"  request_id=[0-9a-f-]{36} asset_id=", line) for line in lines), lines
    assert any(re.search(r": metric UploadToReady \d+(\.\d+)? Milliseconds Kind=photo  ", line)
               for line in lines), lines
