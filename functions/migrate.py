"""migrate: applies the numbered SQL migrations shipped in the package; deploy.sh invokes it."""

from pathlib import Path
from typing import Any

from lightbox.adapters.migrations import apply_migrations
from lightbox.wiring import Container

# deploy.sh copies migrations/ next to the handlers in the Lambda package.
PACKAGED_MIGRATIONS = Path(__file__).with_name("migrations")

container = Container()


def handler(event: dict[str, Any], context: Any) -> dict[str, list[str]]:
    config = container.config
    directory = Path(config.migrations_dir) if config.migrations_dir else PACKAGED_MIGRATIONS
    return {"applied": apply_migrations(config.require("database_url"), directory,
                                        password=container.database_password)}
