"""The package sizes docs/DEPLOY.md quotes: a table the dry run writes from the build's
manifest (infra/aws/sizes.py), never typed by hand.

The sizes themselves are checked against a real build by the dry-run test in
test_deploy_script.py; these check the table's making and its rows without building.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from infra.aws import build, sizes
from infra.aws.checks import UNZIPPED_LIMIT_BYTES
from infra.template import Template
from tests.conftest import REPO

GUIDE = REPO / "docs" / "DEPLOY.md"
MIB = 2**20
BUILT = sizes.manifest({"api": 40 * MIB + 1000, "imaging": 213 * MIB},
                       {"PresignFunction": "api", "AdminFunction": "api",
                        "ThumbnailFunction": "imaging"}, UNZIPPED_LIMIT_BYTES,
                       architecture="x86_64")
BUILT_ARM64 = sizes.manifest({"api": 41 * MIB, "imaging": 220 * MIB},
                             {"PresignFunction": "api", "ThumbnailFunction": "imaging"},
                             UNZIPPED_LIMIT_BYTES, architecture="arm64")


def test_the_manifest_names_each_packages_size_and_functions() -> None:
    assert BUILT == {
        "architecture": "x86_64",
        "limit_bytes": 250 * MIB,
        "packages": {
            "api": {"bytes": 40 * MIB + 1000, "functions": ["AdminFunction", "PresignFunction"]},
            "imaging": {"bytes": 213 * MIB, "functions": ["ThumbnailFunction"]},
        },
    }


def test_the_table_has_a_row_per_package_between_its_markers() -> None:
    assert sizes.table(BUILT).splitlines() == [
        sizes.START,
        "| package | functions | unzipped | of the 250 MiB limit |",
        "|---|---|---|---|",
        "| `api` | AdminFunction, PresignFunction | 40 MiB | 16% |",
        "| `imaging` | ThumbnailFunction | 213 MiB | 85% |",
        sizes.END,
    ]


def test_only_the_quoted_table_is_replaced() -> None:
    document = f"# Guide\n\nbefore\n\n{sizes.START}\n| old |\n{sizes.END}\n\nafter\n"
    updated = sizes.with_table(document, BUILT)
    assert updated == f"# Guide\n\nbefore\n\n{sizes.table(BUILT)}\n\nafter\n"
    assert sizes.with_table(updated, BUILT) == updated


@pytest.mark.parametrize("document", [
    "no markers", f"{sizes.START}\nonly the start", f"{sizes.START}{sizes.END}{sizes.START}{sizes.END}",
])
def test_a_document_without_one_pair_of_markers_is_refused(document: str) -> None:
    with pytest.raises(ValueError, match="one pair of x86_64 package-size markers"):
        sizes.quoted(document)


def test_each_architecture_has_a_table_of_its_own() -> None:
    arm_start, arm_end = sizes.markers("arm64")
    assert "Architecture=arm64" in arm_start and arm_start != sizes.START
    assert sizes.table(BUILT_ARM64).splitlines()[0] == arm_start
    document = f"{sizes.START}\n| x86 |\n{sizes.END}\n\n{arm_start}\n| old |\n{arm_end}\n"
    updated = sizes.with_table(document, BUILT_ARM64)
    assert sizes.quoted(updated) == f"{sizes.START}\n| x86 |\n{sizes.END}"  # left alone
    assert sizes.quoted(updated, "arm64") == sizes.table(BUILT_ARM64)
    assert sizes.quoted(sizes.with_table(updated, BUILT)) == sizes.table(BUILT)
    with pytest.raises(ValueError, match="one pair of arm64 package-size markers"):
        sizes.with_table(f"{sizes.START}\n{sizes.END}\n", BUILT_ARM64)


def test_the_command_rewrites_the_document_only_when_the_sizes_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, document = tmp_path / "packages.json", tmp_path / "DEPLOY.md"
    manifest.write_text(json.dumps(BUILT))
    document.write_text(f"intro\n{sizes.START}\n{sizes.END}\n")
    assert sizes.main([str(manifest), str(document)]) == 0
    assert "updated" in capsys.readouterr().out
    assert sizes.quoted(document.read_text()) == sizes.table(BUILT)
    assert sizes.main([str(manifest), str(document)]) == 0
    assert "are the build's" in capsys.readouterr().out
    document.write_text("no markers")
    assert sizes.main([str(manifest), str(document)]) == 1


@pytest.mark.parametrize("architecture", sorted(build.MACHINES))
def test_the_guide_quotes_every_package_of_the_template_with_its_functions(
    architecture: str,
) -> None:
    rows = re.findall(r"^\| `(\w+)` \| ([\w, ]+) \| (\d+) MiB \| \d+% \|$",
                      sizes.quoted(GUIDE.read_text(), architecture), flags=re.M)
    template = Template.load(REPO / "template.yaml")
    expected = {package: sorted(f.name for f in template.functions.values() if f.package == package)
                for package in {f.package for f in template.functions.values()}}
    assert {package: functions.split(", ") for package, functions, _ in rows} == expected
    assert all(0 < int(size) <= UNZIPPED_LIMIT_BYTES / MIB for _, _, size in rows)


def test_the_packages_keep_the_model_of_every_aws_service_the_functions_call() -> None:
    # The build drops every other botocore model; a client of a service whose model is gone
    # would fail only in Lambda, at its first call.
    called = set()
    for path in (REPO / "functions").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("create_client", "client") and node.args
                    and isinstance(node.args[0], ast.Constant)):
                called.add(node.args[0].value)
    assert called == set(build.AWS_SERVICES)
