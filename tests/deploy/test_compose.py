"""docker-compose.yml and the Dockerfile, which cannot run here (no Docker daemon): the file
against the Compose specification's own JSON schema, and what its services run against the
code they run."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema

from infra.local.__main__ import arguments
from tests.conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
DOCKERFILE = (REPO / "Dockerfile").read_text()
RUNTIMES = {name: service for name, service in COMPOSE["services"].items()
            if service.get("build") == "."}


def test_the_file_is_valid_under_the_compose_specification() -> None:
    schema = get_builtin_schema("vendor.compose-spec")
    validator = jsonschema.Draft202012Validator(schema)
    errors = [f"{'/'.join(map(str, error.path))}: {error.message}"
              for error in validator.iter_errors(COMPOSE)]
    assert errors == []


def test_the_schema_refuses_what_compose_would() -> None:
    """The check can fail: a misspelt key of a service is refused."""
    schema = get_builtin_schema("vendor.compose-spec")
    broken: dict[str, Any] = {"services": {"lightbox": {"build": ".", "comand": ["up"]}}}
    assert not jsonschema.Draft202012Validator(schema).is_valid(broken)


def test_there_is_a_runtime_for_the_default_and_for_each_profile() -> None:
    profiles = {profile for service in COMPOSE["services"].values()
                for profile in service.get("profiles", [])}
    assert profiles == {"localstack", "minio"}
    assert {tuple(service.get("profiles", ["default"])) for service in RUNTIMES.values()} == {
        ("default",), ("localstack",), ("minio",)}


@pytest.mark.parametrize("name", sorted(RUNTIMES))
def test_each_runtime_runs_a_command_the_runtime_takes_on_a_database_it_waits_for(
        name: str) -> None:
    service = RUNTIMES[name]
    args = arguments().parse_args(service["command"])
    assert args.command == "up" and str(args.data) == "/data"
    assert service["volumes"][0].endswith(":/data")
    assert service["network_mode"] == "host"  # presigned URLs of 127.0.0.1 work from the host
    postgres = COMPOSE["services"]["postgres"]["environment"]
    assert service["environment"]["DATABASE_URL"] == (
        f"postgresql://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}"
        f"@127.0.0.1:5432/{postgres['POSTGRES_DB']}")
    waits_for = set(service["depends_on"])
    assert waits_for <= set(COMPOSE["services"]) and "postgres" in waits_for
    assert all(COMPOSE["services"][other].get("healthcheck") for other in waits_for)


def test_the_image_is_built_from_files_that_exist_and_runs_the_runtime_unprivileged() -> None:
    for source in re.findall(r"^COPY (?:--\S+ )*(.+) \S+$", DOCKERFILE, re.MULTILINE):
        for path in source.split():
            assert path == "." or (REPO / path).exists(), path
    assert 'ENTRYPOINT ["python", "-m", "infra.local"]' in DOCKERFILE
    assert re.search(r"^USER (?!root)\w+$", DOCKERFILE, re.MULTILINE)
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".data"} <= set(ignored)
