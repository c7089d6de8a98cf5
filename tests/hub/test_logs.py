"""The hub's log lines: `<N>` syslog priorities and no timestamp on a journal stream
(`JOURNAL_STREAM` naming stderr), time and level name anywhere else."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.site.logs import priority, setup_logging
from tests.conftest import ROOT, make_hub

STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def stream_id(path: Path) -> str:
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}"


@pytest.fixture
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


def test_priorities() -> None:
    assert [priority(n) for n in (50, 40, 30, 20, 10, 25, 5)] == [2, 3, 4, 6, 7, 6, 7]


def test_journal_lines_carry_a_priority_and_no_time(tmp_path: Path, restore_root_logger) -> None:
    path = tmp_path / "stderr"
    with path.open("w") as stream:
        setup_logging(logging.DEBUG, {"JOURNAL_STREAM": stream_id(path)}, stream)
        log = logging.getLogger("hub.test")
        log.warning("disk low")
        log.info("ready")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("housekeeping")
    lines = path.read_text().splitlines()
    assert lines[:3] == ["<4>hub.test: disk low", "<6>hub.test: ready", "<3>hub.test: housekeeping"]
    assert len(lines) > 3 and all(line.startswith("<3>") for line in lines[3:])  # the traceback
    assert not any(STAMP.search(line) for line in lines)


def test_elsewhere_lines_carry_time_and_level(tmp_path: Path, restore_root_logger) -> None:
    path, other = tmp_path / "stderr", tmp_path / "other"
    other.write_text("")
    with path.open("w") as stream:  # JOURNAL_STREAM inherited, but it names another file
        setup_logging(logging.INFO, {"JOURNAL_STREAM": stream_id(other)}, stream)
        logging.getLogger("hub.test").warning("disk low")
    (line,) = path.read_text().splitlines()
    assert STAMP.match(line) and line.endswith("hub.test WARNING disk low")


def test_a_real_hub_on_a_journal_stream(tmp_path: Path) -> None:
    """`straat-hub -v serve` with stderr on a file that JOURNAL_STREAM names, as systemd does."""
    hub = make_hub(tmp_path)
    err = tmp_path / "stderr"
    with err.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "-v", "serve", "--project", str(hub.project)]
            + ["--data", str(hub.data), "--bind", "tcp://127.0.0.1:0", "--web-host", "127.0.0.1"]
            + ["--web-port", "0", "--no-zeroconf"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=ROOT,
            env={**os.environ, "JOURNAL_STREAM": stream_id(err), "PYTHONUNBUFFERED": "1"},
        )
        try:
            assert proc.stdout is not None
            end = time.monotonic() + 60
            while time.monotonic() < end:
                line = proc.stdout.readline()
                assert line, "the hub exited: " + err.read_text()
                if line.rstrip().endswith(": ready"):
                    break
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    lines = err.read_text().splitlines()
    assert lines, "no log lines"
    assert all(re.match(r"<[0-7]>\S+: ", line) for line in lines), lines
    assert not any(STAMP.search(line) for line in lines)
