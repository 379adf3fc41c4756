"""Helpers shared by the test layers: sample events, generated images, unique ids."""

from __future__ import annotations

import io
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from lightbox.domain import RenderSpec, Rendition
from tests.images import heic, jxl_recompressed

EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def unique_owner() -> str:
    """An owner no other test uses, so that every test can share one database and bucket."""
    return f"owner-{uuid.uuid4().hex[:12]}"


def tampered(secret: str) -> str:
    """``secret`` with its last character replaced by another: replaced by a fixed one, it
    was the same secret whenever it already ended in that character (1 in 64 tokens)."""
    return secret[:-1] + ("B" if secret.endswith("A") else "A")


def sqs_event(*bodies: str, source_arn: str = "arn:aws:sqs:us-east-1:000000000000:q") -> dict[str, Any]:
    """An SQS-triggered Lambda event carrying these message bodies."""
    return {
        "Records": [
            {
                "messageId": f"message-{n}",
                "receiptHandle": f"handle-{n}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": source_arn,
                "awsRegion": "us-east-1",
            }
            for n, body in enumerate(bodies)
        ]
    }


def image_bytes(
    fmt: str,
    size: tuple[int, int] = (640, 480),
    mode: str = "RGB",
    *,
    orientation: int | None = None,
    pages: int = 1,
    **save_args: Any,
) -> bytes:
    """A generated image in ``fmt``; ``orientation`` adds an EXIF Orientation tag."""
    frames = [pattern(size, mode, seed=page) for page in range(pages)]
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        save_args["exif"] = exif
    if pages > 1:
        save_args.update(save_all=True, append_images=frames[1:])
    if fmt == "HEIF":
        return heic(frames[0], **save_args)
    if fmt == "JXL":
        return jxl_recompressed(frames[0], **save_args)
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, **save_args)
    return buffer.getvalue()


def pattern(size: tuple[int, int], mode: str = "RGB", *, seed: int = 0) -> Image.Image:
    """Gradients running in different directions per channel, so that orientation shows."""
    vertical = Image.linear_gradient("L")
    image = Image.merge("RGB", [
        vertical.resize(size),
        vertical.transpose(Image.Transpose.ROTATE_90).resize(size),
        Image.new("L", size, (40 * seed) % 256),
    ])
    if mode == "RGBA":
        image.putalpha(128)
        return image
    return image.convert(mode)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def render_data(tmp_path: Path, data: bytes, **spec: Any) -> Rendition:
    """Run the imaging core on ``data`` as the thumbnail function would."""
    from lightbox.imaging.render import render

    path = tmp_path / f"original-{uuid.uuid4().hex[:8]}"
    path.write_bytes(data)
    settings: dict[str, Any] = {"sizes": (256, 1280), "jpeg_quality": 85,
                                "max_pixels": 250_000_000}
    settings.update(spec)
    return render(path, RenderSpec(**settings))


def derivative(rendition: Rendition, size: int, page: int = 1, fmt: str = "jpeg") -> Image.Image:
    (match,) = [image for image in rendition.images
                if (image.size, image.page, image.format) == (size, page, fmt)]
    decoded = decode(match.data)
    assert decoded.size == (match.width, match.height)
    return decoded


def colour_at(image: Image.Image, x: float, y: float) -> tuple[int, ...]:
    """The colour at a fraction (x, y) of the image's width and height."""
    pixel = image.convert("RGB").getpixel((int(x * (image.width - 1)), int(y * (image.height - 1))))
    assert isinstance(pixel, tuple)
    return pixel


def close_to(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 24) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


@dataclass
class ApiResponse:
    status_code: int
    headers: dict[str, str]
    body: str

    @property
    def json_body(self) -> Any:
        return json.loads(self.body) if self.body else None


class ApiClient:
    """Calls a Chalice app as API Gateway does behind the Lambda authorizer: a REST proxy
    event whose request context names the owner (``owner=None``: as if no authorizer ran) and
    whether the key is an admin's (a string there, as API Gateway passes context values)."""

    def __init__(self, app: Any, owner: str | None = "local", *, admin: bool = False) -> None:
        self._app = app
        self._owner = owner
        self._admin = admin

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.request("POST", path, body=body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.request("PATCH", path, body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("DELETE", path, **kwargs)

    def request(self, method: str, path: str, *, body: Any = None, raw_body: bytes | None = None,
                headers: dict[str, str] | None = None, owner: str | object | None = ...,
                ) -> ApiResponse:
        owner = self._owner if owner is ... else owner
        url = urlsplit(path)
        resource, parameters = self._route(url.path)
        query = parse_qs(url.query, keep_blank_values=True)
        if body is not None:
            raw_body = json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        event = load_event("apiGatewayProxyRequest.json")
        event.update(
            resource=resource, path=url.path, httpMethod=method, headers=all_headers,
            multiValueHeaders={k: [v] for k, v in all_headers.items()},
            queryStringParameters={k: v[-1] for k, v in query.items()} or None,
            multiValueQueryStringParameters=query or None,
            pathParameters=parameters or None,
            body=raw_body.decode() if raw_body is not None else None,
        )
        event["requestContext"].update(resourcePath=resource, httpMethod=method)
        if owner is None:
            event["requestContext"].pop("authorizer", None)
        else:
            event["requestContext"]["authorizer"] = {
                "principalId": owner, "owner_id": owner, "admin": str(self._admin).lower()}
        response = self._app(event, None)
        return ApiResponse(status_code=response["statusCode"],
                           headers=response.get("headers") or {}, body=response.get("body") or "")

    def _route(self, path: str) -> tuple[str, dict[str, str]]:
        for template in self._app.routes:
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            match = re.fullmatch(pattern, path)
            if match:
                return template, match.groupdict()
        return path, {}
