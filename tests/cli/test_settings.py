"""Which Lightbox and which key the CLI uses: each looked up on its own, first found wins."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from lightbox_cli.settings import Settings, SettingsError, read_config, resolve, write_config


def stack_dir(parent: Path, url: str = "http://127.0.0.1:8000", key: str = "lbk_stack") -> Path:
    data = parent / ".data"
    data.mkdir(parents=True)
    (data / "stack.json").write_text(json.dumps(
        {"pid": 1, "exports": {"LIGHTBOX_URL": url, "LIGHTBOX_API_KEY": key}}))
    return data


def config_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_flags_win_over_environment_config_and_local_stack(tmp_path: Path) -> None:
    stack_dir(tmp_path)
    config = config_file(tmp_path / "config.toml", 'url = "https://config"\napi_key = "lbk_config"\n')
    env = {"LIGHTBOX_URL": "https://env", "LIGHTBOX_API_KEY": "lbk_env"}

    assert resolve("https://flag/", "lbk_flag", config, env, tmp_path) == Settings("https://flag", "lbk_flag")
    assert resolve(None, None, config, env, tmp_path) == Settings("https://env", "lbk_env")
    assert resolve(None, None, config, {}, tmp_path) == Settings("https://config", "lbk_config")
    assert resolve(None, None, tmp_path / "none.toml", {}, tmp_path) == Settings("http://127.0.0.1:8000", "lbk_stack")


def test_url_and_key_are_each_taken_from_the_first_place_that_has_them(tmp_path: Path) -> None:
    config = config_file(tmp_path / "config.toml", 'api_key = "lbk_config"\n')

    assert resolve(None, None, config, {"LIGHTBOX_URL": "https://env"}, tmp_path) == Settings("https://env", "lbk_config")


def test_the_config_file_comes_from_the_environment_or_the_xdg_folder(tmp_path: Path) -> None:
    named = config_file(tmp_path / "named.toml", 'url = "https://named"\napi_key = "lbk_1"\n')
    xdg = tmp_path / "xdg" / "lightbox"
    xdg.mkdir(parents=True)
    config_file(xdg / "config.toml", 'url = "https://xdg"\napi_key = "lbk_2"\n')

    assert resolve(None, None, None, {"LIGHTBOX_CONFIG": str(named)}, tmp_path).url == "https://named"
    assert resolve(None, None, None, {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}, tmp_path).url == "https://xdg"


def test_the_local_stack_is_found_above_the_current_folder_or_where_dev_sh_says(tmp_path: Path) -> None:
    stack_dir(tmp_path / "repo", key="lbk_found")
    deep = tmp_path / "repo" / "photos" / "2024"
    deep.mkdir(parents=True)
    elsewhere = stack_dir(tmp_path / "other", key="lbk_named")
    none = {"XDG_CONFIG_HOME": str(tmp_path / "empty")}

    assert resolve(None, None, None, none, deep).api_key == "lbk_found"
    assert resolve(None, None, None, {**none, "LIGHTBOX_LOCAL_STACK": str(elsewhere)}, deep).api_key == "lbk_named"


def test_nothing_found_says_what_to_do(tmp_path: Path) -> None:
    none = {"XDG_CONFIG_HOME": str(tmp_path)}
    with pytest.raises(SettingsError, match="--url"):
        resolve(None, None, None, none, tmp_path)
    with pytest.raises(SettingsError, match="no API key for https://x"):
        resolve("https://x", None, None, none, tmp_path)


@pytest.mark.parametrize(("text", "mode", "message"), [
    ('url = "https://x"\ntoken = "t"\n', 0o600, "unknown setting token"),
    ("url = 3\n", 0o600, "url must be a non-empty string"),
    ("url = \n", 0o600, "cannot read the config file"),
    ('api_key = "lbk_1"\n', 0o644, "others may read it: chmod 600"),
])
def test_a_bad_config_file_is_refused_with_the_reason(tmp_path: Path, text: str, mode: int,
                                                      message: str) -> None:
    path = config_file(tmp_path / "config.toml", text, mode)
    with pytest.raises(SettingsError, match=message):
        read_config(path)


def test_login_writes_a_private_config_file_that_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    settings = Settings("https://api.example/dev", 'lbk_with"quote')

    write_config(path, settings)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_config(path) == {"url": settings.url, "api_key": settings.api_key}
