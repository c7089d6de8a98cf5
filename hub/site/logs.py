"""The hub's log set-up: journald's priority prefixes under systemd, timestamps elsewhere.

Under systemd the hub's stderr is a journal stream (`JOURNAL_STREAM` names its device and
inode). journald stamps every line itself and reads a leading `<N>` as the line's syslog
priority, so there a line is `<N>logger: message`: one timestamp, and warnings and errors that
`journalctl -p warning` finds. Anywhere else (a terminal, a test, a file) a line carries its
own time and level name.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import TextIO

#: syslog priorities (sd-daemon(3)) of the logging levels; a level in between takes the
#: priority of the next lower level listed.
PRIORITIES = (
    (logging.CRITICAL, 2),
    (logging.ERROR, 3),
    (logging.WARNING, 4),
    (logging.INFO, 6),
    (logging.DEBUG, 7),
)
PLAIN_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
JOURNAL_FORMAT = "%(name)s: %(message)s"


def priority(levelno: int) -> int:
    for level, prio in PRIORITIES:
        if levelno >= level:
            return prio
    return 7


class JournalFormatter(logging.Formatter):
    """`<N>` before every line of a record (a traceback's lines too: journald reads each
    line as an entry of its own)."""

    def __init__(self) -> None:
        super().__init__(JOURNAL_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())


def is_journal(stream: TextIO, env: Mapping[str, str]) -> bool:
    """True when `stream` is the journal stream systemd gave the process: `JOURNAL_STREAM` is
    `DEVICE:INODE` of it (a child whose stderr was redirected inherits the variable, so it
    is compared, as sd_journal_stream_fd(3) advises)."""
    value = env.get("JOURNAL_STREAM", "")
    dev, _, ino = value.partition(":")
    if not (dev.isdigit() and ino.isdigit()):
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))


def setup_logging(
    level: int, env: Mapping[str, str] | None = None, stream: TextIO | None = None
) -> logging.Handler:
    """One handler on the root logger, writing to `stream` (default stderr)."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    journal = is_journal(stream, os.environ if env is None else env)
    handler.setFormatter(JournalFormatter() if journal else logging.Formatter(PLAIN_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
