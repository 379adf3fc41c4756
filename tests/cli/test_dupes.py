"""``lightbox dupes`` against a server on loopback that answers what each test scripts: the
pages of groups followed, groups sharing a photo joined, the distance and project passed on."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner, Result

from lightbox_cli import main
from lightbox_cli.clusters import clusters
from tests.cli.test_client import Script, server  # noqa: F401  # the loopback server

Json = dict[str, Any]
PROJECT = "5e0c2a4b-9d1f-4a7e-8b3c-0f1e2d3c4b5a"


def brief(number: int, filename: str | None = None) -> Json:
    return {"asset_id": f"{number:08x}-0000-4000-8000-000000000000",
            "filename": filename or f"IMG_{number:04d}.jpg", "content_type": "image/jpeg",
            "size_bytes": 2_000_000 + number, "project_id": None, "width": 4000,
            "height": 3000, "taken_at": "2024-05-31T14:00:12"}


def group(first: int, *near: tuple[int, int]) -> Json:
    return {"asset": brief(first),
            "similar": [{"distance": gap, "asset": brief(other)} for other, gap in near]}


def page(groups: list[Json], cursor: str | None) -> tuple[int, str, bytes]:
    return 200, "application/json", json.dumps({"groups": groups,
                                                "next_cursor": cursor}).encode()


def run(url: str, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(main.cli, ["--url", url, "--api-key", "lbk_secret", *args],
                                env={"LIGHTBOX_URL": None, "LIGHTBOX_API_KEY": None})
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result


def queries(script: Script) -> list[dict[str, list[str]]]:
    return [parse_qs(urlsplit(path).query) for _, path, _, _ in script.requests]


def test_every_page_is_followed_and_groups_sharing_a_photo_are_joined(
        server: tuple[str, Script]) -> None:  # noqa: F811
    url, script = server
    script.answers = [
        page([group(1, (2, 4), (3, 8))], "page-2"),
        page([], "page-3"),  # a stretch of the library without any
        page([group(3, (5, 2)), group(7, (8, 0))], None),
    ]
    result = run(url, "dupes", "--json")

    found = [json.loads(line) for line in result.stdout.splitlines()]
    assert [[asset["asset_id"][:8] for asset in cluster] for cluster in found] == [
        ["00000001", "00000002", "00000003", "00000005"], ["00000007", "00000008"]]
    assert [asset["nearest"] for asset in found[0]] == [4, 4, 2, 2]
    assert [query.get("cursor") for query in queries(script)] == [None, ["page-2"], ["page-3"]]
    for _, path, headers, _ in script.requests:
        assert path.startswith("/v1/similar") and headers["Authorization"] == "Bearer lbk_secret"


def test_the_table_numbers_groups_with_short_ids_and_their_nearest_bits(
        server: tuple[str, Script]) -> None:  # noqa: F811
    url, script = server
    script.answers = [page([group(1, (2, 6)), group(9, (10, 0))], None)]
    result = run(url, "dupes", "--distance", "7")

    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Group", "ID", "Bits", "File", "Size", "Pixels", "Taken"]
    assert [line.split()[:4] for line in lines[1:]] == [
        ["1", "00000001", "6", "IMG_0001.jpg"], ["1", "00000002", "6", "IMG_0002.jpg"],
        ["2", "00000009", "0", "IMG_0009.jpg"], ["2", "0000000a", "0", "IMG_0010.jpg"]]
    assert all(len(line) <= 80 and line == line.rstrip() for line in lines)
    assert queries(script) == [{"distance": ["7"]}]
    assert "2 groups, 4 photos." in result.stderr


def test_a_project_is_named_and_its_id_asked_for(server: tuple[str, Script]) -> None:  # noqa: F811
    url, script = server
    script.answers = [
        (200, "application/json", json.dumps({"items": [{
            "project_id": PROJECT, "name": "Trip", "asset_count": 3,
            "created_at": "2024-06-01T09:30:00Z", "updated_at": "2024-06-01T09:30:00Z"}]})
         .encode()),
        page([], None),
    ]
    result = run(url, "dupes", "--project", "Trip")
    assert [path.split("?")[0] for _, path, _, _ in script.requests] == ["/v1/projects",
                                                                        "/v1/similar"]
    assert queries(script)[1] == {"project_id": [PROJECT]}
    assert "No near-duplicates." in result.stderr


def test_a_distance_the_server_refuses_is_said(server: tuple[str, Script]) -> None:  # noqa: F811
    url, script = server
    script.answers = [(422, "application/json", json.dumps({"error": {
        "code": "invalid_field",
        "message": "distance must be a whole number of bits from 0 to 11"}}).encode())]
    result = run(url, "dupes", "--distance", "40", code=1)
    assert "from 0 to 11" in result.stderr


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 0, 2]])
def test_a_chain_of_near_photos_is_one_cluster_whatever_the_order(order: list[int]) -> None:
    groups = [group(1, (2, 9)), group(2, (3, 9)), group(4, (3, 1))]
    joined = clusters(groups[index] for index in order)
    assert len(joined) == 1
    assert sorted(asset["asset_id"][:8] for asset in joined[0]) == [
        "00000001", "00000002", "00000003", "00000004"]
    assert {asset["asset_id"][:8]: asset["nearest"] for asset in joined[0]}["00000003"] == 1
