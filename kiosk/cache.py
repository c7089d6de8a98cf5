"""Clip files on the kiosk: content-addressed, written as .part, verified before playable,
LRU-evicted above a size limit but never while an operator still has to label them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .store import KioskStore


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


class ClipCache:
    def __init__(self, root: Path, store: KioskStore, limit_bytes: int = 2 * 1024**3) -> None:
        self.root = root
        self.store = store
        self.limit = limit_bytes
        root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256")
        return self.root / f"{sha256}.mp4"

    def part(self, sha256: str) -> Path:
        return self.path(sha256).with_suffix(".part")

    def resume_offset(self, sha256: str) -> int:
        part = self.part(sha256)
        return part.stat().st_size if part.exists() else 0

    def write_chunk(self, sha256: str, offset: int, data: bytes) -> None:
        part = self.part(sha256)
        mode = "r+b" if part.exists() else "wb"
        with part.open(mode) as f:
            f.seek(offset)
            f.write(data)

    def truncate_part(self, sha256: str, size: int) -> None:
        part = self.part(sha256)
        if part.exists():
            os.truncate(part, size)

    def finish(self, sha256: str, size: int) -> bool:
        """Verify the .part file; on success it becomes playable. A bad one is deleted."""
        part = self.part(sha256)
        if not part.exists() or part.stat().st_size != size or sha256_file(part) != sha256:
            part.unlink(missing_ok=True)
            return False
        with part.open("rb") as f:
            os.fsync(f.fileno())
        part.replace(self.path(sha256))
        self.store.cache_touch(sha256, size, complete=True)
        self.evict()
        return True

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
