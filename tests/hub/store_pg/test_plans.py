"""Plans on PostgreSQL: the label path's statements run on their generic plans, made once per
connection (left to itself the server plans them again at every call), and the rest of the
transaction, the pick of a request for work included, on the server's default mode."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.store import Store
from tests.hub.store_contract.helpers import V, add_clips, add_operators, label


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    store = Store(pg_url)
    yield store
    store.close()


def plans(store: Store, starts: str) -> tuple[int, int]:
    """(generic, custom) plans of this session's prepared statements that begin `starts`."""
    row = store.conn.execute(
        "SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0) "
        "FROM pg_prepared_statements WHERE ltrim(statement, E' \\n') LIKE ?",
        (starts + "%",),
    ).fetchone()
    return int(row[0]), int(row[1])


def test_label_statements_on_generic_plans_the_pick_on_its_own(store: Store) -> None:
    clips = add_clips(store, 40, want=3)
    operators = add_operators(store, 3)
    for i in range(12):  # psycopg prepares a statement at its sixth use
        with store.transaction():
            store.add_labels("k1", [label(operators[i % 3], clips[i], V)])
            mode = store.conn.execute("SHOW plan_cache_mode").fetchone()[0]
            assert mode == "auto"  # the rest of the transaction: the default again
            store.assign(operators[i % 3], "k1", 1, 600.0)
    generic, custom = plans(store, "WITH known AS")  # the label batch statement
    assert generic > 0 and custom == 0, (generic, custom)
    generic, custom = plans(store, "UPDATE clips c SET n_labels")  # its counters
    assert generic > 0 and custom == 0, (generic, custom)
    # the pick is left to the server: its first five runs as a prepared statement are
    # custom plans (then the server compares); forced generic, none would be
    generic, custom = plans(store, "WITH free AS")
    assert custom >= 5, (generic, custom)
