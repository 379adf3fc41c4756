"""The README's "Try it" commands, run as written against the running stack."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.e2e.conftest import Client, Stack

pytestmark = pytest.mark.e2e


def try_it_commands() -> str:
    readme = (REPO / "README.md").read_text()
    block = re.search(r"### Try it\n\n```sh\n(.*?)```", readme, flags=re.S)
    assert block is not None, "the README has no Try it block"
    # The stack runs already, and its settings come from its exports below.
    return "\n".join(line for line in block.group(1).splitlines()
                     if not line.startswith(("./dev.sh up", 'eval "$(./dev.sh env)"')))


def test_the_readmes_try_it_uploads_a_photo_that_becomes_ready(
    stack: Stack, client: Client, tmp_path: Path
) -> None:
    (tmp_path / ".venv").symlink_to(REPO / ".venv")  # the commands run where a clone is
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", try_it_commands()], cwd=tmp_path,
                          env={**os.environ, **stack.exports}, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    # The last command lists the library, newest first: the photo just sent leads it.
    newest = json.loads(done.stdout[done.stdout.index("{"):])["items"][0]
    assert newest["filename"] == "photo.jpg", done.stdout
    assert client.wait_until_settled(newest["asset_id"])["status"] == "ready"
