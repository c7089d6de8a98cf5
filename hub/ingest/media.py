"""Content-addressed clip files: ``root/ab/abcdef….mp4`` named by their sha256."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20
TEMP_DIR = ".tmp"  # scratch space of ingest runs, inside the root, never a clip path


def sha256_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """Return (hex sha256, size) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class MediaStore:
    """Files stored once by content. Creating the object touches no disk."""

    suffix = ".mp4"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"MediaStore({str(self.root)!r})"

    def path_for(self, sha256: str) -> Path:
        """The path of a clip. Only a 64-character lowercase hex string is accepted."""
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise ValueError("a clip id is a sha256: 64 lowercase hexadecimal characters")
        return self.root / sha256[:2] / f"{sha256}{self.suffix}"

    def has(self, sha256: str) -> bool:
        """True if the clip is stored; False for anything that is not a valid id."""
        try:
            return self.path_for(sha256).is_file()
        except ValueError:
            return False

    def open(self, sha256: str) -> BinaryIO:
        """Open a stored clip for reading (FileNotFoundError if absent)."""
        return open(self.path_for(sha256), "rb")

    def size(self, sha256: str) -> int:
        return self.path_for(sha256).stat().st_size

    def ids(self) -> Iterator[str]:
        """Every stored clip id (for consistency checks and clean-up of unreferenced files)."""
        for path in sorted(self.root.glob(f"??/*{self.suffix}")):
            sha256 = path.name.removesuffix(self.suffix)
            if _SHA256.fullmatch(sha256) and path.parent.name == sha256[:2]:
                yield sha256

    def remove(self, sha256: str) -> bool:
        """Delete a stored clip; True if it was there."""
        try:
            self.path_for(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def put_file(self, path: str | os.PathLike[str]) -> tuple[str, int, Path]:
        """Store a copy of ``path``; return (sha256, size, stored path).

        Atomic (temp file in the target folder, fsync, rename) and idempotent: a
        clip that is already stored with the right size is not written again.
        """
        sha256, size = sha256_file(path)
        dest = self.path_for(sha256)
        try:
            if dest.stat().st_size == size:
                return sha256, size, dest
        except FileNotFoundError:
            pass
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.parent / f".{sha256}.{os.getpid()}.{time.monotonic_ns()}.tmp"
        try:
            digest = hashlib.sha256()
            with open(path, "rb") as src, open(tmp, "xb") as out:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != sha256:
                raise OSError(f"{path} changed while it was being stored")
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(dest.parent)
        return sha256, size, dest

    def temp_dir(self) -> Path:
        """Scratch folder for work in progress on the same file system (created)."""
        path = self.root / TEMP_DIR
        path.mkdir(parents=True, exist_ok=True)
        return path

    def remove_temp_dir(self) -> None:
        """Remove the scratch folder if nothing is left in it."""
        try:
            (self.root / TEMP_DIR).rmdir()
        except OSError:
            pass

    def clean_temp(self, max_age: float = 3600.0) -> int:
        """Remove leftovers of killed runs older than ``max_age`` seconds; return how many."""
        if not self.root.is_dir():
            return 0
        cutoff = time.time() - max_age
        removed = 0
        leftovers = list(self.root.glob("??/.*.tmp"))
        scratch = self.root / TEMP_DIR
        if scratch.is_dir():
            leftovers += list(scratch.iterdir())
        for path in leftovers:
            try:
                if path.lstat().st_mtime > cutoff:
                    continue
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                removed += 1
            except OSError:
                continue
        return removed
