"""Keep the terminal out of reach of libraries that close file descriptor 0.

mpv's DRM video output (reached when no GL context works) closes fd 0 on its way out; a
Textual app reading its keys from fd 0 then dies with `EBADF`. `shield_stdin()` moves the
terminal to a private descriptor (a `dup`, not inherited by child processes), points
`sys.stdin`/`sys.__stdin__` at it (Textual's driver reads from `sys.__stdin__.fileno()`),
and puts `/dev/null` on fd 0. Whatever closes fd 0 from then on closes `/dev/null`.
"""

from __future__ import annotations

import io
import os
import sys


def shield_stdin() -> int | None:
    """Move stdin to a private descriptor; its number, or None if there is no stdin."""
    try:
        os.fstat(0)
    except OSError:
        return None
    private = os.dup(0)  # non-inheritable (PEP 446)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    stream = io.TextIOWrapper(
        io.FileIO(private, "r", closefd=True),
        encoding=sys.stdin.encoding if sys.stdin else "utf-8",
        errors="surrogateescape",
        line_buffering=True,
    )
    sys.stdin = sys.__stdin__ = stream
    return private
