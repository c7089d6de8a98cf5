"""Shared fixtures: sample clips made with ffmpeg, a real hub process on loopback."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.pg import PgServer

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = ROOT / "projects"
PIN = "2468"
#: Debian's Chromium for page tests (Playwright drives it; no browser download), and the flags
#: that keep it off every network but loopback (no background requests, updates or sync).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: A stored PIN as protocol.pins writes it: scheme, parameters, then salt and digest in hex, so
#: nothing in it can hold a PIN in clear (a short PIN may still turn up by chance in the hex).
PIN_HASH = re.compile(r"scrypt\$\d+\$\d+\$\d+\$[0-9a-f]{32}\$[0-9a-f]{64}")


def pytest_configure(config: pytest.Config) -> None:
    # fast scrypt in tests: the hub and kiosks verify what the tests hash
    import protocol.pins

    protocol.pins.SCRYPT_N = 2**10


@pytest.fixture(autouse=True)
def _umask_restored() -> Iterator[None]:
    """`straat-hub`'s main sets a private umask for its process; a test that runs it in-process
    (click's CliRunner) must not hand that umask to the tests after it."""
    kept = os.umask(0o022)
    os.umask(kept)
    yield
    os.umask(kept)


def needs(*programs: str) -> pytest.MarkDecorator:
    """Mark a test that runs these programs. One that is missing fails the test with a clear
    message (`make test` installs them all), never skips it: a skip would hide it."""
    return pytest.mark.needs(*programs)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs"):
        missing = [p for p in mark.args if shutil.which(p) is None]
        if missing:
            pytest.fail(f"{', '.join(missing)} not installed: run `make test`, which installs it")


@pytest.fixture(scope="session")
def sample_clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is not installed: run `make test`, which installs it")
    from scripts.samples import make_sample_clips

    out = tmp_path_factory.mktemp("clips")
    make_sample_clips(out, count=6, seconds=2.0)
    return out


@dataclass
class HubProc:
    data: Path
    project: Path
    proc: subprocess.Popen[str] | None = None
    port: int = 0
    web_port: int = 0
    hub_id: str = ""
    log: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    prefix: list[str] = field(default_factory=list)  # e.g. ip netns exec NS
    host: str = "127.0.0.1"
    pair_port: int = 0
    public_key: str = ""
    tree: Path = ROOT  # the source tree it runs from (a benchmark's "before" tree: another)
    db_url: str | None = None  # a PostgreSQL database (`--db`); None: SQLite in `data`

    @property
    def endpoint(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def kiosk_args(self) -> list[str]:
        """Options that point a kiosk at this hub without zeroconf (`--hub-key=KEY`: a Z85 key
        may start with "-", which argparse would take for an option)."""
        return [
            "--hub",
            self.endpoint,
            f"--hub-key={self.public_key}",
            "--hub-pair",
            f"tcp://{self.host}:{self.pair_port}",
        ]

    @property
    def db(self) -> Path:
        return self.data / "hub.db"

    @property
    def location(self) -> str:
        """The hub's database: the PostgreSQL URL, else the SQLite file."""
        return self.db_url or str(self.db)

    def start(self, clips: Path | None = None, timeout: float = 60.0) -> HubProc:
        cmd = [
            *self.prefix,
            sys.executable,
            "-m",
            "hub.cli",
            "serve",
            "--project",
            str(self.project),
            "--data",
            str(self.data),
            "--bind",
            f"tcp://{self.host}:{self.port}",
            "--web-host",
            self.host,
            "--web-port",
            str(self.web_port),
            "--interface",
            self.host,
            *self.extra,
        ]
        if self.db_url:
            cmd += ["--db", self.db_url]
        if self.pair_port:  # a restart keeps both ports (the pairing port was random)
            cmd += ["--pair-bind", f"tcp://{self.host}:{self.pair_port}"]
        if clips is not None:
            cmd += ["--clips", str(clips)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=self.tree,
            env=env,
        )
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("hub exited:\n" + "".join(self.log))
            self.log.append(line)
            if m := re.search(r"hub (\S+): ZeroMQ on port (\d+)", line):
                self.hub_id, self.port = m.group(1), int(m.group(2))
            if m := re.search(r"pairing on port (\d+)", line):
                self.pair_port = int(m.group(1))
            if m := re.search(r"public key (\S+) fingerprint", line):
                self.public_key = m.group(1)
            if m := re.search(r"web on http://[^:]+:(\d+)/", line):
                self.web_port = int(m.group(1))
            if line.rstrip().endswith(": ready"):
                import threading

                threading.Thread(target=self._drain, daemon=True).start()
                return self
        raise RuntimeError("hub did not become ready:\n" + "".join(self.log))

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)

    def store(self):  # noqa: ANN201
        from hub.store import Store

        return Store(self.location)


def make_hub(
    tmp_path: Path, project: str = "geweld.toml", operators: int = 2, db_url: str | None = None
) -> HubProc:
    """A hub's data folder with `operators` operators, its database in SQLite (default) or
    the PostgreSQL database `db_url`."""
    from hub.store import Store
    from protocol.pins import hash_pin

    data = tmp_path / "hub"
    data.mkdir()
    store = Store(db_url or data / "hub.db")
    for i in range(1, operators + 1):
        store.add_operator(f"op{i}", f"Operator {i}", hash_pin(PIN))
    store.close()
    return HubProc(data=data, project=PROJECTS / project, db_url=db_url)


@pytest.fixture
def hub(tmp_path: Path, sample_clips: Path) -> Iterator[HubProc]:
    proc = make_hub(tmp_path).start(clips=sample_clips)
    yield proc
    proc.kill(signal.SIGTERM)


@pytest.fixture
def pair_code(hub: HubProc) -> str:
    store = hub.store()
    try:
        return store.create_pair_code()
    finally:
        store.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One throwaway PostgreSQL server for the whole test session (tests/pg.py): initdb,
    start and stop take seconds, a database per test takes a fraction of one."""
    from tests.pg import PgSetupError, running_server

    try:
        with running_server() as server:
            yield server
    except PgSetupError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL of a new, empty database of its own on the session's server."""
    return pg_server.create_database()
