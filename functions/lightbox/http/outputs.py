"""What the API answers: its JSON representations of the services' results, and errors.

Every body is JSON (``{"error": {"code", "message"}}`` for an error), and a representation
is written here only, so that a field is named one way across routes and the OpenAPI document.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from chalice.app import Response

from lightbox.domain import Asset, Project, Pyramid, Share
from lightbox.services.imports import ImportReport
from lightbox.services.library import Emptied, MembersChanged
from lightbox.services.listing import (
    AssetPage,
    AssetView,
    Month,
    Similar,
    SimilarGroups,
    Stats,
)
from lightbox.services.rerender import RerenderPage, RerenderProgress
from lightbox.services.sharing import SharedPage
from lightbox.services.uploads import MultipartUpload, UploadTicket
from lightbox.values import Processing

# A message may quote the request (a path, a name); the answer stays small all the same.
MAX_MESSAGE_CHARS = 300


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    return Response(body=json.dumps(body), status_code=status,
                    headers={"Content-Type": "application/json"})


def no_content() -> Response:
    return Response(body="", status_code=204)


def error_response(status: int, code: str, message: str) -> Response:
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + "…"
    return json_response({"error": {"code": code, "message": message}}, status)


def ticket_json(ticket: UploadTicket) -> dict[str, Any]:
    body: dict[str, Any] = {"asset_id": str(ticket.asset_id), "status": ticket.status.value}
    upload = ticket.upload
    if upload is None:
        body["duplicate"] = True
    elif isinstance(upload, MultipartUpload):
        body["upload"] = {"method": "PUT", **_parts_json(upload), "headers": {}}
    else:
        body["upload"] = {
            "method": upload.method,
            "url": upload.url,
            "headers": upload.headers,
            "expires_at": _timestamp(upload.expires_at),
        }
        if upload.fields is not None:
            body["upload"]["fields"] = upload.fields
    return body


def parts_json(asset_id: UUID, upload: MultipartUpload) -> dict[str, Any]:
    return {"asset_id": str(asset_id), **_parts_json(upload)}


def _parts_json(upload: MultipartUpload) -> dict[str, Any]:
    return {
        "part_size": upload.part_size,
        "part_count": upload.part_count,
        "parts": [{"part_number": part.number, "size_bytes": part.size, "url": part.url}
                  for part in upload.parts],
        "expires_at": _timestamp(upload.expires_at),
    }


def page_json(page: AssetPage, api_url: str) -> dict[str, Any]:
    return {"items": [asset_json(view, api_url) for view in page.items],
            "next_cursor": page.next_cursor, "sync_cursor": page.sync_cursor}


def project_json(project: Project) -> dict[str, Any]:
    return {
        "project_id": str(project.id),
        "name": project.name,
        "asset_count": project.asset_count,
        "created_at": _timestamp(project.created_at),
        "updated_at": _timestamp(project.updated_at),
    }


def import_json(report: ImportReport) -> dict[str, Any]:
    run = report.run
    return {
        "import_id": str(run.id),
        "source": run.source.uri,
        "project_id": _optional_str(run.project_id),
        "time_zone": run.time_zone,
        "status": run.status.value,
        "listed": run.listed,
        "adopted": report.adopted,
        # Where the adopted assets are: ready, failed, duplicate, and on their way.
        "assets": {status.value: count for status, count in report.assets.items()},
        "skipped": dict(sorted(run.skipped.items())),
        "error": run.error,
        "created_at": _timestamp(run.created_at),
        "updated_at": _timestamp(run.updated_at),
    }


def share_json(share: Share, *, token: str | None = None,
               url: str | None = None) -> dict[str, Any]:
    """A share as its owner sees it; its token and link only in the answer that made it."""
    body: dict[str, Any] = {
        "share_id": str(share.id),
        "project_id": str(share.project_id),
        "allow_original": share.allow_original,
        "created_at": _timestamp(share.created_at),
        "expires_at": _timestamp(share.expires_at),
        "revoked_at": _timestamp(share.revoked_at),
    }
    if token is not None:
        body.update(token=token, url=url)
    return body


def shared_page_json(page: SharedPage) -> dict[str, Any]:
    """A page of a shared album: what a stranger holding its link may see, and no more."""
    return {
        "album": {"name": page.project.name, "asset_count": page.project.asset_count},
        "allow_original": page.share.allow_original,
        "expires_at": _timestamp(page.share.expires_at),
        "assets": [_shared_asset_json(view) for view in page.items],
        "next_cursor": page.next_cursor,
    }


def _shared_asset_json(view: AssetView) -> dict[str, Any]:
    asset, info = view.asset, view.asset.info
    return {
        "asset_id": str(asset.id),
        "filename": asset.filename,
        "content_type": asset.content_type,
        "width": info.width if info else None,
        "height": info.height if info else None,
        "pages": info.pages if info else None,
        "duration": info.duration if info else None,
        "taken_at": _timestamp(info.taken_at) if info else None,
        "placeholder": asset.placeholder,
        "original_url": view.original_url,
        "thumbnails": _thumbnails_json(view),
    }


def timeline_json(months: tuple[Month, ...]) -> dict[str, Any]:
    return {"months": [{"month": f"{month.start:%Y-%m}", "count": month.count,
                        "cursor": month.cursor} for month in months]}


def members_json(changed: MembersChanged, counted: str) -> dict[str, Any]:
    return {"project": project_json(changed.project), counted: changed.changed}


def emptied_json(emptied: Emptied) -> dict[str, Any]:
    return {"deleted": emptied.deleted, "more": emptied.more}


def stats_json(stats: Stats) -> dict[str, Any]:
    body: dict[str, Any] = {
        "assets": {status.value: count for status, count in stats.counts.items()},
        "stored_bytes": stats.stored_bytes,
        "waiting": {"assets": stats.waiting, "oldest_since": _timestamp(stats.oldest_waiting)},
    }
    if stats.queues is not None:
        body["queues"] = {
            f"thumbnails_{lane.value}": {"waiting": depth.waiting, "in_flight": depth.in_flight,
                                         "delayed": depth.delayed}
            for lane, depth in stats.queues.items()
        }
    return body


def asset_json(view: AssetView, api_url: str) -> dict[str, Any]:
    """An asset; ``api_url`` is the API's root as the client called it (``inputs.api_url``),
    where its tiles are served."""
    asset, info = view.asset, view.asset.info
    return {
        "asset_id": str(asset.id),
        "status": asset.shown_status.value,
        "filename": asset.filename,
        "content_type": asset.content_type,
        "size_bytes": asset.size_bytes,
        "sha256": asset.sha256,
        "project_id": _optional_str(asset.project_id),
        "project_ids": [str(project_id) for project_id in asset.project_ids],
        "duplicate_of": _optional_str(asset.duplicate_of),
        "width": info.width if info else None,
        "height": info.height if info else None,
        "pages": info.pages if info else None,
        "bit_depth": info.bit_depth if info else None,
        "color_mode": info.color_mode if info else None,
        "taken_at": _timestamp(info.taken_at) if info else None,
        "camera_make": info.camera_make if info else None,
        "camera_model": info.camera_model if info else None,
        "orientation": info.orientation if info else None,
        "frames": info.frames if info else None,
        "duration": info.duration if info else None,
        "has_location": info.has_location if info else None,
        "codec": info.codec if info else None,
        "frame_rate": info.frame_rate if info else None,
        "has_audio": info.has_audio if info else None,
        "description": asset.declared.description,
        "placeholder": asset.placeholder,
        "created_at": _timestamp(asset.created_at),
        "updated_at": _timestamp(asset.updated_at),
        "trashed_at": _timestamp(asset.trashed_at),
        "error": asset.error,
        "original_url": view.original_url,
        "thumbnails": _thumbnails_json(view),
        "tiles": _tiles_json(view, api_url),
    }


def _thumbnails_json(view: AssetView) -> list[dict[str, Any]]:
    return [{"size": t.size, "page": t.page, "format": t.format, "width": t.width,
             "height": t.height, "url": t.url} for t in view.thumbnails]


def _tiles_json(view: AssetView, api_url: str) -> dict[str, Any] | None:
    access = view.tiles
    if access is None:
        return None
    pyramid = access.pyramid
    return {"info_url": f"{tile_service_id(api_url, access.asset_id, access.grant)}/info.json",
            "width": pyramid.width, "height": pyramid.height, "tile_size": pyramid.tile_size}


def tile_service_id(api_url: str, asset_id: UUID, grant: str) -> str:
    """Where an asset's IIIF image service is, under a grant: its tiles' URLs begin so."""
    return f"{api_url}/v1/tiles/{asset_id}/{grant}"


def tile_info_json(pyramid: Pyramid, service_id: str) -> dict[str, Any]:
    """The IIIF Image API 3.0 description of a level-0 service of ``pyramid``'s tiles; its
    ``sizes`` are the levels stored whole (region ``full``)."""
    return {
        "@context": "http://iiif.io/api/image/3/context.json",
        "id": service_id,
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level0",
        "width": pyramid.width,
        "height": pyramid.height,
        "sizes": [{"width": width, "height": height}
                  for width, height in (pyramid.level_size(scale)
                                        for scale in reversed(pyramid.scale_factors))
                  if width <= pyramid.tile_size and height <= pyramid.tile_size],
        "tiles": [{"width": pyramid.tile_size, "height": pyramid.tile_size,
                   "scaleFactors": list(pyramid.scale_factors)}],
    }


def similar_json(found: tuple[Similar, ...], api_url: str) -> dict[str, Any]:
    return {"items": [{"distance": near.distance, "asset": asset_json(near.view, api_url)}
                      for near in found]}


def groups_json(page: SimilarGroups) -> dict[str, Any]:
    """Groups name their assets briefly and sign no URL: a page may name hundreds of them."""
    return {
        "groups": [
            {"asset": _asset_brief(group.asset),
             "similar": [{"distance": gap, "asset": _asset_brief(near)}
                         for near, gap in group.similar]}
            for group in page.groups
        ],
        "next_cursor": page.next_cursor,
    }


def _asset_brief(asset: Asset) -> dict[str, Any]:
    info = asset.info
    return {
        "asset_id": str(asset.id),
        "filename": asset.filename,
        "content_type": asset.content_type,
        "size_bytes": asset.size_bytes,
        "project_id": _optional_str(asset.project_id),
        "width": info.width if info else None,
        "height": info.height if info else None,
        "taken_at": _timestamp(info.taken_at) if info else None,
    }


def _timestamp(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _optional_str(value: object | None) -> str | None:
    return str(value) if value is not None else None


def rerender_progress_json(progress: RerenderProgress) -> dict[str, Any]:
    return {"render_spec": progress.render_spec, "outdated": progress.outdated}


def rerender_page_json(page: RerenderPage) -> dict[str, Any]:
    cursor = page.next_cursor
    return {**rerender_progress_json(page.progress), "sent": page.sent,
            "next_cursor": f"{cursor.render_spec}.{cursor.asset_id}" if cursor else None}


def processing_json(processing: Processing) -> dict[str, Any]:
    return {"state": processing.state.value,
            "triggers": [{"function": trigger.function, "source": trigger.source,
                          "state": trigger.state.value} for trigger in processing.triggers]}


def redirect(url: str) -> Response:
    """A 302 to ``url``, with no body to speak of."""
    return Response(body="", status_code=302, headers={"Location": url})
