"""The CLI's uploader against a client that answers as a fast stack does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lightbox_cli.uploads import FileResult, LocalFile, Outcome, Uploader


class Quiet:
    def started(self, file: LocalFile) -> None:
        pass

    def sent(self, file: LocalFile, count: int) -> None:
        pass

    def finished(self, result: FileResult) -> None:
        pass


class FastStack:
    """Each image is rendered before ``complete`` answers, as small ones can be."""

    def __init__(self, settled: dict[str, Any]) -> None:
        self.settled = settled

    def presign(self, *args: Any) -> dict[str, Any]:
        return {"asset_id": "a1", "status": "pending",
                "upload": {"method": "PUT", "url": "http://127.0.0.1:9/x", "headers": {}}}

    def put_file(self, *args: Any, **kwargs: Any) -> None:
        pass

    def complete(self, asset_id: str) -> dict[str, Any]:
        return {"asset_id": asset_id, "status": self.settled["status"]}

    def asset(self, asset_id: str) -> dict[str, Any]:
        return {"asset_id": asset_id, **self.settled}


def upload_one(tmp_path: Path, settled: dict[str, Any]) -> FileResult:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8 a photo")
    uploader = Uploader(FastStack(settled), Quiet())  # type: ignore[arg-type]
    [result] = uploader.upload([LocalFile(path, "image/jpeg", path.stat().st_size)])
    return result


def test_an_asset_ready_before_complete_answers_counts_as_ready(tmp_path: Path) -> None:
    result = upload_one(tmp_path, {"status": "ready"})
    assert (result.outcome, result.status) == (Outcome.READY, "ready")


def test_a_duplicate_found_before_complete_answers_says_of_what(tmp_path: Path) -> None:
    result = upload_one(tmp_path, {"status": "duplicate", "duplicate_of": "a0"})
    assert result.outcome is Outcome.SKIPPED
    assert result.detail == "already in the library as a0"
