"""What the hub reads to take a `Resume` (`Store.open_session`) on a session log grown over
months: N login/logout events of 100 kiosks and 200 operators, the resumed login, then 500
more events of others. The session log is not indexed by kiosk or operator; the read looks up
`kiosk_logins` first and then reads the log newest first, stopping at the login.

    python -m benchmarks.resume_read [--events 200000] [--db sqlite|pg]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine
from hub.service import RESUME_WITHIN_SECONDS
from hub.store import Store

from .load_pg import database


def fill(store: Store, n: int) -> None:
    rng = random.Random(1)
    with store.transaction():
        for _ in range(n):
            op, kiosk = f"op{rng.randrange(200)}", f"k{rng.randrange(100)}"
            store.log_session(op, kiosk, rng.choice(["login", "logout"]))
    store.note_kiosk_login("k1", "op1")
    store.log_session("op1", "k1", "login")
    with store.transaction():
        for _ in range(500):
            store.log_session(f"op{rng.randrange(2, 200)}", f"k{rng.randrange(2, 100)}", "login")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--db", default="sqlite", help="sqlite, pg or a postgresql:// URL")
    args = p.parse_args()
    print(machine())
    data = Path(tempfile.mkdtemp(prefix="resume-read-"))
    with database(args.db, data) as (db_url, db_text):
        print(db_text)
        store = Store(db_url or data / "hub.db")
        try:
            fill(store, args.events)
            since = time.time() - RESUME_WITHIN_SECONDS
            times = []
            for _ in range(200):
                began = time.perf_counter()
                assert store.open_session("k1", "op1", since) is not None
                times.append(time.perf_counter() - began)
            began = time.perf_counter()
            assert store.open_session("k-never", "op-never", since) is None
            never = time.perf_counter() - began
        finally:
            store.close()
    print(
        f"{args.events} session events: open_session median "
        f"{statistics.median(times) * 1000:.3f} ms (200 reads); a kiosk and operator that "
        f"never met: {never * 1000:.3f} ms"
    )


if __name__ == "__main__":
    main()
