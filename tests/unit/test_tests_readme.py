"""tests/README.md maps properties to test files: every file under tests/ must be on it, and
every file and test it names must exist, so that the map cannot drift from the tests."""

from __future__ import annotations

import re

from tests.conftest import REPO

TESTS = REPO / "tests"
MAP = (TESTS / "README.md").read_text()
# `unit/test_x.py`, `unit/test_x.py::test_a` or a folder `events/`: relative to tests/.
REFERENCE = re.compile(r"`([\w/]+\.py)(?:::(\w+))?`")


def test_every_file_under_tests_is_on_the_map() -> None:
    files = sorted(str(path.relative_to(TESTS)) for path in TESTS.rglob("*.py")
                   if path.name != "__init__.py")
    named = {path for path, _ in REFERENCE.findall(MAP)}
    assert [file for file in files if file not in named] == []
    assert "`events/`" in MAP


def test_every_file_and_test_the_map_names_exists() -> None:
    named = REFERENCE.findall(MAP)
    assert len(named) > 60
    missing = [f"{path}::{test}" if test else path for path, test in named
               if not (TESTS / path).is_file()
               or (test and not re.search(rf"^def {test}\(", (TESTS / path).read_text(), re.M))]
    assert missing == []


def test_every_test_that_starts_a_stack_is_selected_by_its_marker() -> None:
    """`-m e2e` runs e2e/, browser/ and the schemathesis run: each such file says so."""
    marked = {"e2e": "e2e", "browser": "e2e", "crash": "crash", "load": "load", "faults": "faults"}
    unmarked = [str(path.relative_to(TESTS)) for folder, marker in marked.items()
                for path in sorted((TESTS / folder).glob("test_*.py"))
                if f"pytestmark = pytest.mark.{marker}\n" not in path.read_text()]
    assert unmarked == []
    assert "pytestmark = pytest.mark.e2e\n" in (TESTS / "hostile/test_schemathesis.py").read_text()
