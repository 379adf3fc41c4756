"""Deep zoom: the pyramid's geometry, the tiles the imaging core cuts, the grants that open
them, their storage and deletion through the thumbnail service, and the public routes, over
the fakes and the real imaging core."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import library
import numpy as np
import pytest
from chalice.app import Request
from PIL import Image

from lightbox.config import Config
from lightbox.domain import (
    NewAsset,
    Pyramid,
    RenderedTiles,
    RenderSpec,
    Rendition,
    Status,
    ThumbnailJob,
    Tile,
    original_key,
)
from lightbox.errors import AssetNotFound, ImageError
from lightbox.http import inputs
from lightbox.imaging.geometry import unturned_box, upright
from lightbox.imaging.render import render
from lightbox.imaging.source import DecodedPage
from lightbox.imaging.tiles import tile_images
from lightbox.services import library as library_service
from lightbox.services import listing
from lightbox.services.thumbnails import ProcessingPolicy, process_job, rerender_job
from lightbox.services.tiles import grant_tiles, granted_asset, tile_url
from lightbox.wiring import Container
from tests.contract import CONTRACT
from tests.fakes import FakeLibrary, FakeTileGrantKey
from tests.support import ApiClient, image_bytes, load_event, tampered

OWNER = "studio"
SPEC = RenderSpec(sizes=(64, 256), jpeg_quality=85, max_pixels=50_000_000, tiles_above=1024)
POLICY = ProcessingPolicy(lease_seconds=900, max_attempts=3)
KEY = FakeTileGrantKey()
NOW = 1_800_000_000.0


def clock() -> float:
    return NOW


def scene(size: tuple[int, int]) -> Image.Image:
    """Smooth colour with sharp marks: each tile differs from its neighbours, and survives JPEG."""
    width, height = size
    x, y = np.meshgrid(np.arange(width), np.arange(height))
    pixels = np.stack([x * 255 // width, y * 255 // height, (x // 64 + y // 64) % 2 * 128], -1)
    return Image.fromarray(pixels.astype(np.uint8), "RGB")


def decoded(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def difference(first: Image.Image, second: Image.Image) -> float:
    assert first.size == second.size
    return float(np.abs(np.asarray(first, np.int16) - np.asarray(second, np.int16)).mean())


# --- the pyramid ------------------------------------------------------------------------------

def test_a_pyramid_halves_until_the_whole_image_fits_one_tile() -> None:
    assert Pyramid(4097, 3).scale_factors == (1, 2, 4, 8, 16)
    assert Pyramid(512, 512).scale_factors == (1,)
    assert Pyramid(513, 10).scale_factors == (1, 2)
    assert Pyramid(20000, 14000).scale_factors == (1, 2, 4, 8, 16, 32, 64)


def test_an_awkward_pyramid_has_a_last_column_of_one_pixel_at_every_level() -> None:
    pyramid = Pyramid(4097, 3)
    tiles = list(pyramid.tiles())
    assert len(tiles) == pyramid.count() == 9 + 5 + 3 + 2 + 1
    last_columns = [tile for tile in tiles if tile.region[0] == 4096]
    assert [(t.scale, t.region, t.size) for t in last_columns] == [
        (1, (4096, 0, 1, 3), (1, 3)), (2, (4096, 0, 1, 3), (1, 2)), (4, (4096, 0, 1, 3), (1, 1)),
        (8, (4096, 0, 1, 3), (1, 1))]
    top = tiles[-1]
    assert top.full and top.path == "full/257,1/0/default.jpg"
    assert tiles[0].path == "0,0,512,3/512,3/0/default.jpg"


def test_a_20000_pixel_scan_is_cut_into_tiles_that_cover_every_level_once() -> None:
    pyramid = Pyramid(20000, 14000)
    assert pyramid.count() == 1120 + 280 + 70 + 20 + 6 + 2 + 1
    for scale in pyramid.scale_factors:
        level = list(pyramid.level(scale))
        # Regions cover the full image exactly; sizes add up to the level's, ceil(side / s).
        assert sum(t.region[2] * t.region[3] for t in level) == 20000 * 14000
        width, height = pyramid.level_size(scale)
        assert sum(t.size[0] * t.size[1] for t in level) == width * height
        assert all(t.size[0] <= 512 and t.size[1] <= 512 for t in level)
    assert pyramid.level_size(64) == (313, 219)
    corner = list(pyramid.level(1))[-1]
    assert corner.path == "19968,13824,32,176/32,176/0/default.jpg"


def test_only_a_tile_of_the_pyramid_is_found_written_exactly_as_iiif_names_it() -> None:
    pyramid = Pyramid(20000, 14000)
    for tile in list(pyramid.tiles())[::37]:
        region, size = tile.path.split("/")[:2]
        assert pyramid.find(region, size) == tile
    assert pyramid.find("full", "313,219") is not None
    refused = [("0,0,512,512", "512,"), ("00,0,512,512", "512,512"), ("0,0,512,512", "max"),
               ("1,0,512,512", "512,512"), ("0,0,512,512", "256,256"), ("0,0,1024,1024",
               "512,512,"), ("-0,0,512,512", "512,512"), ("0,0,512,512", "٥١٢,512"),
               ("pct:0,0,10,10", "512,512"), ("full", "512,512"), ("20480,0,512,512",
               "512,512"), ("0,0,512,512 ", "512,512"), ("../../x", "512,512"),
               ("0,0," + "9" * 40 + ",512", "512,512"), ("", "")]
    assert [pyramid.find(region, size) for region, size in refused] == [None] * len(refused)


# --- the imaging core ---------------------------------------------------------------------------

@pytest.mark.parametrize("orientation", range(1, 9))
def test_cropping_where_the_stored_image_has_a_box_then_turning_it_is_cropping_upright(
        orientation: int) -> None:
    stored = scene((300, 200))
    shown = upright(stored, orientation)
    box = (37, 11, 101, 150)
    crop = upright(stored.crop(unturned_box(box, stored.size, orientation)), orientation)
    assert np.array_equal(np.asarray(crop), np.asarray(shown.crop(box)))


@pytest.mark.parametrize("orientation", [1, 6, 7])
def test_each_tile_shows_its_region_of_the_upright_image_at_its_scale(orientation: int) -> None:
    shown = scene((1300, 1100))  # two rows and columns at half size, so that both offsets scale
    # Stored as a camera stores it: turned back, with the orientation that turns it upright.
    inverse = {1: 1, 6: 8, 7: 7}[orientation]
    stored = upright(shown, inverse)
    pyramid = Pyramid(*shown.size)
    tiles = dict(tile_images(DecodedPage(stored, None, orientation), pyramid, SPEC))
    assert len(tiles) == pyramid.count() == 9 + 4 + 1
    halved = shown.reduce(2)
    for tile, data in tiles.items():
        x, y = tile.region[0] // tile.scale, tile.region[1] // tile.scale
        level = {1: shown, 2: halved, 4: halved.reduce(2)}[tile.scale]
        expected = level.crop((x, y, x + tile.size[0], y + tile.size[1]))
        assert difference(decoded(data), expected) < 5, tile  # a neighbour differs by 50+
    edge = tiles[Tile(1, (1024, 1024, 276, 76), (276, 76), full=False)]
    assert decoded(edge).size == (276, 76)


def test_a_page_that_decodes_at_another_size_than_its_pyramid_is_refused() -> None:
    page = DecodedPage(scene((100, 60)), None, 1)
    with pytest.raises(Exception, match="decoded at 100×60"):
        next(tile_images(page, Pyramid(120, 60), SPEC))


def tiles_of(path: Path) -> tuple[Pyramid, list[tuple[Tile, bytes]]]:
    """The tiles ``render`` makes of the file at ``path``, which it must tile."""
    rendition = render(path, SPEC)
    assert rendition.tiles is not None
    made = rendition.tiles.make()
    assert made is not None
    return made[0], list(made[1])


def test_render_tiles_an_image_over_the_setting_upright_and_no_other(tmp_path: Path) -> None:
    turned = tmp_path / "turned.jpg"
    turned.write_bytes(image_bytes("JPEG", (1600, 900), orientation=6))
    pyramid, tiles = tiles_of(turned)
    assert pyramid == Pyramid(900, 1600)
    assert len(tiles) == pyramid.count()
    assert decoded(tiles[0][1]).size == (512, 512)

    small = tmp_path / "small.jpg"
    small.write_bytes(image_bytes("JPEG", (1024, 700)))
    assert render(small, SPEC).tiles is None  # not longer than the setting
    # Tiles are cut from the whole page, which the pixel limit applies to.
    assert render(turned, replace(SPEC, max_pixels=1_000_000)).tiles is None


def test_a_page_decoded_whole_for_its_thumbnails_is_cut_into_tiles_without_decoding_it_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lightbox.imaging import pillow_source
    from lightbox.imaging import render as rendering

    decodes: list[int] = []
    decode = pillow_source.PillowSource.decode

    def counted(source: pillow_source.PillowSource, index: int, target: int) -> DecodedPage:
        decodes.append(target)
        return decode(source, index, target)

    monkeypatch.setattr(pillow_source.PillowSource, "decode", counted)
    # A PNG has no reduced-scale decode: its thumbnails' decode is the whole page, turned.
    png = tmp_path / "turned.png"
    png.write_bytes(image_bytes("PNG", (1600, 900), orientation=6))
    pyramid, reused = tiles_of(png)
    assert len(decodes) == 1
    # The same tiles as from a page decoded afresh.
    fresh = rendering._tiles(png, SPEC, None)
    assert fresh is not None and fresh[0] == pyramid == Pyramid(900, 1600)
    assert list(fresh[1]) == reused
    # A JPEG's thumbnails are decoded at reduced scale: its tiles need the whole page.
    jpeg = tmp_path / "turned.jpg"
    jpeg.write_bytes(image_bytes("JPEG", (1600, 900), orientation=6))
    decodes.clear()
    tiles_of(jpeg)
    assert len(decodes) == 2


# --- grants -------------------------------------------------------------------------------------

def tiled_asset(stack: FakeLibrary) -> uuid.UUID:
    # Bytes after the image's end make each asset's its own, not a duplicate of the last.
    data = image_bytes("JPEG", (1100, 700)) + uuid.uuid4().bytes
    asset_id = stack.pending(data)
    stack.assets.mark_uploaded(OWNER, asset_id, "image/jpeg")
    assert process_job(ThumbnailJob(asset_id, OWNER), stack.pipeline, render=render, spec=SPEC,
                       policy=POLICY) is Status.READY
    return asset_id


def test_a_grant_opens_its_asset_until_it_expires() -> None:
    stack = FakeLibrary(OWNER)
    asset = stack.asset(tiled_asset(stack))
    access = grant_tiles(asset, KEY, ttl=3600, clock=clock)
    assert access is not None and access.pyramid == asset.tiles == Pyramid(1100, 700)
    assert granted_asset(asset.id, access.grant, assets=stack.assets, key=KEY,
                         clock=clock) == asset
    with pytest.raises(AssetNotFound):
        granted_asset(asset.id, access.grant, assets=stack.assets, key=KEY,
                      clock=lambda: NOW + 3601)


def test_a_forged_grant_or_one_for_another_asset_or_owner_opens_nothing() -> None:
    stack = FakeLibrary(OWNER)
    asset = stack.asset(tiled_asset(stack))
    other = stack.asset(tiled_asset(stack))
    grant = grant_tiles(asset, KEY, ttl=3600, clock=clock)
    assert grant is not None
    expires, mac = grant.grant.split(".")
    stranger = grant_tiles(replace(asset, owner_id="mallory"), KEY, ttl=3600, clock=clock)
    assert stranger is not None
    forged = [f"{int(expires) + 1}.{mac}", f"{expires}.{tampered(mac)}", f"{expires}.", mac,
              f"{expires}.{mac}.", f"{expires}.{'é' * 43}", f"٣{expires}.{mac}", "",
              stranger.grant,
              grant_tiles(asset, FakeTileGrantKey(b"x" * 32), ttl=3600, clock=clock).grant]  # type: ignore[union-attr]
    for bad in forged:
        with pytest.raises(AssetNotFound):
            granted_asset(asset.id, bad, assets=stack.assets, key=KEY, clock=clock)
    with pytest.raises(AssetNotFound):
        granted_asset(other.id, grant.grant, assets=stack.assets, key=KEY, clock=clock)


def test_a_grant_opens_nothing_once_its_asset_is_trashed_or_deleted() -> None:
    stack = FakeLibrary(OWNER)
    asset = stack.asset(tiled_asset(stack))
    access = grant_tiles(asset, KEY, ttl=3600, clock=clock)
    assert access is not None
    library_service.trash_asset(OWNER, asset.id, stack.pipeline)
    with pytest.raises(AssetNotFound):
        granted_asset(asset.id, access.grant, assets=stack.assets, key=KEY, clock=clock)
    library_service.restore_asset(OWNER, asset.id, stack.pipeline)
    granted_asset(asset.id, access.grant, assets=stack.assets, key=KEY, clock=clock)
    library_service.delete_asset(OWNER, asset.id, stack.pipeline)
    with pytest.raises(AssetNotFound):
        granted_asset(asset.id, access.grant, assets=stack.assets, key=KEY, clock=clock)


def test_a_duplicate_shows_the_tiles_of_the_asset_holding_its_bytes_until_it_is_trashed() -> None:
    stack = FakeLibrary(OWNER)
    holder = tiled_asset(stack)
    copy = stack.assets.add_duplicate(
        NewAsset(id=uuid.uuid4(), owner_id=OWNER, filename="again.jpg", content_type="image/jpeg",
                 size_bytes=1, declared_sha256=None, project_id=uuid.uuid4()), holder)
    assert copy is not None and copy.status is Status.DUPLICATE
    view = listing.get_asset(OWNER, copy.id, stack.pipeline, url_ttl=600)
    assert view.tiles is not None and view.tiles.asset_id == holder
    granted_asset(holder, view.tiles.grant, assets=stack.assets, key=KEY)  # the same secret
    library_service.trash_asset(OWNER, copy.id, stack.pipeline)
    assert listing.get_asset(OWNER, copy.id, stack.pipeline, url_ttl=600).tiles is None


def test_a_tile_url_is_signed_only_for_a_tile_of_the_pyramid() -> None:
    stack = FakeLibrary(OWNER)
    asset = stack.asset(tiled_asset(stack))
    url = tile_url(asset, "512,0,512,512", "512,512", "0", "default.jpg", storage=stack.storage)
    assert url.startswith(f"https://bucket.test/{asset.derivatives_prefix}iiif/512,0,512,512/")
    for wrong in [("512,0,512,512", "512,512", "90", "default.jpg"),
                  ("512,0,512,512", "512,512", "0", "default.png"),
                  ("512,0,512,512", "512,512", "0", "gray.jpg"),
                  ("512,0,512,512", "256,256", "0", "default.jpg")]:
        with pytest.raises(AssetNotFound):
            tile_url(asset, *wrong, storage=stack.storage)


# --- the service: stored, replaced, deleted ------------------------------------------------------

def tile_objects(stack: FakeLibrary, asset_id: uuid.UUID) -> set[str]:
    prefix = f"derivatives/{OWNER}/{asset_id}/iiif/"
    return {key for key in stack.storage.objects if key.startswith(prefix)}


def test_a_render_stores_every_tile_and_a_permanent_delete_removes_them_all() -> None:
    stack = FakeLibrary(OWNER)
    asset_id = tiled_asset(stack)
    asset = stack.asset(asset_id)
    assert asset.tiles is not None
    stored = tile_objects(stack, asset_id)
    assert len(stored) == asset.tiles.count() == 6 + 2 + 1
    assert f"derivatives/{OWNER}/{asset_id}/iiif/full/275,175/0/default.jpg" in stored
    library_service.delete_asset(OWNER, asset_id, stack.pipeline)
    assert not any(key.startswith(f"derivatives/{OWNER}/{asset_id}/")
                   for key in stack.storage.objects)


def test_a_rerender_that_no_longer_tiles_an_asset_deletes_its_tiles() -> None:
    stack = FakeLibrary(OWNER)
    asset_id = tiled_asset(stack)
    untiled = replace(SPEC, tiles_above=2048)
    assert rerender_job(ThumbnailJob(asset_id, OWNER, rerender=True), stack.pipeline,
                        render=render, spec=untiled, policy=POLICY)
    assert stack.asset(asset_id).tiles is None and tile_objects(stack, asset_id) == set()
    assert rerender_job(ThumbnailJob(asset_id, OWNER, rerender=True), stack.pipeline,
                        render=render, spec=SPEC, policy=POLICY)
    assert len(tile_objects(stack, asset_id)) == 9


def test_tiles_written_for_an_asset_deleted_while_rendering_are_deleted_again() -> None:
    stack = FakeLibrary(OWNER)
    data = image_bytes("JPEG", (1100, 700))
    asset_id = stack.pending(data)
    stack.assets.mark_uploaded(OWNER, asset_id, "image/jpeg")

    def delete_meanwhile(path: Path, spec: RenderSpec) -> Rendition:
        rendition = render(path, spec)
        library_service.delete_asset(OWNER, asset_id, stack.pipeline)
        return rendition

    assert process_job(ThumbnailJob(asset_id, OWNER), stack.pipeline, render=delete_meanwhile,
                       spec=SPEC, policy=POLICY) is None
    assert not any(key.startswith(f"derivatives/{OWNER}/{asset_id}/")
                   for key in stack.storage.objects)


def test_a_page_that_cannot_be_cut_into_tiles_leaves_its_asset_ready_without_them() -> None:
    stack = FakeLibrary(OWNER)
    asset_id = stack.pending(image_bytes("JPEG", (1100, 700)))
    stack.assets.mark_uploaded(OWNER, asset_id, "image/jpeg")

    def cut_badly(path: Path, spec: RenderSpec) -> Rendition:
        rendition = render(path, spec)
        assert rendition.tiles is not None
        made = rendition.tiles.make()
        assert made is not None
        pyramid, images = made

        def broken() -> Iterator[tuple[Tile, bytes]]:
            yield next(images)
            raise ImageError("the page is corrupt past its first strip")

        return replace(rendition, tiles=RenderedTiles(lambda: (pyramid, broken())))  # type: ignore[arg-type]

    assert process_job(ThumbnailJob(asset_id, OWNER), stack.pipeline, render=cut_badly,
                       spec=SPEC, policy=POLICY) is Status.READY
    asset = stack.asset(asset_id)
    assert asset.tiles is None and asset.derivatives and tile_objects(stack, asset_id) == set()


def test_a_failure_while_storing_tiles_leaves_none_behind() -> None:
    stack = FakeLibrary(OWNER)
    asset_id = stack.pending(image_bytes("JPEG", (1100, 700)))
    stack.assets.mark_uploaded(OWNER, asset_id, "image/jpeg")
    puts = stack.storage.put
    written: list[str] = []

    def fail_on_the_third(key: str, data: bytes, content_type: str) -> None:
        if len(written) == 2:
            raise OSError("connection reset")
        written.append(key)
        puts(key, data, content_type)

    stack.storage.put = fail_on_the_third  # type: ignore[method-assign]
    with pytest.raises(OSError):
        process_job(ThumbnailJob(asset_id, OWNER), stack.pipeline, render=render, spec=SPEC,
                    policy=POLICY)
    assert written and tile_objects(stack, asset_id) == set()
    assert stack.asset(asset_id).status is Status.UPLOADED  # released for the retry


# --- the routes ---------------------------------------------------------------------------------

@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLibrary]:
    stack = FakeLibrary(OWNER)
    config = Config.from_env({"LIGHTBOX_BUCKET": "media", "DATABASE_URL": "postgresql://unused"})
    monkeypatch.setattr(library, "container", Container(
        config, assets=stack.assets, storage=stack.storage, jobs=stack.jobs,
        tile_key=FakeTileGrantKey()))
    yield stack


def info_url(asset_id: uuid.UUID, host: str = "api.example.com") -> str:
    response = ApiClient(library.app, owner=OWNER).get(
        f"/v1/assets/{asset_id}", headers={"Host": host, "X-Forwarded-Proto": "https"})
    CONTRACT.check("GET", f"/v1/assets/{asset_id}", response.status_code, response.body)
    tiles = response.json_body["tiles"]
    assert (tiles["width"], tiles["height"], tiles["tile_size"]) == (1100, 700, 512)
    url: str = tiles["info_url"]
    return url


def test_the_asset_json_links_info_json_which_a_browser_reads_without_credentials(
        served: FakeLibrary) -> None:
    asset_id = tiled_asset(served)
    url = info_url(asset_id)
    assert url.startswith(f"https://api.example.com/v1/tiles/{asset_id}/")
    path = url.removeprefix("https://api.example.com")
    response = ApiClient(library.app, owner=None).get(path, headers={"Host": "api.example.com",
                                                                     "X-Forwarded-Proto": "https"})
    CONTRACT.check("GET", path, response.status_code, response.body)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.json_body == {
        "@context": "http://iiif.io/api/image/3/context.json",
        "id": url.removesuffix("/info.json"), "type": "ImageService3",
        "protocol": "http://iiif.io/api/image", "profile": "level0",
        "width": 1100, "height": 700, "sizes": [{"width": 275, "height": 175}],
        "tiles": [{"width": 512, "height": 512, "scaleFactors": [1, 2, 4]}],
    }
    tile = path.replace("info.json", "1024,512,76,188/76,188/0/default.jpg")
    redirect = ApiClient(library.app, owner=None).get(tile)
    CONTRACT.check("GET", tile, redirect.status_code, redirect.body)
    assert redirect.status_code == 302
    assert redirect.headers["Location"].startswith(
        f"https://bucket.test/derivatives/{OWNER}/{asset_id}/iiif/1024,512,76,188/76,188/0/")
    key = redirect.headers["Location"].removeprefix("https://bucket.test/").split("?")[0]
    assert decoded(served.storage.objects[key]).size == (76, 188)


def test_a_tile_route_answers_404_alike_for_everything_it_does_not_serve(
        served: FakeLibrary) -> None:
    asset_id = tiled_asset(served)
    path = info_url(asset_id).removeprefix("https://api.example.com")
    base = path.removesuffix("/info.json")
    grant = base.rsplit("/", 1)[1]
    other = tiled_asset(served)
    refused = [f"{base}/0,0,512,512/512,/0/default.jpg", f"{base}/0,0,512,512/512,512/0/x.jpg",
               f"{base}/0,0,512,512/512,512/180/default.jpg", f"{base}/full/max/0/default.jpg",
               f"/v1/tiles/{other}/{grant}/info.json", f"/v1/tiles/not-a-uuid/{grant}/info.json",
               f"/v1/tiles/{asset_id}/1.AAAA/info.json", f"/v1/tiles/{uuid.uuid4()}/{grant}/info.json"]
    library_service.trash_asset(OWNER, other, served.pipeline)
    for refused_path in refused:
        response = ApiClient(library.app, owner=None).get(refused_path)
        CONTRACT.check("GET", refused_path, response.status_code, response.body)
        assert response.status_code == 404, refused_path
        assert response.json_body["error"]["code"] == "asset_not_found"
    library_service.trash_asset(OWNER, asset_id, served.pipeline)
    assert ApiClient(library.app, owner=None).get(path).status_code == 404
    listed = ApiClient(library.app, owner=OWNER).get("/v1/assets?status=trashed")
    assert all(item["tiles"] is None for item in listed.json_body["items"])


def test_the_api_root_is_where_the_client_called_it() -> None:
    # Through the execute-api host, the stage precedes the route in the path asked for.
    event = load_event("apiGatewayProxyRequest.json")
    assert (event["path"], event["requestContext"]["path"]) == ("/v1/uploads", "/dev/v1/uploads")
    assert inputs.api_url(Request(event)) == (
        "https://abcdef1234.execute-api.us-east-1.amazonaws.com/dev")
    # A custom domain's base path; and the local gateway, which serves the stage at its root.
    event["requestContext"]["path"] = "/photos/v1/uploads"
    event["headers"] = {"Host": "api.example.com", "X-Forwarded-Proto": "https"}
    assert inputs.api_url(Request(event)) == "https://api.example.com/photos"
    event["requestContext"]["path"] = "/v1/uploads"
    event["headers"] = {"Host": "127.0.0.1:8000"}
    assert inputs.api_url(Request(event)) == "http://127.0.0.1:8000"
    event["headers"] = {"Host": "[::1]:8000", "X-Forwarded-Proto": "gopher"}
    assert inputs.api_url(Request(event)) == "http://[::1]:8000"


def test_without_a_host_the_info_url_is_the_path_from_the_api_root(served: FakeLibrary) -> None:
    asset_id = tiled_asset(served)
    assert info_url(asset_id, host="evil.example/x").startswith(f"/v1/tiles/{asset_id}/")


def test_an_untiled_asset_says_tiles_null(served: FakeLibrary) -> None:
    asset_id = served.pending(image_bytes("JPEG", (300, 200)))
    served.assets.mark_uploaded(OWNER, asset_id, "image/jpeg")
    process_job(ThumbnailJob(asset_id, OWNER), served.pipeline, render=render, spec=SPEC,
                policy=POLICY)
    response = ApiClient(library.app, owner=OWNER).get(f"/v1/assets/{asset_id}")
    assert response.json_body["tiles"] is None
    assert served.asset(asset_id).original_key == original_key(OWNER, asset_id)
