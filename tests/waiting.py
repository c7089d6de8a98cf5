"""Waiting for the thing itself, with a deadline: the one helper the tests use instead of
fixed sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    what: str,
    context: Callable[[], str] | None = None,
    poll: float = 0.05,
) -> T:
    """The first true value of `predicate()`; an AssertionError naming `what` (and whatever
    `context()` tells, e.g. a terminal's text or a process's log) if none comes within
    `timeout` seconds."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            told = f"\n{context()}" if context else ""
            raise AssertionError(f"{what} not reached in {timeout} s{told}")
        time.sleep(poll)
