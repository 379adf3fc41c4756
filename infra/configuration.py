"""``python -m infra.configuration``: rewrites the tables of ``docs/CONFIGURATION.md`` from
what they describe, the functions' settings (``lightbox.config.SETTINGS``) and the other
``LIGHTBOX_*`` variables (``OTHER_VARIABLES`` below). A unit test fails while the file
differs from what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "CONFIGURATION.md"
# The functions' code is not installed: a command reads it where it lies.
sys.path.insert(0, str(REPO / "functions"))

from infra import marked  # noqa: E402
from lightbox.config import GIB, MIB, SETTINGS, Setting, Whole  # noqa: E402

# The LIGHTBOX_* variables that are not settings of the functions: which program reads each
# (the client, the scripts, the local runtime, the tests), and what for.
OTHER_VARIABLES = {
    "LIGHTBOX_URL": ("the `lightbox` command",
                     "the API's base URL (`./dev.sh env` exports the local stack's)"),
    "LIGHTBOX_API_KEY": ("the `lightbox` command",
                         "its API key (`./dev.sh env` exports the local stack's)"),
    "LIGHTBOX_CONFIG": ("the `lightbox` command",
                        "its config file, else `~/.config/lightbox/config.toml`"),
    "LIGHTBOX_LOCAL_STACK": ("the `lightbox` command",
                             "the data directory of the local stack to talk to, else the "
                             "nearest `.data/` (`./dev.sh cli` sets it)"),
    "LIGHTBOX_PYTHON": ("`dev.sh`", "the Python (3.11 or newer) to make `.venv` with"),
    "LIGHTBOX_DATABASE_URL": ("`deploy.sh`",
                              "with `CreateDatabase=false`, the database the functions use "
                              "(passed as `ExternalDatabaseUrl`, which becomes their "
                              "`DATABASE_URL`)"),
    "LIGHTBOX_ARTIFACT_BUCKET": ("`deploy.sh`",
                                 "the bucket for the packaged code, else "
                                 "`lightbox-artifacts-ACCOUNT-REGION`"),
    "LIGHTBOX_LAMBDA_PYTHON": ("LocalStack's host executor (`infra/local/localstack_plugin`)",
                               "the Python 3.12 the deployed functions run under, else "
                               "`python3.12` on the path (the local runtime sets its own)"),
    "LIGHTBOX_MINIO_URL": ("the local runtime (`--s3 minio`)",
                           "where MinIO listens, else `http://127.0.0.1:9000`"),
    "LIGHTBOX_PORT": ("`docker-compose.yml`",
                      "the local API's port, which MinIO's webhook calls, else `8000`"),
    "LIGHTBOX_BROWSER": ("the browser tests", "a Chromium executable, else `chromium` on the path"),
    "LIGHTBOX_E2E_BACKENDS": ("the end-to-end tests",
                              "the S3 backends to run against, else `embedded,localstack`"),
    "LIGHTBOX_CRASH_ROUNDS": ("the crash tests", "rounds of kills, else 3"),
    "LIGHTBOX_CRASH_SEED": ("the crash tests", "the seed a run printed, to replay it"),
    "LIGHTBOX_SCREENSHOTS": ("the browser and CLI tests",
                             "where they also write their screenshots (`docs/screenshots`)"),
}


def rewritten(text: str) -> str:
    """``text`` with each marked table replaced by the one the declarations give."""
    for section, table in (("settings", settings_table()), ("others", others_table())):
        start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
        before, _, after = marked.split(text, start, end, section)
        text = f"{before}{start}\n{table}\n{end}{after}"
    return text


def settings_table() -> str:
    rows = ["| variable | default | used by | meaning |", "|---|---|---|---|"]
    rows += [f"| `{setting.name}` | {_default(setting)} | {setting.used_by} | "
             f"{setting.doc}{_bounds(setting)} |" for setting in SETTINGS]
    return "\n".join(rows)


def others_table() -> str:
    rows = ["| variable | read by | meaning |", "|---|---|---|"]
    rows += [f"| `{name}` | {reader} | {doc} |"
             for name, (reader, doc) in OTHER_VARIABLES.items()]
    return "\n".join(rows)


def _default(setting: Setting) -> str:
    kind = setting.kind
    if kind.default is None or kind.default == "":
        shown = "—"
    elif isinstance(kind.default, bool):
        shown = f"`{str(kind.default).lower()}`"
    else:
        shown = f"`{kind.default}`"
    notes = [setting.default_note]
    if isinstance(kind, Whole) and _amount(setting, kind.default) != str(kind.default):
        notes.insert(0, _amount(setting, kind.default))
    note = ", ".join(part for part in notes if part)
    return f"{shown} ({note})" if note else shown


def _bounds(setting: Setting) -> str:
    kind = setting.kind
    if not isinstance(kind, Whole) or kind.maximum is None:
        return ""
    return f" ({_amount(setting, kind.minimum)}–{_amount(setting, kind.maximum)})"


def _amount(setting: Setting, value: int) -> str:
    """A number as the table shows it: a byte count in whole TiB, GiB or MiB where it is."""
    if setting.name.endswith("_BYTES"):
        for unit, size in (("TiB", 1024 * GIB), ("GiB", GIB), ("MiB", MIB)):
            if value >= size and value % size == 0:
                return f"{value // size} {unit}"
    return str(value)


if __name__ == "__main__":
    DOC.write_text(rewritten(DOC.read_text()))
