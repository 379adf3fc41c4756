"""./dev.sh's help: asked for, it answers; given a wrong command, it says what there is."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import REPO

SCRIPT = REPO / "dev.sh"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=30, check=False)


def test_help_names_every_command_the_script_runs() -> None:
    asked = run("help")
    assert asked.returncode == 0
    commands = set(re.findall(r"^  ([a-z| -]+)\)$", SCRIPT.read_text(), flags=re.M))
    names = {name.strip() for case in commands for name in case.split("|")} - {"-h", "--help"}
    assert names >= {"up", "test", "setup", "help"}
    shown = set(re.findall(r"^  \./dev\.sh (\S+)", asked.stdout, flags=re.M))
    assert shown == names


def test_a_wrong_command_is_answered_with_the_help_and_status_2() -> None:
    wrong = run("bogus")
    assert wrong.returncode == 2
    assert wrong.stdout == run("help").stdout
