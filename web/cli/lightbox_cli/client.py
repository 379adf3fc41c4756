"""Lightbox's HTTP API, as the CLI uses it: the only module that knows routes and JSON shapes.

Every failure is a ``ClientError``: ``ApiError`` when the API answered with its error shape
(branch on ``code``), ``TransferError`` when a request never got an answer or a presigned
URL refused the bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree import ElementTree

import httpx

from lightbox_cli import __version__

Json = dict[str, Any]
SETTLED = frozenset({"ready", "failed", "duplicate", "deleted"})
# Idempotent requests are tried again on these answers (S3 says SlowDown with a 503).
RETRYABLE = frozenset({429, 500, 502, 503, 504})
ATTEMPTS = 4
CHUNK_BYTES = 1024 * 1024


class ClientError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ApiError(ClientError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} ({status} {code})")
        self.status, self.code = status, code


class TransferError(ClientError):
    pass


class LightboxClient:
    """One API base URL and one key; bytes go to presigned URLs without the key."""

    def __init__(self, url: str, api_key: str, *, timeout: float = 60,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url
        headers = {"Authorization": f"Bearer {api_key}",
                   "User-Agent": f"lightbox-cli/{__version__}"}
        self._api = httpx.Client(base_url=url, headers=headers, timeout=timeout,
                                 transport=transport)
        # Presigned URLs carry their own authority: the API key must never reach the bucket.
        self._bucket = httpx.Client(timeout=timeout, transport=transport)

    def close(self) -> None:
        self._api.close()
        self._bucket.close()

    def __enter__(self) -> LightboxClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # Uploads

    def presign(self, filename: str, content_type: str, size_bytes: int, sha256: str,
                project_id: str | None = None, *, taken_at: datetime | None = None,
                place: tuple[float, float] | None = None, description: str | None = None
                ) -> Json:
        """An upload ticket (201) or, when the library has these bytes, a duplicate (200).

        What the file does not say (``taken_at``, aware; ``place``, latitude and longitude;
        ``description``) is sent only when known: a server older than these refuses them."""
        body: Json = {"filename": filename, "content_type": content_type,
                      "size_bytes": size_bytes, "sha256": sha256, "project_id": project_id}
        if taken_at is not None:
            body["taken_at"] = taken_at.isoformat().replace("+00:00", "Z")
        if place is not None:
            body["location"] = {"latitude": place[0], "longitude": place[1]}
        if description:
            body["description"] = description
        # Not retried: a lost answer would leave a second pending asset behind.
        return self._json("POST", "/v1/uploads", json=body, retry=False)

    def complete(self, asset_id: str) -> Json:
        return self._json("POST", f"/v1/uploads/{asset_id}/complete")

    def parts(self, asset_id: str, *, first: int) -> Json:
        """Part URLs of a multipart upload from part ``first`` on (as many as the API gives)."""
        return self._json("GET", f"/v1/uploads/{asset_id}/parts", params={"first": first})

    def abort(self, asset_id: str) -> None:
        self._json("POST", f"/v1/uploads/{asset_id}/abort")

    def put_file(self, url: str, headers: dict[str, str], path: Path, *, offset: int,
                 length: int, progress: Callable[[int], None]) -> None:
        """PUT ``length`` bytes of ``path`` from ``offset``, streamed, reporting each chunk.

        Tried again on a server error or a broken connection; the bytes an attempt had
        reported are taken back first, so progress never counts past the file.
        """
        for attempt in range(ATTEMPTS):
            sent = 0

            def chunks(file: BinaryIO) -> Iterator[bytes]:
                nonlocal sent
                file.seek(offset)
                left = length
                while left:
                    chunk = file.read(min(CHUNK_BYTES, left))
                    if not chunk:
                        raise TransferError(f"{path} became shorter while it was uploaded")
                    left -= len(chunk)
                    sent += len(chunk)
                    progress(len(chunk))
                    yield chunk

            try:
                with path.open("rb") as file:
                    response = self._bucket.put(
                        url, content=chunks(file),
                        headers={**headers, "Content-Length": str(length)})
            except httpx.TransportError as exc:
                failure = f"the upload was interrupted: {exc}"
            else:
                # A 412 after a failed attempt: the URL takes one write only (If-None-Match),
                # so that attempt's bytes did land and only its answer was lost.
                if response.status_code == 200 or (response.status_code == 412 and attempt):
                    progress(length - sent)
                    return
                failure = f"the bucket refused the upload: {_bucket_error(response)}"
                if response.status_code not in RETRYABLE:
                    raise TransferError(failure)
            progress(-sent)
            if attempt + 1 < ATTEMPTS:
                time.sleep(backoff(attempt))
        raise TransferError(failure)

    # Assets

    def asset(self, asset_id: str) -> Json:
        return self._json("GET", f"/v1/assets/{asset_id}")

    def assets(self, *, limit: int | None = None, page_size: int = 100,
               **filters: str | None) -> Iterator[Json]:
        """Assets, newest first unless a ``sort`` says otherwise, following the pages."""
        params = {name: value for name, value in filters.items() if value is not None}
        yielded = 0
        cursor = None
        while True:
            size = page_size if limit is None else min(page_size, limit - yielded)
            if size <= 0:
                return
            page = self._json("GET", "/v1/assets",
                              params={**params, "limit": size,
                                      **({"cursor": cursor} if cursor else {})})
            for item in page["items"]:
                yield item
                yielded += 1
            cursor = page["next_cursor"]
            if cursor is None:
                return

    def similar_groups(self, *, distance: int | None = None,
                       project_id: str | None = None) -> Iterator[Json]:
        """Groups of near-duplicates (an asset and the later ones near it), following the
        pages to the end of the library; a page may hold none."""
        params = {name: value for name, value in (("distance", distance),
                                                  ("project_id", project_id))
                  if value is not None}
        cursor = None
        while True:
            page = self._json("GET", "/v1/similar",
                              params={**params, **({"cursor": cursor} if cursor else {})})
            yield from page["groups"]
            cursor = page["next_cursor"]
            if cursor is None:
                return

    def sync_cursor(self) -> str:
        """Where the change feed starts now."""
        return str(self._json("GET", "/v1/assets", params={"limit": 1})["sync_cursor"])

    def changes(self, since: str) -> tuple[list[Json], str]:
        """Every asset changed since the cursor (all pages), and the cursor to go on from."""
        changed: list[Json] = []
        while True:
            page = self._json("GET", "/v1/assets", params={"changed_since": since, "limit": 200})
            changed.extend(page["items"])
            if page["next_cursor"] is None:
                return changed, str(page["sync_cursor"])
            since = page["next_cursor"]

    def delete(self, asset_id: str, *, permanent: bool = False) -> None:
        # Repeating it is safe: a second move to the trash changes nothing, and an asset
        # deleted for good is a 404 the second time.
        self._json("DELETE", f"/v1/assets/{asset_id}",
                   params={"permanent": "true"} if permanent else None)

    def restore(self, asset_id: str) -> Json:
        return self._json("POST", f"/v1/assets/{asset_id}/restore")

    def empty_trash(self) -> Json:
        return self._json("DELETE", "/v1/trash")

    def retry(self, asset_id: str) -> Json:
        # Not retried: after a lost answer the asset is processing and a second try a 409.
        return self._json("POST", f"/v1/assets/{asset_id}/retry", retry=False)

    def download(self, url: str, destination: BinaryIO, progress: Callable[[int, int], None]
                 ) -> None:
        """Stream a presigned GET into ``destination``; progress gets (chunk, total)."""
        try:
            with self._bucket.stream("GET", url) as response:
                if response.status_code != 200:
                    response.read()
                    raise TransferError(f"the bucket refused the download: "
                                        f"{_bucket_error(response)}")
                total = int(response.headers.get("Content-Length") or 0)
                for chunk in response.iter_bytes(CHUNK_BYTES):
                    destination.write(chunk)
                    progress(len(chunk), total)
        except httpx.TransportError as exc:
            raise TransferError(f"the download was interrupted: {exc}") from exc

    # Projects and stats

    def projects(self) -> list[Json]:
        items: list[Json] = self._json("GET", "/v1/projects")["items"]
        return items

    def project_named(self, name: str) -> Json | None:
        """The project of this name as the server compares names (case, Unicode forms): the
        server's rule is the only one, so the CLI never compares names itself."""
        items: list[Json] = self._json("GET", "/v1/projects", params={"name": name})["items"]
        return items[0] if items else None

    def project(self, project_id: str) -> Json:
        return self._json("GET", f"/v1/projects/{project_id}")

    def create_project(self, name: str) -> Json:
        return self._json("POST", "/v1/projects", json={"name": name}, retry=False)

    def rename_project(self, project_id: str, name: str) -> Json:
        return self._json("PATCH", f"/v1/projects/{project_id}", json={"name": name})

    def delete_project(self, project_id: str, *, cascade: bool = False) -> None:
        self._json("DELETE", f"/v1/projects/{project_id}",
                   params={"cascade": "true"} if cascade else None)

    def add_to_project(self, project_id: str, asset_ids: Sequence[str]) -> Json:
        # Repeating it is safe: an asset already in the project is no change.
        return self._json("POST", f"/v1/projects/{project_id}/assets",
                          json={"asset_ids": list(asset_ids)})

    def remove_from_project(self, project_id: str, asset_ids: Sequence[str]) -> Json:
        return self._json("DELETE", f"/v1/projects/{project_id}/assets",
                          json={"asset_ids": list(asset_ids)})

    def share_project(self, project_id: str, *, expires_at: str | None,
                      allow_original: bool) -> Json:
        # Not repeated: a retry after a lost answer would make a second link.
        return self._json("POST", f"/v1/projects/{project_id}/shares", retry=False,
                          json={"expires_at": expires_at, "allow_original": allow_original})

    def shares(self, project_id: str) -> list[Json]:
        items: list[Json] = self._json("GET", f"/v1/projects/{project_id}/shares")["items"]
        return items

    def revoke_share(self, project_id: str, share_id: str) -> None:
        self._json("DELETE", f"/v1/projects/{project_id}/shares/{share_id}")

    def start_import(self, source: str, project_id: str | None, time_zone: str) -> Json:
        # Repeating it is safe: a request for a source already being listed joins that run.
        return self._json("POST", "/v1/imports", json={
            "source": source, "project_id": project_id, "time_zone": time_zone})

    def import_status(self, import_id: str) -> Json:
        return self._json("GET", f"/v1/imports/{import_id}")

    def stats(self) -> Json:
        return self._json("GET", "/v1/stats")

    def rerender_page(self, cursor: str | None) -> Json:
        # Repeating a page is safe: a job for an asset already up to date or taken does nothing.
        body = {"cursor": cursor} if cursor else {}
        return self._json("POST", "/v1/admin/rerender", json=body)

    def rerender_progress(self) -> Json:
        return self._json("GET", "/v1/admin/rerender")

    def processing(self) -> Json:
        return self._json("GET", "/v1/admin/processing")

    def set_paused(self, paused: bool) -> Json:
        # Repeating it is safe: it sets the triggers, it does not toggle them.
        return self._json("PUT", "/v1/admin/processing", json={"paused": paused})

    def _json(self, method: str, path: str, *, retry: bool = True, **kwargs: Any) -> Json:
        attempts = ATTEMPTS if retry else 1
        for attempt in range(attempts):
            try:
                response = self._api.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                failure: ClientError = TransferError(f"no answer from {self.url}: {exc}")
            else:
                if response.status_code < 400:
                    return response.json() if response.content else {}
                failure = _api_error(response)
                if response.status_code not in RETRYABLE:
                    raise failure
            if attempt + 1 < attempts:
                time.sleep(backoff(attempt))
        raise failure


def _api_error(response: httpx.Response) -> ApiError:
    try:
        error = response.json()["error"]
        return ApiError(response.status_code, str(error["code"]), str(error["message"]))
    except (ValueError, KeyError, TypeError):
        # Not the API's error shape: a proxy or a wrong URL answered.
        text = response.text.strip()[:200] or response.reason_phrase
        return ApiError(response.status_code, "unexpected_answer",
                        f"{response.request.method} {response.request.url} answered {text!r}")


def _bucket_error(response: httpx.Response) -> str:
    # S3 explains itself in XML; its Code and Message are what a person needs.
    try:
        document = ElementTree.fromstring(response.content)
    except ElementTree.ParseError:
        return f"{response.status_code} {response.reason_phrase}"
    parts = [text for tag in ("Code", "Message") if (text := document.findtext(tag))]
    return f"{response.status_code} {': '.join(parts) or response.reason_phrase}"


def backoff(attempt: int) -> float:
    return 0.5 * 2.0 ** attempt
