"""The TileGrantKey port over PostgreSQL: the key migration 0018 made, read once per process."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from lightbox.adapters.postgres import Database
from lightbox.errors import ConfigError

_SECRET = "SELECT secret FROM tile_grant_key"


class PostgresTileGrantKey:
    """``database`` is asked for when the key is first needed: a page without tiled assets, or
    a function that never signs a grant, connects for nothing."""

    def __init__(self, database: Callable[[], Database]) -> None:
        self._database = database

    def secret(self) -> bytes:
        return self._secret

    @cached_property
    def _secret(self) -> bytes:
        row = self._database().fetch_one(_SECRET, {})
        if row is None:
            raise ConfigError("the database has no tile grant key: apply the migrations")
        return bytes(row["secret"])
