"""The real `straat-kiosk` in tmux writes its warnings to `DATA/logs/kiosk.log` (Textual owns
the terminal, so a warning on stderr would be lost)."""

from __future__ import annotations

import logging
import os
import shlex
from pathlib import Path

from kiosk.logs import BACKUPS, MAX_BYTES, log_path, setup_logging
from tests.conftest import needs
from tests.kiosk.test_tmux_kiosk import STRAAT_KIOSK, Tmux, wait_until


def test_the_log_rolls_over(tmp_path: Path) -> None:
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        path = setup_logging(tmp_path)
        for _ in range((BACKUPS + 2) * MAX_BYTES // 1000):
            logging.getLogger("kiosk.test").warning("x" * 950)
        files = sorted(p.name for p in path.parent.iterdir())
        assert files == ["kiosk.log", *(f"kiosk.log.{n}" for n in range(1, BACKUPS + 1))]
        assert all(p.stat().st_size <= MAX_BYTES for p in path.parent.iterdir())
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
            h.close()
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])


@needs("tmux")
def test_a_warning_of_a_real_kiosk_run_is_in_its_log(tmp_path: Path) -> None:
    data = tmp_path / "kiosk"
    # a hub address without its key: the kiosk warns that it cannot talk to it
    command = (
        f"exec env -u COLUMNS -u LINES {shlex.quote(str(STRAAT_KIOSK))} --data {data} "
        "--kiosk-id log-kiosk --hub tcp://127.0.0.1:9 --lang en"
    )
    pane = Tmux(f"straat-kiosk-log-{os.getpid()}")
    pane.start(command)
    try:
        wait_until(lambda: "Log in" in pane.text(), 30, "the login screen", pane)
        log = log_path(data)
        wait_until(
            lambda: log.exists() and "no_hub_key" in log.read_text(), 30, "the warning", pane
        )
        line = next(x for x in log.read_text().splitlines() if "no_hub_key" in x)
        assert " kiosk.engine WARNING hub problem no_hub_key: " in line
        pane.keys("C-q")
        wait_until(lambda: "Log in" not in pane.text(), 15, "the kiosk to stop", pane)
    finally:
        pane.kill()
