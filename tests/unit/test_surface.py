"""What each function loads at import: its cold start."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
HEAVY = ("PIL", "numpy", "tifffile", "av")


def modules_loaded_by(handler_module: str) -> set[str]:
    script = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); "
        f"import {handler_module}; print(json.dumps(sorted(sys.modules)))"
    )
    output = subprocess.run([sys.executable, "-c", script, str(FUNCTIONS)], check=True,
                            capture_output=True, text=True).stdout
    return {name.split(".")[0] for name in json.loads(output)}


@pytest.mark.parametrize("handler_module",
                         ["presign", "library", "upload_complete", "thumbnail", "video"])
def test_no_function_loads_the_imaging_stack_at_import(handler_module: str) -> None:
    loaded = modules_loaded_by(handler_module)
    assert not loaded & set(HEAVY)
    assert "lightbox" in loaded and "chalice" in loaded


@pytest.mark.parametrize(("handler_module", "renderer", "loaded", "never"), [
    ("thumbnail", "render", "PIL", "av"),
    ("video", "render_clip", "av", "tifffile"),  # FFmpeg, and none of the image readers
])
def test_each_rendering_function_loads_its_stack_when_it_first_renders(
    handler_module: str, renderer: str, loaded: str, never: str
) -> None:
    script = (
        f"import sys; sys.path.insert(0, sys.argv[1]); import {handler_module}; "
        f"{handler_module}.container.{renderer}; print({loaded!r} in sys.modules, "
        f"{never!r} in sys.modules)"
    )
    output = subprocess.run([sys.executable, "-c", script, str(FUNCTIONS)], check=True,
                            capture_output=True, text=True).stdout
    assert output.split() == ["True", "False"]
