"""An Immich server on loopback for the import's tests: the routes the import uses, answered
in the shapes Immich's OpenAPI document (version 1.143) gives them, every required field
there with its type, and the ``x-api-key`` header checked on each (401 without the key).

``POST /api/search/metadata`` pages as Immich does (``page`` from 1, ``size`` 1 to 1000,
``nextPage`` the next page's number as a string, null after the last), keeps to one
``visibility`` when asked, and leaves trashed assets out unless ``withDeleted``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image

Json = dict[str, Any]
STAMP = "2024-06-01T09:30:00.000Z"
OWNER = {"avatarColor": "primary", "email": "ada@example.com", "id": str(uuid.uuid4()),
         "name": "Ada", "profileChangedAt": STAMP, "profileImagePath": ""}


def jpeg(colour: tuple[int, int, int], *, taken: str | None = None) -> bytes:
    """A JPEG from Pillow's encoder, with an EXIF DateTimeOriginal ("2019:07:14 18:30:05")
    when ``taken`` is given."""
    picture = Image.new("RGB", (64, 48), colour)
    exif = Image.Exif()
    if taken is not None:
        exif.get_ifd(0x8769)[0x9003] = taken
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif.tobytes() if taken else b"")
    return out.getvalue()


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


@dataclass
class Asset:
    data: bytes
    fields: Json


@dataclass
class FakeImmich:
    api_key: str = "immich-key"
    assets: dict[str, Asset] = field(default_factory=dict)
    albums: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # id: name, assets
    # Originals served whole, by asset id, in order.
    downloads: list[str] = field(default_factory=list)
    # Asset id: the status its original answers with, every time.
    broken: dict[str, int] = field(default_factory=dict)
    # After this many originals served, every request for another answers 503.
    serve_at_most: int | None = None
    # Seconds an original waits before it is sent.
    delay: float = 0
    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, data: bytes, name: str, mime: str, *, local: str, offset_hours: float = 0,
            kind: str = "IMAGE", visibility: str = "timeline", trashed: bool = False,
            exif: Json | None = None, motion: str | None = None) -> str:
        """An asset of the owner's taken at ``local`` (the wall clock where it was taken,
        ``offset_hours`` east of UTC); returns its id."""
        asset_id = str(uuid.uuid4())
        wall = datetime.fromisoformat(local)
        instant = (wall - timedelta(hours=offset_hours)).replace(tzinfo=UTC)
        self.assets[asset_id] = Asset(data, {
            "checksum": base64.b64encode(hashlib.sha1(data).digest()).decode(),
            "createdAt": STAMP, "deviceAssetId": f"{name}-{len(data)}", "deviceId": "phone",
            "duration": "0:00:00.00000" if kind == "IMAGE" else "0:00:01.00000",
            "fileCreatedAt": _timestamp(instant), "fileModifiedAt": _timestamp(instant),
            "hasMetadata": True, "id": asset_id, "isArchived": visibility == "archive",
            "isFavorite": False, "isOffline": False, "isTrashed": trashed,
            "livePhotoVideoId": motion,
            # Immich's "local" time: the wall clock's digits, marked UTC.
            "localDateTime": _timestamp(wall.replace(tzinfo=UTC)),
            "originalFileName": name, "originalMimeType": mime,
            "originalPath": f"/data/library/{OWNER['id']}/{name}", "ownerId": OWNER["id"],
            "thumbhash": None, "type": kind, "updatedAt": STAMP, "visibility": visibility,
            "exifInfo": _exif(len(data), exif or {}),
        })
        return asset_id

    def add_album(self, name: str, *asset_ids: str) -> str:
        album_id = str(uuid.uuid4())
        self.albums[album_id] = (name, list(asset_ids))
        return album_id

    # --- answers

    def answer(self, method: str, path: str, headers: Any, body: bytes
               ) -> tuple[int, str, bytes]:
        with self._lock:
            self.requests.append((method, path))
        if headers.get("x-api-key") != self.api_key:
            return _error(401, "Unauthorized", "Invalid API key")
        route = path.partition("?")[0].split("/")[1:]  # ["api", "assets", id, "original"]
        match method, route:
            case "GET", ["api", "users", "me"]:
                return _json(_me())
            case "POST", ["api", "search", "metadata"]:
                return self._search(json.loads(body or b"{}"))
            case "GET", ["api", "albums"]:
                return _json([self._album(album_id, with_assets=False)
                              for album_id in self.albums])
            case "GET", ["api", "albums", album_id] if album_id in self.albums:
                return _json(self._album(album_id, with_assets=True))
            case "GET", ["api", "assets", asset_id] if asset_id in self.assets:
                return _json(self.assets[asset_id].fields)
            case "GET", ["api", "assets", asset_id, "original"] if asset_id in self.assets:
                return self._original(asset_id)
        return _error(404, "Not Found", f"Cannot {method} {path}")

    def _search(self, query: Json) -> tuple[int, str, bytes]:
        page, size = query.get("page", 1), query.get("size", 250)
        if not (isinstance(page, int) and page >= 1 and isinstance(size, int)
                and 1 <= size <= 1000):
            return _error(400, "Bad Request", ["page must not be less than 1",
                                               "size must not be greater than 1000"])
        found = sorted(
            (a.fields for a in self.assets.values()
             if (query.get("withDeleted") or not a.fields["isTrashed"])
             and (a.fields["visibility"] == query["visibility"] if "visibility" in query
                  else a.fields["visibility"] in ("timeline", "archive"))),
            key=lambda fields: fields["fileCreatedAt"], reverse=True)
        items = [dict(fields) if query.get("withExif")
                 else {k: v for k, v in fields.items() if k != "exifInfo"}
                 for fields in found[(page - 1) * size:page * size]]
        more = len(found) > page * size
        return _json({
            "albums": {"count": 0, "facets": [], "items": [], "total": 0},
            "assets": {"count": len(items), "facets": [], "items": items,
                       "nextPage": str(page + 1) if more else None, "total": len(items)}})

    def _album(self, album_id: str, *, with_assets: bool) -> Json:
        name, members = self.albums[album_id]
        return {"albumName": name, "albumThumbnailAssetId": members[0] if members else None,
                "albumUsers": [], "assetCount": len(members),
                "assets": [self.assets[m].fields for m in members] if with_assets else [],
                "createdAt": STAMP, "description": "", "hasSharedLink": False, "id": album_id,
                "isActivityEnabled": True, "owner": OWNER, "ownerId": OWNER["id"],
                "shared": False, "updatedAt": STAMP}

    def _original(self, asset_id: str) -> tuple[int, str, bytes]:
        time.sleep(self.delay)
        if asset_id in self.broken:
            return _error(self.broken[asset_id], "Internal Server Error", "it broke")
        with self._lock:
            if self.serve_at_most is not None and len(self.downloads) >= self.serve_at_most:
                return _error(503, "Service Unavailable", "going down")
            self.downloads.append(asset_id)
        return 200, "application/octet-stream", self.assets[asset_id].data

    def original_requests(self) -> list[str]:
        return [path.split("/")[3] for method, path in self.requests
                if method == "GET" and path.endswith("/original")]


def serve(immich: FakeImmich) -> Iterator[FakeImmich]:
    """``immich`` answering on 127.0.0.1 at ``immich.url`` until the generator is closed."""

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, content_type, data = immich.answer(self.command, self.path, self.headers,
                                                       body)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            # An interrupted import may hang up mid-answer.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        do_GET = do_POST = _handle

        def log_message(self, *_: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    immich.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield immich
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _me() -> Json:
    return {**{k: OWNER[k] for k in ("avatarColor", "email", "id", "name", "profileChangedAt",
                                      "profileImagePath")},
            "createdAt": STAMP, "deletedAt": None, "isAdmin": False, "license": None,
            "oauthId": "", "quotaSizeInBytes": None, "quotaUsageInBytes": None,
            "shouldChangePassword": False, "status": "active", "storageLabel": None,
            "updatedAt": STAMP}


def _exif(size: int, given: Json) -> Json:
    """Every field of ExifResponseDto, null unless given."""
    names = ("city", "country", "dateTimeOriginal", "description", "exifImageHeight",
             "exifImageWidth", "exposureTime", "fNumber", "focalLength", "iso", "latitude",
             "lensModel", "longitude", "make", "model", "modifyDate", "orientation",
             "projectionType", "rating", "state", "timeZone")
    return {"fileSizeInByte": size, **dict.fromkeys(names), **given}


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _json(value: object, status: int = 200) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(value).encode()


def _error(status: int, error: str, message: str | list[str]) -> tuple[int, str, bytes]:
    """Immich's error answer (NestJS's): the message, the status's name, a correlation id."""
    return _json({"message": message, "error": error, "statusCode": status,
                  "correlationId": uuid.uuid4().hex[:8]}, status)
