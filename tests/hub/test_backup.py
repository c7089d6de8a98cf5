"""Backup and restore of the hub database (hub/store/backup.py).

The end-to-end test takes backups from a real hub process while real headless kiosks send a
burst of labels, and restores one: it passes `PRAGMA integrity_check`, is transactionally
consistent (every clip's vote counter matches its labels), and holds every label the kiosks
had acknowledged before the backup started. The rest are fast checks of the refusals.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.store import Store
from hub.store.backup import BackupError, backup, check_integrity, in_use, restore
from tests.e2e.test_faults_loopback import kiosk, start_hub
from tests.faults import check, kiosk_labels


def labels_in(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {r[0] for r in conn.execute("SELECT uuid FROM labels")}
    finally:
        conn.close()


def integrity(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def make_db(path: Path, rows: int = 0) -> Path:
    """A hub database (schema through the Store) with `rows` filler rows in `meta`."""
    store = Store(path)
    with store.transaction():
        store.conn.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?)",
            [(f"filler-{i:05d}", "x" * 40) for i in range(rows)],
        )
    store.close()
    return path


def corrupt(path: Path) -> Path:
    """Scribble over the last pages (b-tree cells): the file opens, integrity_check fails."""
    data = bytearray(path.read_bytes())
    pages = len(data) // 4096
    for page in (pages - 3, pages - 2):
        data[page * 4096 + 2000 : page * 4096 + 2040] = b"Z" * 40
    path.write_bytes(bytes(data))
    return path


# ---- end to end --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_backup_during_a_label_burst_restores_every_acknowledged_label(tmp_path: Path) -> None:
    hub = start_hub(tmp_path, clips=1000, size=2000)  # more than the burst gets through
    kiosks = [
        kiosk(tmp_path, hub, f"k{i}", f"op{i}", "--interval", "0.002", "--prefetch", "20").start()
        for i in (1, 2)
    ]
    try:
        for k in kiosks:
            k.wait_event("labelled", 20, timeout=60)
        backups: list[tuple[set[str], Path]] = []
        for n in range(3):
            acked = set().union(*(kiosk_labels(k.data)[1] for k in kiosks))
            made_before = sum(k.count("labelled") for k in kiosks)
            backups.append((acked, backup(hub.db, tmp_path / "backups" / f"b{n}.db")))
            deadline = time.monotonic() + 5
            while sum(k.count("labelled") for k in kiosks) <= made_before:
                assert time.monotonic() < deadline, "burst stopped"
                time.sleep(0.05)

        # the hub holds its database: restore refuses, and leaves it alone
        with pytest.raises(BackupError, match="in use|another process"):
            restore(backups[-1][1], hub.db)
        assert hub.proc is not None and hub.proc.poll() is None

        for n, (acked, path) in enumerate(backups):
            assert acked, "no label was acknowledged before the backup"
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            target = tmp_path / f"restored{n}" / "hub.db"
            assert restore(path, target) is None  # nothing was there to keep
            assert integrity(target) == ["ok"]
            missing = acked - labels_in(target)
            assert not missing, f"backup {n}: {len(missing)} acknowledged labels missing"
            verdict = check(target, [])  # clip counters agree with the labels: one snapshot
            assert verdict.duplicated == 0 and verdict.repeated_for_operator == 0, verdict
            print(f"backup {n}: {len(acked)} acknowledged before, {verdict.labels} in the copy")

        # stop everything, restore over the hub's own database, start the hub on it
        for k in kiosks:
            k.kill(signal.SIGTERM)
        hub.kill(signal.SIGTERM)
        at_hub = labels_in(hub.db)
        kept = restore(backups[0][1], hub.db)
        assert kept == hub.db.with_name("hub.db.bak")
        assert labels_in(kept) == at_hub  # the old database, -wal folded in, kept whole
        assert labels_in(hub.db) >= backups[0][0]
        hub.start()
        assert hub.proc.poll() is None
    finally:
        for k in kiosks:
            k.kill()
        hub.kill()


# ---- refusals and details -----------------------------------------------------------------------


def test_backup_into_a_folder_names_the_file_and_keeps_it_private(tmp_path: Path) -> None:
    db = make_db(tmp_path / "hub.db", rows=100)
    out = backup(db, tmp_path)
    assert out.parent == tmp_path and out.name.startswith("hub-") and out.suffix == ".db"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert not Path(f"{out}-wal").exists()  # one self-contained file
    check_integrity(out)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    new_folder = backup(db, f"{tmp_path}/nightly/")  # a trailing slash: a folder to make
    assert new_folder.parent == tmp_path / "nightly" and new_folder.name.startswith("hub-")


def test_backup_of_a_corrupt_database_fails_and_writes_nothing(tmp_path: Path) -> None:
    db = corrupt(make_db(tmp_path / "hub.db", rows=3000))
    with pytest.raises(BackupError, match="integrity|malformed|readable"):
        backup(db, tmp_path / "out" / "b.db")
    assert list((tmp_path / "out").iterdir()) == []


def test_backup_refuses_to_overwrite_the_database_itself(tmp_path: Path) -> None:
    db = make_db(tmp_path / "hub.db")
    with pytest.raises(BackupError, match="database itself"):
        backup(db, db)


def test_restore_refuses_files_that_are_not_good_hub_databases(tmp_path: Path) -> None:
    db = make_db(tmp_path / "hub.db", rows=10)
    before = db.read_bytes()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t(x)")
    conn.close()
    bad = corrupt(make_db(tmp_path / "bad.db", rows=3000))
    for src, why in ((junk, "not an SQLite"), (other, "not a hub database"), (bad, "integrity")):
        with pytest.raises(BackupError, match=why):
            restore(src, db)
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.db", "hub.db", "junk.db", "other.db"]


def test_restore_keeps_the_old_database_and_never_overwrites_a_kept_one(tmp_path: Path) -> None:
    db = make_db(tmp_path / "hub.db", rows=1)
    b1 = backup(make_db(tmp_path / "one.db", rows=5), tmp_path / "one-backup.db")
    kept1 = restore(b1, db)
    assert kept1 == tmp_path / "hub.db.bak"
    kept2 = restore(b1, db)
    assert kept2 is not None and kept2 != kept1 and kept1.exists() and kept2.exists()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM meta WHERE key LIKE 'filler-%'").fetchone()[0] == 5
    conn.close()


def _holder(db: Path) -> subprocess.Popen[str]:
    """Another process holding `db` open the way an idle hub does (WAL, no transaction)."""
    code = (
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({str(db)!r}); c.execute('PRAGMA journal_mode=WAL')\n"
        'c.execute(\'INSERT INTO meta VALUES ("held", "1")\'); c.commit()\n'
        "print('open', flush=True); sys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
    return proc


def test_restore_detects_an_idle_process_holding_the_database(tmp_path: Path) -> None:
    db = make_db(tmp_path / "hub.db")
    good = backup(make_db(tmp_path / "src.db", rows=3), tmp_path / "good.db")
    holder = _holder(db)
    try:
        assert in_use(db) is not None
        with pytest.raises(BackupError, match="Stop the hub"):
            restore(good, db)
        assert Path(f"{db}-wal").exists()  # untouched
        # --force: the held files (and their -wal/-shm) go aside together
        kept = restore(good, db, force=True)
        assert kept is not None
        assert not Path(f"{db}-wal").exists() and not Path(f"{db}-shm").exists()
        assert integrity(db) == ["ok"]
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    assert in_use(db) is None
    # what the holder had committed is in the kept file (its -wal moved with it)
    conn = sqlite3.connect(kept)
    assert conn.execute("SELECT value FROM meta WHERE key = 'held'").fetchone() == ("1",)
    conn.close()


def test_restored_file_keeps_the_old_owner_and_mode(tmp_path: Path) -> None:
    db = make_db(tmp_path / "hub.db")
    os.chmod(db, 0o640)
    restore(backup(make_db(tmp_path / "src.db"), tmp_path / "b.db"), db)
    assert stat.S_IMODE(db.stat().st_mode) == 0o640
