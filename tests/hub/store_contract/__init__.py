"""The store contract: what every backend of the hub's store must do, whatever its engine.

Written against the methods of `hub.store.interface.HubStore` only (no SQL, no `conn`), so
that the same tests run on every backend. `store_factory` (conftest.py) is parametrised
over the backends: today only SQLite (a real file in tmp); a PostgreSQL backend is one more
entry in `BACKENDS` there, with a database of its own per test on the session's throwaway
server (`pg_url`, tests/pg.py).

What is checked, by file:
- test_interface.py: `Store` has every method of the interface with the same parameters.
- test_media.py: sources and clips idempotent by sha256, gold on and off.
- test_labels.py: a label batch idempotent by uuid (across batches and within one), unknown
  clips refused alone, counters, retraction, reading labels after a position.
- test_work.py: assignment never over-assigns (sequential and from two handles in threads),
  never repeats a clip for an operator (also after its lease expired), leases expire and
  free their slots, gold mixed in and alone while training.
- test_operators.py: operators, roster, PIN lock-out with its doubling back-off.
- test_kiosks.py: pairing codes used once, paired keys, kiosk state.
- test_transactions.py: nested failure rolls back alone, outer failure leaves nothing,
  committed state seen by a handle opened later (`close` may be called twice).
"""
