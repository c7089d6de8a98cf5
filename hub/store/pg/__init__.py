"""The hub's store in PostgreSQL's dialect: schema and the hot statements, with psycopg 3.

NOT WIRED INTO THE HUB YET. Nothing in the hub imports this package; `hub.store.Store`
(SQLite) is the only store the hub runs on. This is the groundwork a PostgreSQL backend is
built on, each part tested against a real throwaway server (tests/hub/store_pg/):

- `schema`: the tables and indexes of `hub.store.schema` at the SQLite migration number
  `SQLITE_VERSION`, translated, with a version row so that a newer database is refused.
- `work.assign_work`: handing out work clips with `SELECT … FOR UPDATE SKIP LOCKED`, so that
  several hub processes assign at once without giving a clip to more holders than it wants.
- `connect.open_pool`: a checked psycopg-pool pool; a wrong URL or a server that is down is a
  clear `DatabaseUnavailable` (password left out).
- `feed.labels_since`: new labels in commit order (by transaction id up to the oldest one
  still running), for incremental consensus with several writers.
- `labels.insert_labels`: a label batch as one `INSERT … ON CONFLICT (uuid) DO NOTHING
  RETURNING uuid`, with the clip counters and assignments moved as `Store.add_labels` does.

Every function takes a `psycopg.Connection` and runs in a transaction block of its own
(`conn.transaction()`): a savepoint when the caller has a transaction open, else a
transaction committed when the function returns. The package imports psycopg, which only
the optional `postgres` extra installs.
"""
