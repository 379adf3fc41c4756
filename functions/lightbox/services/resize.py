"""Thumbnails of the sizes that are not rendered ahead, made on first request and kept.

``GET /v1/assets/{id}/thumbnails/{size}`` answers with a signed URL of the derivative: one the
asset lists already, or one made now from the smallest listed derivative of that page at least
that large (a few hundred kilobytes, where the original may be a 200 MB scan), else from the
original. Only the sizes rendered ahead and those of ``LIGHTBOX_ON_DEMAND_SIZES`` are made, so
that nobody can have the service render and store arbitrary sizes.

A size made is stored at its derivative key and appended to the asset's list (only while it is
ready), so that every deletion path removes it with the rest, and a rerender replaces it. A
render that loses to a deletion removes what it wrote. Two first requests at once both render
and write the same key; the second append finds it listed, and both answer the same URL.

A clip's original is read by the video core only, which this function does not carry: a clip's
sizes are made from its posters, never larger than its largest poster.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from uuid import UUID

from lightbox import filetypes
from lightbox.domain import Asset, Derivative, RenderedImage, RenderSpec, Status
from lightbox.errors import AssetNotFound, InvalidField, InvalidState, RequestError
from lightbox.ports import Pipeline, Renderer
from lightbox.services.thumbnails import store_images


@dataclass(frozen=True)
class ResizePolicy:
    on_demand_sizes: tuple[int, ...]
    url_ttl: int


@dataclass(frozen=True)
class ThumbnailRequest:
    size: int
    format: str | None = None  # the first configured format when not given
    page: int = 1


def allowed_sizes(spec: RenderSpec, policy: ResizePolicy) -> tuple[int, ...]:
    return tuple(sorted({*spec.sizes, *policy.on_demand_sizes}))


def thumbnail_url(owner_id: str, asset_id: UUID, request: ThumbnailRequest, pipeline: Pipeline,
                  *, render: Renderer, spec: RenderSpec, policy: ResizePolicy) -> str:
    """A signed URL of the asset's derivative of that size, format and page, made if need be."""
    allowed = allowed_sizes(spec, policy)
    if request.size not in allowed:
        # 400, not 422: a size is a request the service refuses to serve, not a value to fix;
        # nobody may have it render arbitrary sizes.
        raise RequestError(f"size must be one of {', '.join(map(str, allowed))} (px)")
    fmt = request.format or spec.formats[0]
    asset = _shown(owner_id, asset_id, pipeline)
    pages = min(asset.info.pages if asset.info else 1, spec.max_pages)
    if request.page > pages:
        raise InvalidField(f"page must be from 1 to {pages}")
    wanted = (request.page, request.size, fmt)
    listed = next((d for d in asset.derivatives if (d.page, d.size, d.format) == wanted), None)
    if listed is None:
        listed = _make(asset, request.page, request.size, fmt, pipeline, render=render,
                       spec=spec)
    return pipeline.storage.presign_get(listed.key, expires_in=policy.url_ttl)


def _shown(owner_id: str, asset_id: UUID, pipeline: Pipeline) -> Asset:
    """The asset whose derivatives this one shows: itself, or the asset it duplicates."""
    asset = pipeline.assets.get(owner_id, asset_id)
    if asset is None or asset.status is Status.DELETED:
        raise AssetNotFound(f"no asset {asset_id}")
    if asset.status is Status.DUPLICATE and asset.duplicate_of is not None:
        holder = pipeline.assets.get(owner_id, asset.duplicate_of)
        asset = holder if holder is not None else asset
    if asset.status is not Status.READY:
        raise InvalidState(f"asset {asset_id} has no thumbnails yet: it is {asset.status}")
    return asset


def _make(asset: Asset, page: int, size: int, fmt: str, pipeline: Pipeline, *,
          render: Renderer, spec: RenderSpec) -> Derivative:
    image = _render(asset, page, size, fmt, pipeline, render=render, spec=spec)
    storage = pipeline.storage
    [made] = store_images(asset, [image], storage)
    if pipeline.assets.add_derivative(asset.owner_id, asset.id, made):
        return made
    current = pipeline.assets.get(asset.owner_id, asset.id)
    if current is not None and current.status is Status.READY and any(
            d.key == made.key for d in current.derivatives):
        return made  # made by a request at the same time
    if current is None or made.key not in {d.key for d in current.derivatives}:
        storage.delete([made.key])  # the asset changed meanwhile: this belongs to nothing
    if current is None or current.status is Status.DELETED:
        raise AssetNotFound(f"no asset {asset.id}")
    raise InvalidState(f"asset {asset.id} changed while its thumbnail was made; try again")


def _render(asset: Asset, page: int, size: int, fmt: str, pipeline: Pipeline, *,
            render: Renderer, spec: RenderSpec) -> RenderedImage:
    of_page = [d for d in asset.derivatives if d.page == page]
    large_enough = [d for d in of_page if d.size >= size]
    if large_enough:
        source = min(large_enough, key=lambda d: d.size)
    elif asset.content_type in filetypes.VIDEO and of_page:
        source = max(of_page, key=lambda d: d.size)
    else:
        source = None
    one = replace(spec, sizes=(size,), formats=(fmt,))
    with tempfile.TemporaryDirectory(prefix="lightbox-") as workdir:
        path = Path(workdir) / "source"
        with path.open("wb") as file:
            for chunk in pipeline.storage.iter_chunks(
                    source.key if source is not None else asset.original_key):
                file.write(chunk)
        if source is not None:  # a derivative is one page, already upright and in sRGB
            return replace(render(path, replace(one, max_pages=1)).images[0], page=page)
        rendition = render(path, replace(one, max_pages=page))
    return next(image for image in rendition.images if image.page == page)
