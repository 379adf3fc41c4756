"""docs/SECURITY.md maps each claim to tests: every test file and test it names must exist, so
that the map cannot silently point at tests that were renamed or removed."""

import re

from tests.conftest import REPO

DOC = (REPO / "docs" / "SECURITY.md").read_text()
# `tests/x.py::test_a`, then `::test_b` in the same cell meaning tests/x.py::test_b.
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`")


def named_tests() -> list[tuple[str, str | None]]:
    found, current = [], None
    for path, test in REFERENCE.findall(DOC):
        current = path or current
        if path or test:
            found.append((current, test or None))
    return found


def test_every_test_the_security_review_names_exists() -> None:
    named = named_tests()
    assert len(named) > 40
    missing = [f"{path}::{test}" if test else path for path, test in named
               if not (REPO / path).is_file()
               or (test and not re.search(rf"^def {test}\(", (REPO / path).read_text(), re.M))]
    assert missing == []
