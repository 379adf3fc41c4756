"""Each setting is declared once, in ``lightbox.config.SETTINGS``: the docs, the template and
every mention of a ``LIGHTBOX_*`` variable anywhere in the project are held to it."""

from __future__ import annotations

import re
import types
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import pytest

from infra.configuration import DOC, OTHER_VARIABLES, rewritten
from infra.template import Template
from lightbox.config import SETTINGS, Config, Flag, Setting, Whole
from lightbox.errors import ConfigError
from tests.conftest import REPO

DECLARED = {setting.name for setting in SETTINGS}
TEMPLATE = Template.load(REPO / "template.yaml")
# Everything of the project that may name a variable: code, scripts, template, docs, tests.
SEARCHED = ("functions", "infra", "web", "bench", "tests", "docs", "template.yaml", "deploy.sh",
            "dev.sh", "docker-compose.yml", "README.md")
TEXT_SUFFIXES = {".py", ".sh", ".md", ".yaml", ".yml", ".json", ".toml", ".txt", ".env", ".js",
                 ".html", ".css"}
# A whole name: not the tail of another word (MinIO's ..._LIGHTBOX) nor a pattern's prefix.
VARIABLE = re.compile(r"(?<![A-Za-z0-9_])LIGHTBOX_[A-Z0-9]+(?:_[A-Z0-9]+)*")


def test_the_configuration_doc_is_written_from_the_declarations() -> None:
    text = DOC.read_text()
    assert text == rewritten(text), "run: .venv/bin/python -m infra.configuration"


def test_each_setting_is_declared_once_with_a_one_line_meaning() -> None:
    assert len(DECLARED) == len(SETTINGS)
    assert len({setting.field for setting in SETTINGS}) == len(SETTINGS)
    for setting in SETTINGS:
        for text in (setting.doc, setting.used_by, setting.default_note):
            assert "\n" not in text and "|" not in text, setting.name  # a row of the table
        assert setting.doc.strip() and setting.used_by.strip(), setting.name


def test_every_lightbox_variable_named_anywhere_is_declared() -> None:
    undeclared = {name: places for name, places in _mentions().items()
                  if name not in DECLARED and name not in OTHER_VARIABLES}
    assert undeclared == {}, ("declare it in lightbox.config.SETTINGS, or in "
                              "infra.configuration.OTHER_VARIABLES if the functions do not read it")


def test_the_other_variables_are_not_settings_and_are_still_read() -> None:
    assert DECLARED.isdisjoint(OTHER_VARIABLES)
    declarations = {"infra/configuration.py", "docs/CONFIGURATION.md"}
    read = {name for name, places in _mentions().items()
            if any(place.split(":")[0] not in declarations for place in places)}
    assert set(OTHER_VARIABLES) - read == set()


def test_the_template_sets_the_settings_declared_to_be_set_and_no_others() -> None:
    set_by_template = {name for function in TEMPLATE.functions.values()
                       for name in function.environment}
    assert set_by_template - DECLARED == set()
    assert set_by_template == {setting.name for setting in SETTINGS if setting.template}


def test_each_value_the_template_spells_out_is_one_the_setting_accepts() -> None:
    refused = []
    for function in TEMPLATE.functions.values():
        for name, value in function.environment.items():
            for literal in _literals(value):
                try:
                    Config.from_env({name: literal})
                except ConfigError as error:
                    refused.append(f"{function.name}: {error}")
    assert refused == []


@pytest.mark.parametrize("given", ["nothing", "everything"])
def test_each_attribute_gets_a_value_of_its_type(given: str) -> None:
    env = {setting.name: _example(setting) for setting in SETTINGS} if given == "everything" else {}
    config = Config.from_env(env)
    hints = get_type_hints(Config)
    for field in fields(Config):
        assert _has_type(getattr(config, field.name), hints[field.name]), field.name


def _mentions() -> dict[str, list[str]]:
    """Each LIGHTBOX_* name in the project, with the places (path:line) that name it."""
    places = defaultdict(list)
    for path in _searched_files():
        relative = path.relative_to(REPO).as_posix()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for name in VARIABLE.findall(line):
                places[name].append(f"{relative}:{number}")
    return dict(places)


def _searched_files() -> Iterator[Path]:
    for top in SEARCHED:
        root = REPO / top
        candidates = root.rglob("*") if root.is_dir() else [root]
        for path in candidates:
            parts = path.relative_to(REPO).parts
            if any(part.startswith(".") or part in ("__pycache__", "node_modules")
                   or part.endswith(".egg-info") for part in parts):
                continue
            if path.is_file() and path.suffix in TEXT_SUFFIXES:
                yield path


def _literals(value: Any) -> Iterator[str]:
    """The values a template entry may take that are known before deploying: literals, the
    branches of an !If, a parameter's default. A resource's name or URL is not."""
    if isinstance(value, str | int | float):
        yield str(value)
    elif isinstance(value, dict) and "Fn::If" in value:
        _, if_true, if_false = value["Fn::If"]
        yield from _literals(if_true)
        yield from _literals(if_false)
    elif isinstance(value, dict) and value.get("Ref") in TEMPLATE.parameters:
        yield str(TEMPLATE.parameters[value["Ref"]].get("Default", ""))


# Settings whose empty default is their only value in a form of its own.
_EXAMPLES = {"LIGHTBOX_PAUSABLE_FUNCTIONS": "arn:aws:lambda:eu-west-1:123456789012:function:f"}


def _example(setting: Setting) -> str:
    """A value the setting accepts, set rather than empty."""
    if setting.name in _EXAMPLES:
        return _EXAMPLES[setting.name]
    kind = setting.kind
    if isinstance(kind, Whole):
        return str(kind.default)
    if isinstance(kind, Flag):
        return "true"
    return kind.default or "https://example.com/"


def _has_type(value: Any, hint: Any) -> bool:
    if isinstance(hint, types.UnionType):
        return any(_has_type(value, part) for part in get_args(hint))
    if get_origin(hint) is tuple:
        return isinstance(value, tuple) and all(_has_type(item, get_args(hint)[0])
                                                for item in value)
    return type(value) is hint  # a bool is not an int here
