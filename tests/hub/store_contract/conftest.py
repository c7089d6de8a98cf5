"""`store_factory`: the backends the contract runs against (one file or database per test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hub.store import Store
from hub.store.interface import HubStore


class StoreFactory:
    """Opens handles on one test's database: `open()` again gives a second handle on the
    same data (another connection, as another hub process would have)."""

    def __init__(self, name: str, opener: Callable[[], HubStore]) -> None:
        self.name = name
        self._opener = opener
        self._opened: list[HubStore] = []

    def open(self, *, closed_by_test: bool = False) -> HubStore:
        """A new handle, closed at the test's end (by the test itself if `closed_by_test`:
        a SQLite handle can only be used and closed in the thread that opened it)."""
        store = self._opener()
        if not closed_by_test:
            self._opened.append(store)
        return store

    def close_all(self) -> None:
        for store in self._opened:
            store.close()


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], HubStore]:
    path = tmp_path / "hub.db"
    return lambda: Store(path)


def _postgresql(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], HubStore]:
    url = request.getfixturevalue("pg_url")  # a fresh database on the session's server
    return lambda: Store(url)


#: backend name -> maker of an opener, given the test's request and tmp_path.
BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Callable[[], HubStore]]] = {
    "sqlite": _sqlite,
    "postgresql": _postgresql,
}


@pytest.fixture(params=sorted(BACKENDS))
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    factory = StoreFactory(request.param, BACKENDS[request.param](request, tmp_path))
    try:
        yield factory
    finally:
        factory.close_all()


@pytest.fixture
def store(store_factory: StoreFactory) -> HubStore:
    return store_factory.open()
