"""hub/store/audit.py: the end-of-run invariants, on a real hub database and on a copy of it
with double labels and extra holders injected."""

from __future__ import annotations

import random
import shutil
import sqlite3
import time
from collections import Counter
from pathlib import Path

from hub.store import Store
from hub.store.audit import audit
from tests.hub.store_contract.helpers import add_clips, add_operators, label


def run_site(path: Path) -> tuple[list[str], list[str], str]:
    """A hub database after some real work: (clips wanting 1, clips wanting 2, a clip
    wanting 3 with one label)."""
    store = Store(path)
    ones = add_clips(store, 6, want=1)
    twos = add_clips(store, 4, want=2, start=100)
    add_operators(store, 4)
    for op in ("op1", "op2", "op3"):
        lease, _exp, got = store.assign(op, "k", 4, 600.0)
        store.add_labels("k", [label(op, c["sha256"], lease=lease) for c in got[:3]])
    _lease, expires, _got = store.assign("op4", "k", 1, 1.0)  # leases that will expire
    store.expire_leases(now=expires + 1)
    (spare,) = add_clips(store, 1, want=3, start=200)  # one label, two slots free
    store.add_labels("k", [label("op1", spare)])
    store.close()
    return ones, twos, spare


def inject(path: Path, sql: str, *params: object) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(sql, params)
    conn.close()


def double_label(path: Path, uuid: str, operator: str, clip: str) -> None:
    inject(
        path,
        'INSERT INTO labels (uuid, operator, clip, kiosk, schema_version, "values", '
        "segments, telemetry, created_at, received_at) VALUES (?, ?, ?, 'k', 1, '[\"a\"]', "
        "'[]', '{}', 1.0, 2.0)",
        uuid,
        operator,
        clip,
    )


def test_clean_run_and_injected_faults(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    ones, _twos, spare = run_site(db)
    clean = audit(db)
    assert clean["labels"] == 10 and clean["expired_reassignments"] == 1
    assert {
        k: clean[k] for k in ("over_assigned", "repeated_for_operator", "counter_mismatch")
    } == dict.fromkeys(("over_assigned", "repeated_for_operator", "counter_mismatch"), 0)

    bad = tmp_path / "copy.db"
    shutil.copy(db, bad)
    conn = sqlite3.connect(bad)
    holder = dict(conn.execute("SELECT clip, operator FROM labels"))
    expired = {c for (c,) in conn.execute("SELECT clip FROM assignments WHERE state='expired'")}
    conn.close()
    labelled_ones = [c for c in ones if c in holder and c not in expired]
    # a second operator's label on a clip wanting one: over-assigned, its counter now wrong
    double_label(bad, "x1", "op4", labelled_ones[0])
    # the same operator twice on one clip wanting three: repeated only
    double_label(bad, "x2", "op1", spare)
    inject(bad, "UPDATE clips SET n_labels = n_labels + 1 WHERE sha256 = ?", spare)
    # a double label on a clip reassigned after an expired lease: not counted as over
    (gone,) = expired
    double_label(bad, "x3", "op9", gone)
    double_label(bad, "x4", "op8", gone)
    inject(bad, "UPDATE clips SET n_labels = n_labels + 2 WHERE sha256 = ?", gone)
    # a live open assignment on a labelled clip wanting one: over-assigned
    inject(
        bad,
        "INSERT INTO leases VALUES ('live', 'op7', 'k', 0, ?)",
        time.time() + 600,
    )
    inject(
        bad,
        "INSERT INTO assignments VALUES ('op7', ?, 'live', 0, 'open')",
        labelled_ones[1],
    )
    found = audit(bad)
    assert found["over_assigned"] == 2
    assert found["repeated_for_operator"] == 1
    assert found["counter_mismatch"] == 1
    assert found["labels"] == 14
    assert audit(db) == clean  # the original is untouched


def brute(path: Path, now: float) -> int:
    conn = sqlite3.connect(path)
    want = dict(conn.execute("SELECT sha256, want FROM clips"))
    held: Counter[str] = Counter(
        c for (c,) in conn.execute("SELECT clip FROM labels WHERE retracted = 0")
    )
    live = {i for (i,) in conn.execute("SELECT id FROM leases WHERE expires_at > ?", (now,))}
    for clip, lease in conn.execute("SELECT clip, lease_id FROM assignments WHERE state = 'open'"):
        if lease in live:
            held[clip] += 1
    expired = {c for (c,) in conn.execute("SELECT clip FROM assignments WHERE state='expired'")}
    conn.close()
    return sum(1 for c, n in held.items() if c in want and n > want[c] and c not in expired)


def test_agrees_with_a_count_by_hand(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    run_site(db)
    rng = random.Random(7)
    conn = sqlite3.connect(db)
    clips = [c for (c,) in conn.execute("SELECT sha256 FROM clips")]
    now = time.time()
    with conn:
        for i in range(40):
            conn.execute(
                'INSERT INTO labels (uuid, operator, clip, kiosk, schema_version, "values", '
                "segments, telemetry, created_at, received_at, retracted) VALUES "
                "(?, ?, ?, 'k', 1, '[]', '[]', '{}', 1, 2, ?)",
                (f"r{i}", f"op{rng.randrange(9)}", rng.choice(clips), int(rng.random() < 0.2)),
            )
        for i in range(20):
            conn.execute(
                "INSERT INTO leases VALUES (?, 'o', 'k', 0, ?)",
                (f"L{i}", now + rng.choice((-50, 50))),
            )
            conn.execute(
                "INSERT OR IGNORE INTO assignments VALUES (?, ?, ?, 0, ?)",
                (f"q{i}", rng.choice(clips), f"L{i}", rng.choice(("open", "open", "expired"))),
            )
    conn.close()
    got = audit(db, now=now)["over_assigned"]
    assert got == brute(db, now) and got > 0
