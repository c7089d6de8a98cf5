"""Hub database backup and restore (`straat-hub backup DEST`, `straat-hub restore SRC`).

`backup` uses SQLite's online backup API: one step copies every page under one read
transaction, so the copy is a consistent snapshot of the committed state even while the hub
writes (in WAL mode readers never block the writer, and the writer does not restart the
copy). The copy is made in a temporary file next to the destination, turned into a single
self-contained file (rollback journal, no -wal), checked with `PRAGMA integrity_check`,
fsynced and only then renamed into place, readable by its owner only (it holds PIN hashes and
people's work records).

`restore` refuses a database a running hub holds open. Detection: a connection in WAL mode
keeps a shared lock on the database's -shm file for as long as it is open, so switching the
database out of WAL (`PRAGMA journal_mode=DELETE`) fails with "database is locked" while any
other process has it open — even an idle hub, which `BEGIN EXCLUSIVE` alone would not notice
in WAL mode. The switch also folds a leftover -wal into the old file, so the `.bak` kept is
complete. The backup is copied and checked before anything is moved; the old database (and
any -wal/-shm/-journal beside it) is renamed to `*.bak`, never deleted.

Only the database: clips under `media/` are content-addressed and never change, so copy that
folder with any file tool (rsync) as well.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
from pathlib import Path

#: Tables a hub database has; a file without them is not restored over a hub's database.
HUB_TABLES = {"meta", "clips", "labels", "operators"}
SIDECARS = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """A backup or restore that cannot be done safely; nothing was changed."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    for suffix in ("", *SIDECARS):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


def _copy(src: Path, tmp: Path) -> None:
    """Snapshot `src` into a new single-file database `tmp` (SQLite backup API, one step)."""
    source = sqlite3.connect(src, timeout=30.0)
    try:
        source.execute("PRAGMA query_only=1")
        target = sqlite3.connect(tmp)
        try:
            source.backup(target, pages=-1)  # all pages in one step: one consistent snapshot
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            target.close()
    finally:
        source.close()


def check_integrity(path: Path) -> None:
    """Raise `BackupError` unless `path` is a hub database that passes `integrity_check`."""
    try:
        conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{path}: not a readable SQLite database ({e})") from None
    if rows != ["ok"]:
        shown = "; ".join(rows[:5]) + (" …" if len(rows) > 5 else "")
        raise BackupError(f"{path}: integrity check failed: {shown}")
    missing = HUB_TABLES - tables
    if missing:
        raise BackupError(f"{path}: not a hub database (no {', '.join(sorted(missing))})")


def backup(db_path: Path, dest: Path | str) -> Path:
    """Copy the hub database at `db_path` to `dest` while the hub may be serving. `dest` is a
    file, or a folder (existing, or given with a trailing slash) for a dated file. Returns the
    path written."""
    folder = str(dest).endswith(("/", os.sep))
    db_path, dest = Path(db_path), Path(dest)
    if not db_path.is_file():
        raise BackupError(f"{db_path}: no database there")
    if folder or dest.is_dir():
        dest = dest / f"hub-{time.strftime('%Y%m%d-%H%M%S')}.db"
    if dest.exists() and dest.resolve() == db_path.resolve():
        raise BackupError(f"{dest}: that is the database itself")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        try:
            _copy(db_path, tmp)
        except sqlite3.DatabaseError as e:
            raise BackupError(f"{db_path}: cannot be copied ({e})") from None
        check_integrity(tmp)
        os.chmod(tmp, 0o600)
        _fsync(tmp)
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    finally:
        _unlink_quietly(tmp)
    return dest


#: Names `backup` gives the files it dates in a folder; they sort oldest first.
DATED = re.compile(r"hub-\d{8}-\d{6}\.db")


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` dated backups (`hub-YYYYmmdd-HHMMSS.db`) in `folder`;
    other files are left alone. Returns the files deleted."""
    if keep < 1:
        raise BackupError("keep at least one backup")
    dated = sorted(p for p in Path(folder).iterdir() if DATED.fullmatch(p.name) and p.is_file())
    old = dated[: max(0, len(dated) - keep)]
    for path in old:
        path.unlink()
    return old


def in_use(db_path: Path) -> str | None:
    """Why `db_path` looks held by another process (a running hub), or None.

    As a side effect a database that is free is switched to rollback-journal mode, which folds
    its -wal into the main file (the hub switches back to WAL when it opens it).
    """
    try:
        conn = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    except sqlite3.DatabaseError as e:
        return f"cannot be opened ({e})"
    try:
        mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        if str(mode).lower() != "delete":
            return f"still in {mode} mode: another process has it open"
        conn.execute("BEGIN EXCLUSIVE")  # anyone reading or writing right now
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as e:
        return f"in use by another process ({e})"
    except sqlite3.DatabaseError:
        return None  # a damaged file is nobody's: it may be replaced
    finally:
        conn.close()
    return None


def _free_name(path: Path) -> Path:
    if not any(Path(f"{path}{s}").exists() for s in ("", *SIDECARS)):
        return path
    return path.with_name(f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")


def restore(src: Path, db_path: Path, *, force: bool = False) -> Path | None:
    """Replace the hub database at `db_path` with the backup `src`.

    Refuses while another process (a running hub) holds `db_path`, unless `force`. Checks the
    backup before touching anything. Keeps the old database as `<db_path>.bak` (or a dated
    name if that exists) and returns that path; None when there was no old database.
    """
    src, db_path = Path(src), Path(db_path)
    if not src.is_file():
        raise BackupError(f"{src}: no backup there")
    if db_path.exists() and src.resolve() == db_path.resolve():
        raise BackupError(f"{src}: that is the database itself")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f".{db_path.name}.restore.{os.getpid()}.tmp")
    kept: Path | None = None
    with open(src, "rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{src}: not an SQLite database")
    try:
        try:
            _copy(src, tmp)  # through SQLite: also takes in a -wal beside the backup
        except sqlite3.DatabaseError as e:
            raise BackupError(f"{src}: cannot be copied ({e})") from None
        check_integrity(tmp)  # before anything of the hub's is touched
        if db_path.exists():
            reason = in_use(db_path)
            if reason is not None and not force:
                raise BackupError(
                    f"{db_path}: {reason}. Stop the hub first (systemctl stop straat-hub), "
                    "or use --force if nothing is running."
                )
            st = db_path.stat()
            with contextlib.suppress(PermissionError):  # keep the hub's owner (DynamicUser)
                os.chown(tmp, st.st_uid, st.st_gid)
            os.chmod(tmp, st.st_mode & 0o777)
        _fsync(tmp)
        if db_path.exists() or any(Path(f"{db_path}{s}").exists() for s in SIDECARS):
            kept = _free_name(db_path.with_name(db_path.name + ".bak"))
            # sidecars first: a -wal left beside the new file would be replayed into it
            for suffix in SIDECARS:
                old = Path(f"{db_path}{suffix}")
                if old.exists():
                    os.replace(old, f"{kept}{suffix}")
            if db_path.exists():
                os.replace(db_path, kept)
        os.replace(tmp, db_path)
        _fsync_dir(db_path.parent)
    finally:
        _unlink_quietly(tmp)
    return kept
