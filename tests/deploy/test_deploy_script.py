"""deploy.sh's refusals, and its dry run with no AWS account at all."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from infra.aws import sizes
from tests.conftest import REPO

GUIDE = REPO / "docs" / "DEPLOY.md"

# No credentials anywhere: a dry run must not need them.
OFFLINE = {
    **{key: value for key, value in os.environ.items()
       if not key.startswith(("AWS_", "LIGHTBOX_"))},
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def deploy(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["./deploy.sh", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=600, check=False, env={**OFFLINE, **env})


@pytest.mark.parametrize(("args", "code", "message"), [
    (["-e", "qa"], 1, "unknown environment 'qa': use dev or prod"),
    ([], 2, "-e dev|prod is required"),
    (["-e", "dev", "--force"], 2, "unknown argument '--force'"),
    (["-e", "dev", "-p", "CreateDatabase"], 1, "-p takes NAME=VALUE"),
    (["-e", "dev", "-p", "CreateDatabase=maybe"], 1, "CreateDatabase must be true or false"),
    (["-e", "dev", "--dry-run", "-p", "Architecture=sparc"], 1,
     "Architecture must be x86_64 or arm64, not 'sparc'"),
    (["-e", "prod"], 1, "CreateDatabase=true needs VpcId"),
    (["-e", "dev"], 1, "set LIGHTBOX_DATABASE_URL"),
])
def test_what_deploy_refuses_before_building_anything(
    args: list[str], code: int, message: str
) -> None:
    result = deploy(*args)
    assert result.returncode == code
    assert message in result.stderr
    assert "building" not in result.stdout


def test_a_dry_run_builds_checks_and_prints_every_aws_command_offline(tmp_path: Path) -> None:
    quoted = sizes.quoted(GUIDE.read_text())
    result = deploy("-e", "dev", "--dry-run", "-p", "ApiRateLimit=20")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert "every handler imports from its package; template translated and linted" in out
    commands = [line for line in out.splitlines() if line.startswith("+ aws ")]
    assert [command.split()[2:4] for command in commands] == [
        ["cloudformation", "package"], ["cloudformation", "deploy"], ["lambda", "invoke"]]
    deploy_command = commands[1]
    assert "--stack-name lightbox-dev" in deploy_command
    # The file's parameters, then -p: the last value of a name wins in CloudFormation's CLI.
    assert "Environment=dev CreateDatabase=false" in deploy_command
    assert deploy_command.index("ApiRateLimit=50") < deploy_command.index("ApiRateLimit=20")
    assert "ExternalDatabaseUrl" not in deploy_command  # no URL was given, none is invented

    # The guide quotes the sizes this build measured: the dry run rewrote them if they differed.
    built = json.loads((REPO / ".build/dev/packages.json").read_text())
    assert built["architecture"] == "x86_64"  # the template's default: dev.env names none
    measured = sizes.table(built)
    assert sizes.quoted(GUIDE.read_text()) == measured
    assert quoted == measured, ("docs/DEPLOY.md quoted other package sizes than the build "
                                "measured; the dry run has rewritten its table: commit it")
