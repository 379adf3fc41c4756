"""Adopting what a bucket holds (services/imports.py), over the fakes of the ports: which
sources an owner may read, what is adopted and what is skipped and why, and that repeats,
crashes and second runs add nothing."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pytest

from lightbox.domain import (
    Declared,
    ImportSource,
    ImportStatus,
    Lane,
    Location,
    NewAsset,
    Status,
    ThumbnailJob,
    original_key,
)
from lightbox.errors import (
    ConfigError,
    Conflict,
    Forbidden,
    InvalidField,
    ProjectNotFound,
    RequestError,
    StorageUnavailable,
)
from lightbox.http.inputs import parse_import_request
from lightbox.ports import Pipeline
from lightbox.services import imports
from lightbox.services.courtesy import GiveWay
from lightbox.services.imports import ImportPolicy, Skip
from lightbox.services.reaper import ReaperPolicy, reap
from lightbox.services.uploads import complete_upload
from tests.fakes import (
    FakeAssetRepository,
    FakeImportQueue,
    FakeImportRepository,
    FakeJobQueue,
    FakeObjectStore,
    FakeProjectRepository,
    FakeSourceBucket,
    pipeline_of,
)
from tests.support import image_bytes
from tests.videos import clip, grey

OWNER = "studio"
MEDIA = "media"
JPEG = image_bytes("JPEG", (64, 48))
POLICY = ImportPolicy(sources=("{bucket}/imports/{owner}/", "archive/shared/"),
                      media_bucket=MEDIA, page_size=1000, backlog=1000,
                      max_upload_bytes=10_000_000, max_projects=5)

NEVER_WAITS = GiveWay(lambda: False, longest_seconds=0)


@dataclass
class Library:
    assets: FakeAssetRepository = field(default_factory=FakeAssetRepository)
    storage: FakeObjectStore = field(default_factory=FakeObjectStore)
    jobs: FakeJobQueue = field(default_factory=FakeJobQueue)
    queue: FakeImportQueue = field(default_factory=FakeImportQueue)
    policy: ImportPolicy = POLICY
    give_way: GiveWay = NEVER_WAITS

    def __post_init__(self) -> None:
        self.imports = FakeImportRepository(self.assets)
        self.projects = FakeProjectRepository(self.assets)
        self.sources: dict[str, FakeSourceBucket] = {}

    @property
    def pipeline(self) -> Pipeline:
        return pipeline_of(self.assets, self.storage, self.jobs)

    def bucket(self, name: str = MEDIA, **objects: bytes) -> None:
        self.storage.buckets.setdefault(name, {}).update(objects)

    def source(self, bucket: str) -> FakeSourceBucket:
        return self.sources.setdefault(bucket, FakeSourceBucket(self.storage, bucket))

    def start(self, uri: str = f"s3://{MEDIA}/imports/{OWNER}/", owner: str = OWNER,
              project_id: uuid.UUID | None = None,
              time_zone: str = "UTC") -> imports.ImportReport:
        request = parse_import_request({"source": uri, "time_zone": time_zone})
        report, _ = imports.start_import(owner, replace(request, project_id=project_id),
                                         imports=self.imports, queue=self.queue,
                                         projects=self.projects, policy=self.policy)
        return report

    def page(self, *, backfill_keeps_up: bool = True) -> Any:
        """Handle the oldest queued page message, as the importer does; the backfill lane has
        taken every job sent so far, unless told otherwise."""
        if backfill_keeps_up:
            self.jobs.taken = len(self.jobs.sent)
        job = self.queue.sent.pop(0)
        return imports.import_page(job, self.pipeline, imports=self.imports, queue=self.queue,
                                   projects=self.projects, open_source=self.source,
                                   policy=self.policy, give_way=self.give_way)

    def run(self, uri: str = f"s3://{MEDIA}/imports/{OWNER}/",
            time_zone: str = "UTC") -> imports.ImportReport:
        report = self.start(uri, time_zone=time_zone)
        while self.queue.sent:
            self.page()
        return imports.import_report(OWNER, report.run.id, imports=self.imports)

    def adopted(self) -> list[Any]:
        return sorted((a for a in self.assets.assets.values() if a.import_id is not None),
                      key=lambda a: a.filename)


def photos(count: int, prefix: str = f"imports/{OWNER}/") -> dict[str, bytes]:
    return {f"{prefix}IMG_{n:04}.JPG": image_bytes("JPEG", (40 + n, 30)) for n in range(count)}


# --- where an owner may import from ----------------------------------------------------------

@pytest.mark.parametrize("uri", [
    f"s3://{MEDIA}/imports/{OWNER}/",
    f"s3://{MEDIA}/imports/{OWNER}/2019/summer/",
    "s3://archive/shared/",
    "s3://archive/shared/scans/",
])
def test_an_owner_may_import_from_the_sources_the_deployment_allows(uri: str) -> None:
    library = Library()
    report = library.start(uri)
    assert report.run.status is ImportStatus.LISTING
    assert library.queue.sent == [imports.ImportJob(report.run.id, OWNER)]


@pytest.mark.parametrize("uri", [
    f"s3://{MEDIA}/imports/someone-else/",  # another owner's prefix
    f"s3://{MEDIA}/imports/{OWNER}",  # not inside the allowed prefix: studio2/ would match too
    f"s3://{MEDIA}/imports/",
    f"s3://{MEDIA}/",
    f"s3://{MEDIA}/originals/{OWNER}/",  # the library's own objects
    "s3://archive/",
    "s3://elsewhere/imports/studio/",
])
def test_any_other_source_is_forbidden_and_the_answer_says_what_is_allowed(uri: str) -> None:
    library = Library()
    with pytest.raises(Forbidden, match=rf"allowed: s3://{MEDIA}/imports/{OWNER}/, "
                                        r"s3://archive/shared/"):
        library.start(uri)
    assert library.queue.sent == []


def test_the_librarys_own_objects_are_never_a_source_whatever_the_patterns_say() -> None:
    library = Library(policy=replace(POLICY, sources=("{bucket}/",)))
    library.start(f"s3://{MEDIA}/imports/")  # the pattern allows the whole bucket
    # Inside the library's prefixes, and any prefix that would list them too.
    for managed in ("originals/", f"originals/{OWNER}/", "derivatives/someone/", "originals",
                    "origin", "o", "d", "deriv", ""):
        with pytest.raises(Forbidden):
            library.start(f"s3://{MEDIA}/{managed}")


def test_a_run_whose_source_the_deployment_no_longer_allows_fails_saying_so() -> None:
    library = Library()
    library.bucket(**photos(2))
    report = library.start()
    library.policy = replace(POLICY, sources=("archive/shared/",))
    library.page()
    run = imports.import_report(OWNER, report.run.id, imports=library.imports).run
    assert run.status is ImportStatus.FAILED
    assert run.error == f"s3://{MEDIA}/imports/{OWNER}/ is no longer a source you may import from"
    assert library.adopted() == []


@pytest.mark.parametrize(("body", "error"), [
    ({"source": "imports/studio/"}, "s3://BUCKET/PREFIX"),
    ({"source": "s3://Media/x/"}, "s3://BUCKET/PREFIX"),
    ({"source": "s3://ab/"}, "s3://BUCKET/PREFIX"),
    ({"source": "s3://media/a\x00b"}, "control characters"),
    ({"source": "s3://media/" + "a" * 1025}, "1024 bytes"),
    ({"source": 3}, "must be a string"),
    ({}, "source is required"),
    ({"source": "s3://media/x/", "project_id": "nope"}, "project_id must be a UUID"),
    ({"source": "s3://media/x/", "time_zone": "Mars/Olympus"}, "time_zone must be"),
    ({"source": "s3://media/x/", "time_zone": "../../etc/passwd"}, "time_zone must be"),
    ({"source": "s3://media/x/", "time_zone": "Europe/"}, "time_zone must be"),
    ({"source": "s3://media/x/", "time_zone": "zone.tab"}, "time_zone must be"),
    ({"source": "s3://media/x/", "time_zone": ""}, "time_zone must be"),
    ({"source": "s3://media/x/", "time_zone": 2}, "time_zone must be"),
])
def test_a_malformed_import_request_is_refused_saying_why(body: dict[str, Any],
                                                          error: str) -> None:
    with pytest.raises(InvalidField, match=error):
        parse_import_request(body)


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(RequestError, match="unknown fields: prefix"):
        parse_import_request({"source": "s3://media/x/", "prefix": "y"})


def test_an_import_into_a_project_of_someone_else_is_refused() -> None:
    library = Library()
    with pytest.raises(ProjectNotFound):
        library.start(project_id=uuid.uuid4())


def test_joining_a_run_that_imports_into_another_project_is_refused() -> None:
    library = Library()
    project = library.projects.add(OWNER, uuid.uuid4(), "Archive", max_projects=10)
    library.start(project_id=project.id)
    with pytest.raises(Conflict, match="into another project or time zone is under way"):
        library.start()


def test_joining_a_run_that_reads_dates_in_another_zone_is_refused() -> None:
    library = Library()
    library.start(time_zone="Europe/Paris")
    with pytest.raises(Conflict, match="into another project or time zone is under way"):
        library.start(time_zone="Asia/Tokyo")


def test_a_second_request_for_a_source_being_listed_joins_that_run() -> None:
    library = Library()
    first = library.start()
    request = parse_import_request({"source": f"s3://{MEDIA}/imports/{OWNER}/"})
    second, started = imports.start_import(OWNER, request, imports=library.imports,
                                           queue=library.queue, projects=library.projects,
                                           policy=library.policy)
    assert not started and second.run.id == first.run.id
    assert len(library.queue.sent) == 1  # one worker lists it


# --- what is adopted, what is skipped --------------------------------------------------------

def test_photos_are_copied_into_the_library_and_their_jobs_take_the_backfill_lane() -> None:
    library = Library()
    library.bucket(**photos(3))
    report = library.run()

    assert report.run.status is ImportStatus.LISTED
    assert (report.run.listed, report.adopted, report.run.skipped) == (3, 3, {})
    assert report.assets == {Status.UPLOADED: 3}
    adopted = library.adopted()
    assert [a.filename for a in adopted] == ["IMG_0000.JPG", "IMG_0001.JPG", "IMG_0002.JPG"]
    for asset, data in zip(adopted, photos(3).values(), strict=True):
        assert library.storage.objects[asset.original_key] == data
        assert (asset.content_type, asset.size_bytes) == ("image/jpeg", len(data))
    assert library.jobs.lanes == [Lane.BACKFILL] * 3
    assert {job.asset_id for job in library.jobs.sent} == {a.id for a in adopted}
    assert library.storage.buckets[MEDIA] == photos(3)  # the source is left as it was


def test_a_clip_takes_the_video_lane_even_when_imported() -> None:
    library = Library()
    library.bucket(**{f"imports/{OWNER}/clip.mp4": clip(grey((64, 48), 0.5), seconds=0.5)})
    library.run()
    assert library.jobs.lanes == [Lane.VIDEO]


def test_what_cannot_be_an_asset_is_skipped_and_counted_by_reason() -> None:
    library = Library()
    base = f"imports/{OWNER}/"
    library.bucket(**{
        f"{base}2019/": b"",  # a console's folder marker
        f"{base}2019/IMG_1.JPG": JPEG,
        f"{base}2019/IMG_1.JPG.json": b'{"title": "IMG_1.JPG"}',
        f"{base}2019/IMG_1.JPG.supplemental-metadata.json": b"{}",
        f"{base}2019/IMG_1.xmp": b"<x:xmpmeta/>",
        f"{base}2019/IMG_1.AAE": b"<plist/>",
        f"{base}2019/.DS_Store": b"\x00\x00\x00\x01Bud1",
        f"{base}2019/notes.pdf.txt": b"hello",
        f"{base}2019/readme": b"just some words, not a photo",
        f"{base}2019/empty.jpg": b"",
        f"{base}2019/huge.jpg": JPEG + bytes(10_000_000),
    })
    report = library.run()

    assert report.run.listed == 11
    assert report.adopted == 1
    assert report.run.skipped == {Skip.FOLDER: 1, Skip.SIDECAR: 6, Skip.NOT_MEDIA: 1,
                                  Skip.EMPTY: 1, Skip.TOO_LARGE: 1}
    assert [a.filename for a in library.adopted()] == ["IMG_1.JPG"]


def test_a_key_makes_a_clean_filename() -> None:
    library = Library()
    library.bucket(**{f"imports/{OWNER}/bad\x07name\u0065\u0301.jpg": JPEG})
    library.run()
    assert [a.filename for a in library.adopted()] == ["bad\ufffdname\u00e9.jpg"]


def test_the_adopted_assets_join_the_project_the_import_names() -> None:
    library = Library()
    project = library.projects.add(OWNER, uuid.uuid4(), "Archive", max_projects=10)
    library.bucket(**photos(2))
    report = library.start(project_id=project.id)
    while library.queue.sent:
        library.page()
    assert {a.project_id for a in library.adopted()} == {project.id}
    assert report.run.project_id == project.id


def test_a_large_source_is_listed_a_page_per_message_in_key_order() -> None:
    library = Library(policy=replace(POLICY, page_size=4))
    library.bucket(**photos(10))
    report = library.start()
    pages = 0
    while library.queue.sent:
        run = library.page()
        pages += 1
        assert run.listed == min(10, 4 * pages)
    assert pages == 3
    final = imports.import_report(OWNER, report.run.id, imports=library.imports)
    assert (final.run.status, final.run.listed, final.adopted) == (ImportStatus.LISTED, 10, 10)
    assert final.run.after_key == f"imports/{OWNER}/IMG_0009.JPG"


# --- a Google Takeout in a bucket ------------------------------------------------------------

TAKEOUT = f"imports/{OWNER}/Takeout/Google Photos/"
TAKEN = 1563121805  # 2019-07-14 16:30:05 UTC


def sidecar(title: str, taken: int = TAKEN, **fields: object) -> bytes:
    return json.dumps({"title": title, "photoTakenTime": {"timestamp": str(taken)},
                       **fields}).encode()


def test_a_takeout_in_a_bucket_gives_its_photos_what_their_sidecars_say() -> None:
    library = Library()
    year, album = f"{TAKEOUT}Photos from 2019/", f"{TAKEOUT}Summer/"
    cut = "PXL_20230615_183055123.NIGHT.PORTRAIT-01.COVER"  # 47 of the name's characters kept
    library.bucket(**{
        f"{year}IMG_1.JPG": JPEG,
        f"{year}IMG_1.JPG.supplemental-metadata.json": sidecar(
            "IMG_1.JPG", description="Low tide",
            geoData={"latitude": 48.8583736, "longitude": 2.291901, "altitude": 82.1}),
        f"{year}IMG_2.JPG": image_bytes("JPEG", (50, 40)),  # its sidecar is missing
        f"{year}{cut}.jpg": image_bytes("JPEG", (52, 40)),
        f"{year}{cut[:46]}.json": sidecar(f"{cut}_ORIGINAL.jpg"),
        f"{year}binned.jpg": image_bytes("JPEG", (54, 40)),
        f"{year}binned.jpg.json": sidecar("binned.jpg", trashed=True),
        # An album's description is no sidecar, even of a photo whose name it could be.
        f"{album}metadata.jpg": image_bytes("JPEG", (56, 40)),
        f"{album}metadata.json": json.dumps({"title": "Summer 2019"}).encode(),
    })
    report = library.run(time_zone="Europe/Paris")

    assert report.run.time_zone == "Europe/Paris"
    assert report.run.skipped == {Skip.SIDECAR: 4, Skip.TRASHED: 1}
    adopted = {a.filename: a.declared for a in library.adopted()}
    paris = datetime(2019, 7, 14, 18, 30, 5)  # the wall clock there, as EXIF keeps dates
    assert adopted == {
        "IMG_1.JPG": Declared(taken_at=paris, location=Location(48.8583736, 2.291901),
                              description="Low tide"),
        "IMG_2.JPG": Declared(),
        f"{cut}_ORIGINAL.jpg": Declared(taken_at=paris),
        "metadata.jpg": Declared(),
    }


@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_a_sidecar_on_another_page_than_its_photo_is_still_read(page_size: int) -> None:
    library = Library(policy=replace(POLICY, page_size=page_size))
    # A cut name whose 47th character sorts after ".": its sidecar sorts before the photo.
    cut = "X" * 46 + "_long_name.jpg"
    library.bucket(**{
        f"{TAKEOUT}{cut[:46]}.json": sidecar(cut, TAKEN),
        f"{TAKEOUT}{cut}": JPEG,
        f"{TAKEOUT}IMG_1.JPG": image_bytes("JPEG", (50, 40)),
        f"{TAKEOUT}IMG_1.JPG.json": sidecar("IMG_1.JPG", TAKEN + 3600),
    })
    library.run()
    assert {a.filename: a.declared.taken_at for a in library.adopted()} == {
        cut: datetime(2019, 7, 14, 16, 30, 5), "IMG_1.JPG": datetime(2019, 7, 14, 17, 30, 5)}


def test_nothing_outside_the_runs_prefix_is_read_for_a_sidecar() -> None:
    library = Library()
    library.bucket(**{f"imports/{OWNER}/IMG_1-edited.jpg": JPEG,
                      f"imports/{OWNER}/IMG_1.jpg.json": sidecar("IMG_1.jpg")})
    library.run(f"s3://{MEDIA}/imports/{OWNER}/IMG_1-")
    assert [a.declared for a in library.adopted()] == [Declared()]
    assert all(key.startswith(f"imports/{OWNER}/IMG_1-")
               for key in library.source(MEDIA).read)


def test_a_sidecar_that_is_not_one_leaves_its_photo_as_its_file_says() -> None:
    library = Library()
    library.bucket(**{f"{TAKEOUT}IMG_1.JPG": JPEG,
                      f"{TAKEOUT}IMG_1.JPG.json": b'{"title": "x", "geoData": [' * 50_000,
                      f"{TAKEOUT}IMG_2.JPG": image_bytes("JPEG", (50, 40)),
                      f"{TAKEOUT}IMG_2.JPG.json": b'{"title": "' + b"x" * (2 << 20) + b'"}'})
    report = library.run()
    assert report.adopted == 2
    assert [a.declared for a in library.adopted()] == [Declared(), Declared()]


def takeout_with_an_album(library: Library) -> None:
    album = f"{TAKEOUT}Summer in Brittany/"
    library.bucket(**{
        f"{TAKEOUT}Photos from 2019/IMG_9.JPG": image_bytes("JPEG", (70, 40)),
        f"{TAKEOUT}Photos from 2019/IMG_9.JPG.json": sidecar("IMG_9.JPG"),
        **{f"{album}IMG_{n}.JPG": image_bytes("JPEG", (60 + n, 40)) for n in range(3)},
        **{f"{album}IMG_{n}.JPG.json": sidecar(f"IMG_{n}.JPG") for n in range(3)},
        # Named in the account's language, after the photos in key order.
        f"{album}métadonnées.json": json.dumps({"title": "Summer\x07 in Brittany ",
                                                "description": ""}).encode(),
        f"{album}more/IMG_5.JPG": image_bytes("JPEG", (80, 40)),  # a folder below: not in it
    })


def projects_of(library: Library) -> dict[str, str | None]:
    names = {project.id: project.name for project in library.projects.list(OWNER)}
    return {a.filename: names.get(a.project_id) if a.project_id else None
            for a in library.adopted()}


@pytest.mark.parametrize("page_size", [1000, 2, 3, 7])
def test_a_takeouts_album_folders_become_projects_of_their_titles(page_size: int) -> None:
    library = Library(policy=replace(POLICY, page_size=page_size))
    takeout_with_an_album(library)
    library.run()
    assert projects_of(library) == {
        "IMG_0.JPG": "Summer\ufffd in Brittany", "IMG_1.JPG": "Summer\ufffd in Brittany",
        "IMG_2.JPG": "Summer\ufffd in Brittany", "IMG_5.JPG": None, "IMG_9.JPG": None}


def test_an_album_joins_the_project_of_its_name_that_exists() -> None:
    library = Library()
    project = library.projects.add(OWNER, uuid.uuid4(), "Summer\ufffd in Brittany",
                                   max_projects=5)
    takeout_with_an_album(library)
    library.run()
    assert {a.project_id for a in library.adopted() if a.filename < "IMG_3"} == {project.id}
    assert len(library.projects.list(OWNER)) == 1


def test_an_import_into_a_project_puts_every_album_there() -> None:
    library = Library()
    project = library.projects.add(OWNER, uuid.uuid4(), "Everything", max_projects=5)
    takeout_with_an_album(library)
    report = library.start(project_id=project.id)
    while library.queue.sent:
        library.page()
    assert set(projects_of(library).values()) == {"Everything"}
    assert report.run.project_id == project.id


def test_an_album_past_the_owners_projects_limit_leaves_its_photos_in_none() -> None:
    library = Library(policy=replace(POLICY, max_projects=1))
    library.projects.add(OWNER, uuid.uuid4(), "Full", max_projects=1)
    takeout_with_an_album(library)
    report = library.run()
    assert report.adopted == 5
    assert set(projects_of(library).values()) == {None}


def test_photos_without_sidecars_read_one_at_most_per_page_edge() -> None:
    library = Library(policy=replace(POLICY, page_size=4))
    library.bucket(**photos(10))
    library.run()
    sidecar_reads = [key for key in library.source(MEDIA).read if key.endswith(".json")]
    # The last photo of each page but the last looks past the page for its two names.
    assert sidecar_reads == [f"imports/{OWNER}/IMG_{n:04}.JPG{suffix}.json"
                             for n in (3, 7) for suffix in (".supplemental-metadata", "")]


def test_a_page_gives_way_to_a_users_own_upload_every_few_objects() -> None:
    looks: list[int] = []
    library = Library()
    library.give_way = GiveWay(lambda: looks.append(len(library.adopted())) or False,
                               longest_seconds=3)
    library.bucket(**photos(40))
    library.run()
    step = imports.ADOPTED_BETWEEN_GIVING_WAY
    assert looks == list(range(0, 40, step))


def test_a_page_waits_while_the_backfill_lane_is_too_far_behind() -> None:
    library = Library(policy=replace(POLICY, page_size=4, backlog=4))
    library.bucket(**photos(12))
    report = library.start()
    library.page(backfill_keeps_up=False)
    library.page(backfill_keeps_up=False)  # 4 jobs waiting: not more than a page
    assert len(library.adopted()) == 8 and library.queue.delays[-1] == 0
    library.assets.advance(60)

    assert library.page(backfill_keeps_up=False) is None  # 8 waiting: it waits
    assert len(library.adopted()) == 8
    assert library.queue.delays[-1] == imports.BACKLOG_WAIT_SECONDS
    run = library.imports.get(OWNER, report.run.id)
    assert run is not None and run.updated_at == library.assets.now  # not stalled
    assert run.listed == 8

    while library.queue.sent:  # the lane catches up
        library.page()
    assert len(library.adopted()) == 12


# --- nothing twice ---------------------------------------------------------------------------

def test_a_second_import_of_the_same_source_adds_nothing() -> None:
    library = Library()
    library.bucket(**photos(5))
    library.run()
    copies, jobs = library.storage.copies, len(library.jobs.sent)

    second = library.run()

    assert second.adopted == 0
    assert second.run.skipped == {Skip.ALREADY_IMPORTED: 5}
    assert (library.storage.copies, len(library.jobs.sent)) == (copies, jobs)
    assert len(library.adopted()) == 5


def test_a_replaced_object_is_adopted_again_as_a_new_version() -> None:
    library = Library()
    library.bucket(**photos(2))
    library.run()
    library.bucket(**{f"imports/{OWNER}/IMG_0000.JPG": image_bytes("JPEG", (99, 77))})
    second = library.run()
    assert second.adopted == 1 and second.run.skipped == {Skip.ALREADY_IMPORTED: 1}


def test_what_its_owner_deleted_does_not_come_back() -> None:
    library = Library()
    library.bucket(**photos(2))
    library.run()
    deleted = library.adopted()[0]
    library.assets.delete(OWNER, deleted.id)

    second = library.run()
    assert second.run.skipped == {Skip.ALREADY_IMPORTED: 2}
    assert library.assets.assets[deleted.id].status is Status.DELETED


def test_a_page_that_fails_half_way_is_handled_again_without_adding_twice() -> None:
    library = Library()
    library.bucket(**photos(6))
    library.storage.fail_on.add(f"imports/{OWNER}/IMG_0003.JPG")  # the copy of the fourth
    report = library.start()
    job = library.queue.sent[0]
    with pytest.raises(StorageUnavailable):
        library.page()
    # The fourth is recorded but not copied (of the others, those started were adopted), and
    # the page is not recorded.
    adopted = {a.filename: a.status for a in library.adopted()}
    assert adopted.pop("IMG_0003.JPG") is Status.PENDING
    assert set(adopted.values()) <= {Status.UPLOADED}
    assert library.storage.copies == len(adopted)
    assert imports.import_report(OWNER, report.run.id, imports=library.imports).run.listed == 0

    library.storage.fail_on.clear()
    library.queue.sent.append(job)  # the queue delivers the message again
    library.page()

    final = imports.import_report(OWNER, report.run.id, imports=library.imports)
    assert (final.run.status, final.run.listed, final.adopted) == (ImportStatus.LISTED, 6, 6)
    assert final.run.skipped == {}  # its own assets are not "already imported"
    assert final.assets == {Status.UPLOADED: 6}
    assert library.storage.copies == 6
    assert sorted(job.asset_id for job in library.jobs.sent) == sorted(
        a.id for a in library.adopted())


def test_messages_delivered_twice_add_nothing_twice() -> None:
    library = Library(policy=replace(POLICY, page_size=2))
    library.bucket(**photos(5))
    report = library.start()
    library.queue.sent *= 2
    handled = 0
    while library.queue.sent:
        before = len(library.queue.sent)
        library.page()
        if len(library.queue.sent) == before:  # it queued the next page: deliver that twice
            library.queue.sent.append(library.queue.sent[-1])
        handled += 1
    final = imports.import_report(OWNER, report.run.id, imports=library.imports)
    assert (final.run.listed, final.adopted, final.run.skipped) == (5, 5, {})
    assert library.storage.copies == 5 and len(library.jobs.sent) == 5
    assert handled > 3  # the repeats did arrive, and found nothing left to do


def test_an_object_replaced_between_listing_and_copying_fails_saying_so() -> None:
    library = Library()
    library.bucket(**photos(1))
    report = library.start()
    key = f"imports/{OWNER}/IMG_0000.JPG"
    original_page = library.source(MEDIA).list_page

    def list_then_replace(*args: Any, **kwargs: Any) -> Any:
        listed = original_page(*args, **kwargs)
        library.storage.buckets[MEDIA][key] = image_bytes("JPEG", (10, 10))
        return listed

    library.source(MEDIA).list_page = list_then_replace  # type: ignore[method-assign]
    library.page()
    [asset] = library.adopted()
    assert asset.status is Status.FAILED
    assert "changed after it was listed: import again" in (asset.error or "")
    assert imports.import_report(OWNER, report.run.id, imports=library.imports).assets == {
        Status.FAILED: 1}


def test_an_object_removed_after_listing_is_skipped_as_gone() -> None:
    library = Library()
    library.bucket(**photos(2))
    library.start()
    original_page = library.source(MEDIA).list_page

    def list_then_remove(*args: Any, **kwargs: Any) -> Any:
        listed = original_page(*args, **kwargs)
        del library.storage.buckets[MEDIA][f"imports/{OWNER}/IMG_0001.JPG"]
        return listed

    library.source(MEDIA).list_page = list_then_remove  # type: ignore[method-assign]
    run = library.page()
    assert run.skipped == {Skip.GONE: 1} and len(library.adopted()) == 1


def test_an_object_the_importer_may_not_read_is_skipped_and_the_run_goes_on() -> None:
    library = Library()
    library.bucket(**photos(3))
    library.start()
    reader = library.source(MEDIA).read_range

    def refuse_one(key: str, length: int) -> bytes:
        if key.endswith("IMG_0001.JPG"):  # archived, or under another's KMS key
            raise ConfigError(f"GET {key} was denied (InvalidObjectState)")
        return reader(key, length)

    library.source(MEDIA).read_range = refuse_one  # type: ignore[method-assign]
    run = library.page()
    assert (run.status, run.skipped) == (ImportStatus.LISTED, {Skip.UNREADABLE: 1})
    assert len(library.adopted()) == 2


def test_a_copy_refused_fails_that_asset_alone_saying_why() -> None:
    library = Library()
    library.bucket(**photos(3))
    report = library.start()
    copy = library.storage.copy_in

    def refuse_one(bucket: str, listed: Any, key: str, *, content_type: str) -> None:
        if listed.key.endswith("IMG_0002.JPG"):
            raise ConfigError("copying was denied (AccessDenied): check credentials and policy")
        copy(bucket, listed, key, content_type=content_type)

    library.storage.copy_in = refuse_one  # type: ignore[method-assign]
    library.page()
    final = imports.import_report(OWNER, report.run.id, imports=library.imports)
    assert final.assets == {Status.UPLOADED: 2, Status.FAILED: 1}
    [failed] = [a for a in library.adopted() if a.status is Status.FAILED]
    assert failed.error == ("the copy was refused: copying was denied (AccessDenied): check "
                            "credentials and policy")


def test_a_pending_copy_of_a_run_that_stopped_is_finished_by_the_next_run() -> None:
    library = Library()
    library.bucket(**photos(2))
    first = library.start()
    library.storage.fail_on.add(f"imports/{OWNER}/IMG_0001.JPG")
    with pytest.raises(StorageUnavailable):
        library.page()
    library.imports.fail(first.run, "stopped")  # it never comes back to that page
    library.storage.fail_on.clear()

    second = library.run()
    assert {a.status for a in library.adopted()} == {Status.UPLOADED}
    assert library.storage.copies == 2
    assert second.run.skipped == {Skip.ALREADY_IMPORTED: len(library.adopted()) - second.adopted}


def test_imported_jobs_are_sent_again_only_once_the_backfill_has_drained() -> None:
    library = Library()
    library.bucket(**photos(3))
    library.run()
    data = image_bytes("JPEG", (30, 20))  # a user's own upload, whose job is lost
    lost = library.assets.add(NewAsset(id=uuid.uuid4(), owner_id=OWNER, filename="own.jpg",
                                       content_type="image/jpeg", size_bytes=len(data),
                                       declared_sha256=None, project_id=None), max_pending=9).id
    library.storage.objects[original_key(OWNER, lost)] = data
    complete_upload(OWNER, lost, library.pipeline)
    library.jobs.sent.clear()
    library.assets.advance(3600)
    reaper_policy = ReaperPolicy(pending_seconds=7200, uploaded_seconds=600,
                                 processing_seconds=900)
    assert reap(library.pipeline, reaper_policy).redriven == 1  # the backfill still holds jobs
    assert [job.asset_id for job in library.jobs.sent] == [lost]
    library.jobs.lanes.clear()  # the backfill drained, three assets still uploaded
    library.assets.advance(3600)
    assert reap(library.pipeline, reaper_policy).redriven == 4
    assert library.jobs.lanes.count(Lane.BACKFILL) == 3


def test_a_source_bucket_that_does_not_exist_fails_the_run_saying_so() -> None:
    library = Library()
    report = library.start("s3://archive/shared/")
    library.page()
    run = imports.import_report(OWNER, report.run.id, imports=library.imports).run
    assert run.status is ImportStatus.FAILED
    assert run.error == "cannot list s3://archive/shared/: no bucket archive"


def test_the_event_of_an_imported_copy_does_not_send_its_job_again() -> None:
    library = Library()
    library.bucket(**photos(1))
    library.run()
    [asset] = library.adopted()
    assert complete_upload(OWNER, asset.id, library.pipeline) is Status.UPLOADED
    assert len(library.jobs.sent) == 1


def test_an_event_that_completes_the_copy_first_sends_the_one_job_to_the_backfill() -> None:
    library = Library()
    library.bucket(**photos(1))
    library.start()
    original_copy = library.storage.copy_in

    def copy_then_event(*args: Any, **kwargs: Any) -> None:
        original_copy(*args, **kwargs)
        [asset] = library.adopted()
        complete_upload(OWNER, asset.id, library.pipeline)  # the bucket event, first

    library.storage.copy_in = copy_then_event  # type: ignore[method-assign]
    library.page()
    assert library.jobs.lanes == [Lane.BACKFILL]
    assert library.jobs.sent == [ThumbnailJob(library.adopted()[0].id, OWNER)]


# --- a run whose message was lost ------------------------------------------------------------

def test_a_stalled_run_is_resumed_once_per_period_and_then_finishes() -> None:
    library = Library(policy=replace(POLICY, page_size=2))
    library.bucket(**photos(3))
    report = library.start()
    library.page()
    library.queue.sent.clear()  # the next page's message is lost
    assert imports.resume_stalled(imports=library.imports, queue=library.queue,
                                  older_than_seconds=600, limit=10) == 0
    library.assets.advance(601)
    assert imports.resume_stalled(imports=library.imports, queue=library.queue,
                                  older_than_seconds=600, limit=10) == 1
    assert imports.resume_stalled(imports=library.imports, queue=library.queue,
                                  older_than_seconds=600, limit=10) == 0
    while library.queue.sent:
        library.page()
    final = imports.import_report(OWNER, report.run.id, imports=library.imports)
    assert (final.run.status, final.adopted) == (ImportStatus.LISTED, 3)


def test_another_owners_import_is_not_found() -> None:
    library = Library()
    report = library.start()
    with pytest.raises(imports.ImportNotFound):
        imports.import_report("someone-else", report.run.id, imports=library.imports)
    assert imports.list_imports("someone-else", imports=library.imports, limit=10) == []


def test_sources_are_allowed_per_owner() -> None:
    assert POLICY.allowed("alice") == [ImportSource(MEDIA, "imports/alice/"),
                                       ImportSource("archive", "shared/")]
