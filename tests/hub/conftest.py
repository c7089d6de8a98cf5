"""Builders shared by the hub's tests: a `HubService` over a real SQLite store."""

from __future__ import annotations

from pathlib import Path

from hub.project import load_project, to_schema
from hub.service import HubService
from hub.store import Store
from tests.conftest import PROJECTS


def make_service(
    store: Store, media: Path, project: str = "geweld.toml", schema_version: int = 1
) -> HubService:
    """A `HubService` over `store` for the project file `projects/<project>`, its media in
    `media`. The caller closes the store (or uses the `service` fixture, which does)."""
    config, _ = load_project(PROJECTS / project)
    return HubService(store, media, config, to_schema(config, schema_version))
