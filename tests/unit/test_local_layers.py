"""The local runtime's modules import one way: nothing a module imports imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

LOCAL = Path(__file__).resolve().parents[2] / "infra" / "local"


def imports_of(path: Path) -> set[str]:
    """The infra.local modules a file imports, wherever in the file it imports them."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom) or not node.module:
            continue
        if node.module == "infra.local":
            found |= {alias.name for alias in node.names}
        elif node.module.startswith("infra.local."):
            found.add(node.module.removeprefix("infra.local."))
    return found - {"__main__"}


def test_the_local_runtimes_modules_import_each_other_without_cycles() -> None:
    graph = {path.stem: imports_of(path) for path in LOCAL.glob("*.py") if path.stem != "__main__"}

    def cycle_from(module: str, path: tuple[str, ...]) -> tuple[str, ...] | None:
        for imported in sorted(graph.get(module, ())):
            if imported in path:
                return (*path[path.index(imported):], imported)
            found = cycle_from(imported, (*path, imported))
            if found:
                return found
        return None

    cycles = [cycle for module in sorted(graph) if (cycle := cycle_from(module, (module,)))]
    assert cycles == []
