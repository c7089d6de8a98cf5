"""The PostgreSQL side of the hub's store: what differs from SQLite, with psycopg 3.

`hub.store.Store` is one implementation for both engines; its statements are shared SQL and
run on PostgreSQL through `hub.store.dialect.PgConnection`. This package holds only what
PostgreSQL does its own way, each part tested against a real throwaway server
(tests/hub/store_pg/, tests/hub/store_contract/):

- `schema`: the tables and indexes of `hub.store.schema` translated (`DDL` at SQLite
  migration `BASE_VERSION`, later migrations in `STEPS`), a version row per step, a newer
  database refused unchanged.
- `work.PICK`: handing out work in one statement with `SELECT … FOR UPDATE SKIP LOCKED`, the
  lease and the assignments written with it, so that several hub processes assign at once
  without giving a clip to more holders than it wants.
- `labels`: a label batch as one statement (`STORE`: the known clips, one `INSERT … ON
  CONFLICT (uuid) DO NOTHING RETURNING`, the assignment rows locked), the counters moved
  from arrays in one round trip.
- `kiosks`: the kiosk reports of a transaction in one UPDATE, sent with its COMMIT.
- `feed.labels_since`: new labels in commit order (by transaction id up to the oldest one
  still running), for incremental consensus with several writers.
- `connect`: a clear `DatabaseUnavailable` (password left out) for a wrong connection
  string or a server that is down, and the settings that find a lost link in seconds.
- `pools`: the store's connections from psycopg-pool, one pool per database and session
  settings in a process: reconnecting (with backoff), discarding a broken connection and a
  connection's lifetime are the pool's; `Store` handles hold one connection each.

The package imports psycopg, which only the optional `postgres` extra installs.
"""
