"""migrate: applies the numbered SQL migrations shipped in the package; deploy.sh invokes it."""

from pathlib import Path
from typing import Any

from lightbox.adapters.migrations import apply_migrations
from lightbox.config import Config

# deploy.sh copies migrations/ next to the handlers in the Lambda package.
PACKAGED_MIGRATIONS = Path(__file__).with_name("migrations")


def handler(event: dict[str, Any], context: Any) -> dict[str, list[str]]:
    config = Config.from_env()
    directory = Path(config.migrations_dir) if config.migrations_dir else PACKAGED_MIGRATIONS
    return {"applied": apply_migrations(config.require("database_url"), directory)}
