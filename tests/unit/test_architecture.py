"""The functions' processor: the template's Architecture parameter, and the build's wheels and
checks for the one chosen (infra/aws/build.py), without building anything."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

from infra.aws import build
from infra.aws.checks import CheckError
from infra.template import Template
from tests.conftest import REPO

TEMPLATE = Template.load(REPO / "template.yaml")


def test_the_template_lets_the_deployer_choose_the_functions_processor() -> None:
    parameter = TEMPLATE.parameters["Architecture"]
    assert parameter["AllowedValues"] == ["x86_64", "arm64"]
    assert set(parameter["AllowedValues"]) == set(build.MACHINES)  # the build knows each
    assert parameter["Default"] == build.default_architecture(TEMPLATE) == "x86_64"
    assert TEMPLATE.document["Globals"]["Function"]["Architectures"] == [{"Ref": "Architecture"}]
    overridden = [name for name, resource in TEMPLATE.document["Resources"].items()
                  if "Architectures" in resource.get("Properties", {})]
    assert overridden == []  # every function follows the parameter


@pytest.mark.parametrize(("architecture", "platforms"), [
    ("x86_64", ["manylinux2014_x86_64", "manylinux_2_28_x86_64"]),
    ("arm64", ["manylinux2014_aarch64", "manylinux_2_28_aarch64"]),
])
def test_the_wheels_are_the_chosen_processors(architecture: str, platforms: list[str]) -> None:
    target = build.wheel_target(architecture)
    assert [target[i + 1] for i, option in enumerate(target) if option == "--platform"] == platforms
    assert target[target.index("--python-version") + 1] == "3.12"
    assert "--only-binary=:all:" in target  # never a source build for this machine


@pytest.mark.parametrize(("machine", "architecture"), [
    ("x86_64", "x86_64"), ("aarch64", "arm64"), ("arm64", "arm64"), ("riscv64", None),
])
def test_this_machine_is_named_as_lambda_names_it(
    monkeypatch: pytest.MonkeyPatch, machine: str, architecture: str | None,
) -> None:
    monkeypatch.setattr(build.platform, "machine", lambda: machine)
    assert build.this_machine() == architecture


def _elf(path: Path, machine: int, *, little_endian: bool = True) -> None:
    """The first bytes of an ELF file for ``machine`` (e_machine at offset 18)."""
    order = "<" if little_endian else ">"
    header = b"\x7fELF" + bytes([2, 1 if little_endian else 2, 1]) + bytes(9)
    header += struct.pack(f"{order}HH", 3, machine)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + bytes(64))


def test_native_code_of_another_processor_is_found(tmp_path: Path) -> None:
    _elf(tmp_path / "numpy" / "_core" / "_multiarray_umath.cpython-312-aarch64-linux-gnu.so", 183)
    _elf(tmp_path / "numpy.libs" / "libopenblas.so.0", 183)
    _elf(tmp_path / "PIL" / "_imaging.cpython-312-x86_64-linux-gnu.so", 62)
    _elf(tmp_path / "odd" / "big-endian.so", 183, little_endian=False)
    (tmp_path / "PIL" / "Image.py").write_text("not native code")
    (tmp_path / "empty.so").write_bytes(b"")

    found = build.foreign_libraries(tmp_path, "arm64")
    assert [(str(path.relative_to(tmp_path)), machine) for path, machine in found] == [
        ("PIL/_imaging.cpython-312-x86_64-linux-gnu.so", 62)]
    assert {str(path.relative_to(tmp_path)) for path, _ in
            build.foreign_libraries(tmp_path, "x86_64")} == {
        "numpy/_core/_multiarray_umath.cpython-312-aarch64-linux-gnu.so",
        "numpy.libs/libopenblas.so.0", "odd/big-endian.so"}


def test_a_package_for_another_processor_is_checked_without_importing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    imported: list[list[str]] = []

    def import_check(python: str, directory: Path, handlers: list[str]) -> dict[str, str]:
        imported.append(list(handlers))
        return {}

    monkeypatch.setattr(build, "_run_import_check", import_check)
    (tmp_path / "thumbnail.py").write_text("")
    (tmp_path / "lightbox").mkdir()
    (tmp_path / "lightbox" / "__init__.py").write_text("")
    _elf(tmp_path / "PIL" / "_imaging.so", 183)

    build.check_foreign_package(sys.executable, tmp_path, ["thumbnail.handle_jobs"], "arm64")
    assert imported == [[]]  # the AWS clients only: no handler is imported

    _elf(tmp_path / "psycopg_binary" / "_psycopg.so", 62)
    with pytest.raises(CheckError) as refused:
        build.check_foreign_package(sys.executable, tmp_path,
                                    ["thumbnail.handle_jobs", "video.handle_jobs"], "arm64")
    assert "video.handle_jobs: no such module in the package" in str(refused.value)
    assert "psycopg_binary/_psycopg.so: native code for ELF machine 62" in str(refused.value)


def test_the_build_imports_the_handlers_only_on_their_own_processor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: list[str] = []

    def install(name: str, directory: Path, constraints: Path, architecture: str) -> None:
        checked.append(f"install {name} for {architecture}")
        directory.mkdir(parents=True)

    monkeypatch.setattr(build, "install_package", install)
    monkeypatch.setattr(build, "compile_bytecode", lambda python, directory: None)
    monkeypatch.setattr(build, "check_handlers_import",
                        lambda python, directory, handlers: checked.append(f"import {directory.name}"))
    monkeypatch.setattr(build, "check_foreign_package",
                        lambda python, directory, handlers, architecture:
                        checked.append(f"inspect {directory.name} for {architecture}"))
    monkeypatch.setattr(build, "this_machine", lambda: "x86_64")
    monkeypatch.setattr(build, "lint", lambda document: [])
    monkeypatch.setattr(build, "translate", lambda document: document)

    build.build(tmp_path / "x86", sys.executable, "x86_64")
    assert checked == ["install api for x86_64", "import api", "install imaging for x86_64",
                       "import imaging", "install video for x86_64", "import video"]
    checked.clear()
    build.build(tmp_path / "arm", sys.executable, "arm64")
    assert checked == ["install api for arm64", "inspect api for arm64",
                       "install imaging for arm64", "inspect imaging for arm64",
                       "install video for arm64", "inspect video for arm64"]
    assert '"architecture": "arm64"' in (tmp_path / "arm" / "packages.json").read_text()
    with pytest.raises(CheckError, match="no such architecture 'sparc'"):
        build.build(tmp_path / "sparc", sys.executable, "sparc")


def test_the_libraries_test_suites_are_left_out_and_nothing_else(tmp_path: Path) -> None:
    for path in ("numpy/_core/tests/test_api.py", "numpy/tests/test_public_api.py",
                 "numpy/testing/__init__.py", "numpy/_core/multiarray.py", "tests.py",
                 "chalice/templates/0000-rest-api/tests/test_app.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    build.drop_test_suites(tmp_path)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == [
        "numpy/_core/multiarray.py", "numpy/testing/__init__.py", "tests.py"]
