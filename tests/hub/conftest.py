"""Builders shared by the hub's tests: a hub `Store` that is closed after the test, and a
`HubService` over one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.project import ProjectConfig, load_project, to_schema
from hub.service import HubService
from hub.store import Store
from tests.conftest import PROJECTS

_opened: list[Store] = []


def close_after_test(store: Store) -> Store:
    """`store`, closed by `_close_stores` when the running test ends. For builders and
    function-scoped fixtures; a module-scoped fixture closes its own."""
    _opened.append(store)
    return store


def open_store(path: Path | str, **kwargs: bool) -> Store:
    """`Store(path)`, closed when the running test ends."""
    return close_after_test(Store(path, **kwargs))


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().close()


def make_service(
    store: Store,
    media: Path,
    project: str | ProjectConfig = "geweld.toml",
    schema_version: int = 1,
) -> HubService:
    """A `HubService` over `store` for `project` (a file in `projects/` or a loaded config),
    its media in `media`."""
    config = load_project(PROJECTS / project)[0] if isinstance(project, str) else project
    return HubService(store, media, config, to_schema(config, schema_version))
