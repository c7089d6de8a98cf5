"""A child process that ends with its parent (Linux's parent-death signal): the consensus
fit's process with its hub process, the demo's hub with the demo. Without it a parent killed
outright (SIGKILL, a closed terminal) leaves the child running: a fit nobody reads, or a hub
still advertising itself on zeroconf and holding its ports."""

from __future__ import annotations

import contextlib
import ctypes
import signal

#: Linux's prctl options: the signal sent when the parent dies; the calling thread's name.
_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15

try:  # loaded here, not in a child between fork and exec (the loader takes locks)
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
except OSError:
    _LIBC = None


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """This process gets `sig` when its parent dies (the parent's thread that started it,
    strictly: start children from a thread that lives as long as the parent). A no-op where
    prctl is missing or refused."""
    if _LIBC is not None:
        with contextlib.suppress(OSError, AttributeError):
            _LIBC.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def name_process(name: bytes) -> None:
    """This process's name in `ps -o comm` and `top` (15 bytes at most)."""
    if _LIBC is not None:
        with contextlib.suppress(OSError, AttributeError):
            _LIBC.prctl(_PR_SET_NAME, name[:15], 0, 0, 0)
