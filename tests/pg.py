"""A throwaway PostgreSQL server for tests: Debian's binaries, a temporary folder, a Unix socket.

`PgServer.create()` runs `initdb` into a fresh folder under /tmp (as the `postgres` user when
the tests run as root: initdb and the server refuse root), starts `postgres` listening only on
a Unix socket in that folder (`listen_addresses=''`, so it never meets a server the machine
runs nor another helper's), and `stop()` ends it and deletes the folder. `restart()` stops it
the hard way (`pg_ctl stop -m immediate`: no shutdown checkpoint, crash recovery at the next
start) for fault tests.

The folder is under /tmp and not pytest's tmp_path because pytest makes that one 0700 for
root, which the `postgres` user cannot walk into; a socket path must also stay under 108
bytes. `fsync=off` by default: the tests crash the server process, never the machine, and
the operating system keeps what was written (`restart` loses nothing committed).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

#: The role the server is made with (trust authentication on the socket only).
USER = "straat"
#: Seconds `pg_ctl` waits for start and stop.
WAIT_SECONDS = 60


class PgSetupError(RuntimeError):
    """No PostgreSQL binaries, or the server did not start (the message says which)."""


def find_bindir() -> Path:
    """The folder of `initdb`, `pg_ctl` and `postgres`: `$PG_BINDIR`, `pg_config --bindir`,
    or the newest `/usr/lib/postgresql/*/bin` (Debian keeps them off PATH)."""
    candidates: list[str] = []
    if env := os.environ.get("PG_BINDIR"):
        candidates.append(env)
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(out.stdout.strip())
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    versions.sort(key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0)
    candidates += reversed(versions)
    for folder in candidates:
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    raise PgSetupError(
        "PostgreSQL's initdb and pg_ctl were not found (looked in $PG_BINDIR, pg_config "
        "--bindir, /usr/lib/postgresql/*/bin): run `make setup`, which installs Debian's "
        "`postgresql` package"
    )


@dataclass
class PgServer:
    bindir: Path
    root: Path  # holds data/, the socket and the log
    settings: dict[str, str] = field(default_factory=dict)
    port: int = 5432  # names the socket file; the TCP port too when `listen` is set
    #: A TCP address to listen on besides the socket (None: the socket only). With `netns`,
    #: an address inside that network namespace (tests/netns.py), so that hub processes on
    #: other test hosts reach the server over a link a test can cut; the tests themselves
    #: keep using the Unix socket, which no network namespace hides.
    listen: str | None = None
    netns: str | None = None
    _owner: str | None = None  # user the server runs as (None: the current one)

    @classmethod
    def create(
        cls,
        *,
        fsync: bool = False,
        listen: str | None = None,
        netns: str | None = None,
        **settings: str,
    ) -> PgServer:
        """initdb a new cluster in a fresh folder and start it (listening on TCP at `listen`,
        inside network namespace `netns`, when given; password-less for `listen`'s /16)."""
        bindir = find_bindir()
        root = Path(tempfile.mkdtemp(prefix="straat-pg-", dir="/tmp"))
        owner = None
        if os.geteuid() == 0:
            owner = "postgres"
            try:
                entry = pwd.getpwnam(owner)
            except KeyError:
                shutil.rmtree(root)
                raise PgSetupError(
                    "running as root needs the `postgres` user (Debian's postgresql package "
                    "makes it) to own the server: run `make setup`"
                ) from None
            os.chown(root, entry.pw_uid, entry.pw_gid)
        server = cls(
            bindir=bindir,
            root=root,
            settings={"fsync": "on" if fsync else "off", **settings},
            listen=listen,
            netns=netns,
            _owner=owner,
        )
        try:
            server._run(
                "initdb",
                "-D",
                str(server.datadir),
                "-A",
                "trust",
                "-U",
                USER,
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            )
            if listen is not None:
                net = ".".join(listen.split(".")[:2]) + ".0.0/16"
                with open(server.datadir / "pg_hba.conf", "a") as hba:
                    hba.write(f"host all all {net} trust\n")
            server.start()
        except BaseException:
            server.stop()
            raise
        return server

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        return self.root / "server.log"

    def url(self, dbname: str = "postgres") -> str:
        """A libpq connection URL (psycopg.connect takes it) over the socket in `root`."""
        return (
            f"postgresql://{USER}@/{dbname}?host={quote(str(self.root), safe='')}&port={self.port}"
        )

    def tcp_url(self, dbname: str = "postgres") -> str:
        """The URL over TCP at `listen` (for processes in the test hosts' namespaces)."""
        if self.listen is None:
            raise ValueError("this server listens on its socket only")
        return f"postgresql://{USER}@{self.listen}:{self.port}/{dbname}"

    def _cmd(self, tool: str, *args: str) -> list[str]:
        cmd = [str(self.bindir / tool), *args]
        if self._owner:
            cmd = ["runuser", "-u", self._owner, "--", *cmd]
        return ["ip", "netns", "exec", self.netns, *cmd] if self.netns else cmd

    def _run(self, tool: str, *args: str) -> str:
        out = subprocess.run(
            self._cmd(tool, *args),
            capture_output=True,
            text=True,
            cwd=self.root,
            timeout=WAIT_SECONDS + 30,
        )
        if out.returncode != 0:
            log = self.logfile.read_text(errors="replace")[-3000:] if self.logfile.exists() else ""
            raise PgSetupError(
                f"{tool} {' '.join(args)} failed ({out.returncode}):\n{out.stdout}{out.stderr}{log}"
            )
        return out.stdout

    def is_running(self) -> bool:
        if not self.datadir.exists():
            return False
        out = subprocess.run(
            self._cmd("pg_ctl", "status", "-D", str(self.datadir)),
            capture_output=True,
            cwd=self.root,
        )
        return out.returncode == 0

    def start(self) -> None:
        addresses = self.listen or "''"
        options = [f"-k {self.root}", f"-c listen_addresses={addresses}", f"-p {self.port}"]
        options += [f"-c {key}={value}" for key, value in self.settings.items()]
        self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.datadir),
            "-w",
            "-t",
            str(WAIT_SECONDS),
            "-l",
            str(self.logfile),
            "-o",
            " ".join(options),
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (if it runs) and delete its folder."""
        try:
            if self.is_running():
                self._run(
                    "pg_ctl",
                    "stop",
                    "-D",
                    str(self.datadir),
                    "-m",
                    mode,
                    "-w",
                    "-t",
                    str(WAIT_SECONDS),
                )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def halt(self, mode: str = "immediate") -> None:
        """Stop the server and keep its folder (`start` brings it back, with its data)."""
        self._run(
            "pg_ctl", "stop", "-D", str(self.datadir), "-m", mode, "-w", "-t", str(WAIT_SECONDS)
        )

    def restart(self, mode: str = "immediate") -> None:
        """Stop the server (`immediate`: like a crash, recovery from the WAL at start) and
        start it again on the same folder and socket."""
        self.halt(mode)
        self.start()

    def create_database(self, prefix: str = "t", *, tcp: bool = False) -> str:
        """A new empty database (a test's own); returns its URL (over TCP at `listen` if
        `tcp`, else over the socket)."""
        import psycopg

        name = f"{prefix}_{time.monotonic_ns()}_{os.getpid()}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.tcp_url(name) if tcp else self.url(name)


@contextmanager
def running_server(
    *, listen: str | None = None, netns: str | None = None, **settings: str
) -> Iterator[PgServer]:
    """A server for the length of the block, stopped and deleted at the end (also on error)."""
    server = PgServer.create(listen=listen, netns=netns, **settings)
    try:
        yield server
    finally:
        server.stop()
