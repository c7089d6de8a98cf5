"""Clip files on the kiosk: content-addressed, written as .part, verified before playable,
LRU-evicted above a size limit but never while an operator still has to label them."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from .store import KioskStore

_SHA256 = re.compile(r"[0-9a-f]{64}")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


class ClipCache:
    def __init__(self, root: Path, store: KioskStore, limit_bytes: int = 2 * 1024**3) -> None:
        self.root = root
        self._root = os.fspath(root)
        self.store = store
        self.limit = limit_bytes
        root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def _name(sha256: str) -> str:
        """The clip's file name; a ValueError for anything that is not a sha256 hex digest."""
        if not _SHA256.fullmatch(sha256):
            raise ValueError("not a sha256")
        return f"{sha256}.mp4"

    def path(self, sha256: str) -> Path:
        return self.root / self._name(sha256)

    def has(self, sha256: str) -> bool:
        """The clip's file is here (not verified). Cheap: the label key's top-up checks every
        queued clip (200 clips: 0.3 ms, against 1.6 ms through `path().exists()`)."""
        return os.path.exists(os.path.join(self._root, self._name(sha256)))

    def part(self, sha256: str) -> Path:
        return self.path(sha256).with_suffix(".part")

    def begin(self, sha256: str, size: int) -> PartWriter:
        """A writer for this clip's .part file, resuming after the bytes already there."""
        return PartWriter(self, sha256, size)

    def ready(self, sha256: str, verify: bool = True) -> bool:
        """True if the clip is here and its bytes are right; a corrupt file is removed."""
        path = self.path(sha256)
        if not path.exists():
            return False
        if verify and sha256_file(path) != sha256:
            path.unlink(missing_ok=True)
            self.store.cache_forget(sha256)
            return False
        return True

    def evict(self) -> int:
        keep = self.store.needed_shas()
        total = self.store.cache_bytes()
        removed = 0
        for entry in self.store.cache_entries():
            if total <= self.limit:
                break
            if entry["sha256"] in keep:
                continue
            self.path(entry["sha256"]).unlink(missing_ok=True)
            self.store.cache_forget(entry["sha256"])
            total -= entry["size"]
            removed += 1
        return removed


class PartWriter:
    """Receives a clip's chunks in order, hashing as they come; verified before playable.

    Plain file descriptor I/O: a chunk (bytes or a memoryview of a ZeroMQ frame) is hashed
    and written with `os.pwrite` straight from its buffer, never copied on the way."""

    def __init__(self, cache: ClipCache, sha256: str, size: int) -> None:
        self.cache = cache
        self.sha256 = sha256
        self.size = size
        self.path = cache.part(sha256)
        self.hash = hashlib.sha256()
        self.fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        # resume: the bytes already here count only as far as they are whole and in order
        have = min(os.fstat(self.fd).st_size, size)
        offset = 0
        while offset < have:
            block = os.pread(self.fd, min(1 << 20, have - offset), offset)
            if not block:
                break
            self.hash.update(block)
            offset += len(block)
        self.offset = offset
        os.ftruncate(self.fd, self.offset)

    def write(self, offset: int, data: bytes | memoryview) -> bool:
        """Append a chunk; a chunk that is not the next one is refused (False)."""
        n = len(data)
        if self.fd is None or offset != self.offset or self.offset + n > self.size:
            return False
        self.hash.update(data)
        view = memoryview(data)
        done = 0
        while done < n:
            done += os.pwrite(self.fd, view[done:], offset + done)
        self.offset += n
        return True

    @property
    def complete(self) -> bool:
        return self.offset >= self.size

    def _close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def finish(self) -> bool:
        """Verify and make playable; a mismatch deletes the .part so it is fetched again.

        No fsync: a clip's bytes are verified again before it is shown (`ClipCache.ready`),
        so a file a power cut left torn is fetched again, never played."""
        self._close()
        if self.offset != self.size or self.hash.hexdigest() != self.sha256:
            self.path.unlink(missing_ok=True)
            return False
        self.path.replace(self.cache.path(self.sha256))
        self._record()
        self.cache.evict()
        return True

    def _record(self) -> None:
        """The clip's cache row, committed without a sync of its own (the kiosk store syncs
        every commit, for labels): it becomes durable with the store's next synced commit,
        and a row lost to a power cut first costs only LRU accounting of one file, never a
        clip shown unverified. Saves one fsync per clip on the transfer path."""
        store = self.cache.store
        conn = store.conn
        if conn.in_transaction:
            store.cache_touch(self.sha256, self.size, complete=True)
            return
        (level,) = conn.execute("PRAGMA synchronous").fetchone()
        conn.execute("PRAGMA synchronous=NORMAL")
        try:
            store.cache_touch(self.sha256, self.size, complete=True)
        finally:
            conn.execute(f"PRAGMA synchronous={int(level)}")

    def abandon(self) -> None:
        """Keep what arrived (for a later resume) and close the file."""
        self._close()
