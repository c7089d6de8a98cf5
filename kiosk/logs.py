"""The kiosk's log: a rotating file in its data folder.

While the Textual app runs it owns the terminal and swallows stderr, so a handler on stderr
would lose every warning; the file keeps them for staff (`logs/kiosk.log`, a few MiB at
most: old lines roll over into `kiosk.log.1` … and are dropped after `BACKUPS` files).
"""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

#: Bytes per log file before it rolls over, and rolled-over files kept.
MAX_BYTES = 1024 * 1024
BACKUPS = 3
FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def log_path(data: Path) -> Path:
    return data / "logs" / "kiosk.log"


def setup_logging(data: Path, level: int = logging.INFO) -> Path:
    """Send the kiosk's log records (`level` and above) to `log_path(data)`; returns it."""
    path = log_path(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return path
