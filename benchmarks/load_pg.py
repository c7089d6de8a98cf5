"""The PostgreSQL and several-process side of benchmarks/load.py.

- `database`: where the hub's store lives for a run: SQLite in the data folder, a fresh
  database on a given PostgreSQL server (`--db postgresql://…`: the URL names the server, a
  new database is made beside the one it names and dropped at the end), or a throwaway
  server of its own (`--db pg`: tests/pg.py, `fsync=on`, so that commits are durable as on a
  site's server; `autovacuum_naptime=1s`, so that the planner has statistics of the labels
  table, which starts empty, within the run as a site's server has them in steady state).
- `WorkerHubs`: `straat-hub serve --workers N` as one supervisor process, its workers' kiosk
  ports and pids read from what it prints.
- `raw_baselines`: the same label rows, read back from the hub's PostgreSQL database, into a
  fresh database with the same schema on the same server, once as multi-row INSERTs (one
  `INSERT … SELECT FROM unnest(arrays)` per batch, as benchmarks/pg_labels.py) and once as
  COPY, one commit per batch.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from tests.pg import PgServer

#: The label columns the hub writes (the rest are defaults).
COLUMNS = (
    "uuid",
    "operator",
    "clip",
    "kiosk",
    "lease_id",
    "schema_version",
    '"values"',
    "segments",
    "telemetry",
    "created_at",
    "received_at",
    "review",
)


def with_database(url: str, name: str) -> str:
    """`url` naming database `name` instead (host, port, socket folder kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def throwaway_server() -> PgServer:
    """A PostgreSQL server of the benchmark's own (tests/pg.py), `fsync` on. Autovacuum looks
    every second instead of every minute: the labels table grows from nothing during a run,
    and a site's server in steady state has statistics (without them the per-batch vote
    count scans labels instead of probing its index). pg_stat_statements for
    `StatementStats`."""
    from tests.pg import PgServer

    return PgServer.create(
        fsync=True,
        autovacuum_naptime="1",
        shared_preload_libraries="pg_stat_statements",
        **{"pg_stat_statements.track_planning": "on"},
    )


@contextlib.contextmanager
def database(db: str, data: Path) -> Iterator[tuple[str | None, str]]:
    """(PostgreSQL URL or None for SQLite, a line that says what it is) for one run."""
    if db == "sqlite":
        yield None, f"SQLite in {data / 'hub.db'} (WAL, synchronous=NORMAL)"
        return
    import psycopg

    server = None
    if db == "pg":
        server = throwaway_server()
        admin = server.url()
    elif db.startswith(("postgresql://", "postgres://")):
        admin = db
    else:
        raise SystemExit(f"--db: 'sqlite', 'pg' or a postgresql:// URL, not {db!r}")
    name = f"bench_load_{time.monotonic_ns()}_{os.getpid()}"
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
            version = conn.execute("SHOW server_version").fetchone()[0]
            fsync = conn.execute("SHOW fsync").fetchone()[0]
            sync = conn.execute("SHOW synchronous_commit").fetchone()[0]
        where = "throwaway server, Unix socket" if server else "server from --db"
        yield (
            with_database(admin, name),
            f"PostgreSQL {version} ({where}; fsync {fsync}, synchronous_commit {sync}), "
            f"database {name}",
        )
    finally:
        if server is not None:
            server.stop()
        else:
            with contextlib.suppress(Exception), psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class StatementStats:
    """The server's time per statement over the window (pg_stat_statements, when the server
    loads it: `--db pg` does): `reset()` at the start, `report()` at the end."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self.ok = False
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                conn.execute("SELECT pg_stat_statements_reset()")  # fails unless preloaded
            self.ok = True
        except psycopg.Error:
            pass

    def reset(self) -> None:
        import psycopg

        if self.ok:
            with psycopg.connect(self.url, autocommit=True) as conn:
                conn.execute("SELECT pg_stat_statements_reset()")

    def report(self, seconds: float, top: int = 8) -> list[str]:
        """Lines: the statements that took the most server time (execution + planning)."""
        import psycopg

        if not self.ok:
            return []
        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT calls, total_exec_time, total_plan_time, plans, "
                "left(regexp_replace(query, '\\s+', ' ', 'g'), 60) FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "ORDER BY total_exec_time + total_plan_time DESC LIMIT %s",
                (top,),
            ).fetchall()
        lines = []
        for calls, exec_ms, plan_ms, plans, query in rows:
            share = (exec_ms + plan_ms) / 1000 / seconds * 100 if seconds > 0 else 0.0
            lines.append(
                f"  {share:5.1f} % {calls:>7,} calls  exec {exec_ms / max(calls, 1):.3f} ms"
                f"  plan {plan_ms / max(plans, 1):.3f} ms ×{plans:,}  {query}"
            )
        return lines


@dataclass
class WorkerHubs:
    """`serve --workers N` on `data` (and `db_url`), kiosk ports from the supervisor's lines."""

    data: Path
    project: Path
    n: int
    db_url: str | None = None
    host: str = "127.0.0.1"
    extra: list[str] = field(default_factory=list)
    proc: subprocess.Popen[str] | None = None
    ports: dict[int, int] = field(default_factory=dict)
    pids: dict[int, int] = field(default_factory=dict)
    public_key: str = ""
    log: list[str] = field(default_factory=list)

    @property
    def endpoints(self) -> list[str]:
        return [f"tcp://{self.host}:{self.ports[i]}" for i in sorted(self.ports)]

    @property
    def db(self) -> Path:
        return self.data / "hub.db"

    @property
    def location(self) -> str:
        return self.db_url or str(self.data / "hub.db")

    def start(self, timeout: float = 120.0) -> WorkerHubs:
        cmd = [
            sys.executable,
            "-m",
            "hub.cli",
            "serve",
            "--project",
            str(self.project),
            "--data",
            str(self.data),
            "--bind",
            f"tcp://{self.host}:0",
            "--web-host",
            self.host,
            "--web-port",
            "0",
            "--interface",
            self.host,
            "--workers",
            str(self.n),
            *self.extra,
        ]
        if self.db_url:
            cmd += ["--db", self.db_url]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("hub exited:\n" + "".join(self.log))
            self.log.append(line)
            if m := re.search(r"hub worker (\d+): pid (\d+) port (\d+)", line):
                self.pids[int(m.group(1))] = int(m.group(2))
                self.ports[int(m.group(1))] = int(m.group(3))
            if m := re.search(r"public key (\S+) fingerprint", line):
                self.public_key = m.group(1)
            if re.search(r"hub: \d+ workers ready", line):
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        raise RuntimeError("hub workers did not become ready:\n" + "".join(self.log))

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line)

    def kill(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=60)


def label_rows(url: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT {', '.join(COLUMNS)} FROM labels ORDER BY seq").fetchall()


def _fresh(admin_url: str, hub_url: str) -> str:
    """A new database on the hub's server with the hub's schema and clips (no labels)."""
    import psycopg

    from hub.store.pg.schema import apply_schema

    name = f"bench_raw_{time.monotonic_ns()}_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(admin_url, name)
    with psycopg.connect(hub_url) as src, psycopg.connect(url) as dst:
        apply_schema(dst)
        dst.commit()
        with (
            src.cursor().copy("COPY clips TO STDOUT (FORMAT binary)") as out,
            dst.cursor().copy("COPY clips FROM STDIN (FORMAT binary)") as into,
        ):
            for block in out:
                into.write(block)
        dst.commit()
    return url


def _drop(admin_url: str, url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def raw_baselines(hub_url: str, batch: int) -> tuple[int, float, float]:
    """(rows, multi-row INSERT rows/s, COPY rows/s): the hub's label rows into fresh databases
    with the same schema, indexes and clips on the same server, `batch` rows per commit."""
    import psycopg

    rows = label_rows(hub_url)
    admin = with_database(hub_url, "postgres")
    insert = (
        f"INSERT INTO labels ({', '.join(COLUMNS)}) SELECT * FROM unnest("
        "%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::integer[], "
        "%s::text[], %s::text[], %s::text[], %s::double precision[], "
        "%s::double precision[], %s::integer[])"
    )
    rates = []
    for method in ("insert", "copy"):
        url = _fresh(admin, hub_url)
        try:
            with psycopg.connect(url) as conn:
                started = time.perf_counter()
                for i in range(0, len(rows), batch):
                    part = rows[i : i + batch]
                    if method == "insert":
                        conn.execute(insert, [list(c) for c in zip(*part, strict=True)])
                    else:
                        with conn.cursor().copy(
                            f"COPY labels ({', '.join(COLUMNS)}) FROM STDIN"
                        ) as copy:
                            for row in part:
                                copy.write_row(row)
                    conn.commit()
                elapsed = time.perf_counter() - started
            rates.append(len(rows) / elapsed if elapsed else float("nan"))
        finally:
            _drop(admin, url)
    return len(rows), rates[0], rates[1]


def backend_pids(url: str) -> list[int]:
    """The server processes serving connections to `url`'s database (not this one)."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) of each process still there."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


class RoundTrips:
    """`SELECT 1` on a connection of its own every `every` seconds while the run lasts: what
    one round trip to the server costs on this machine under this load (each statement the
    hub runs pays one)."""

    def __init__(self, url: str, every: float = 0.02) -> None:
        self.url, self.every = url, every
        self.ms: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(self.every):
                started = time.perf_counter()
                conn.execute("SELECT 1").fetchone()
                self.ms.append((time.perf_counter() - started) * 1000)

    def stop(self) -> list[float]:
        self._stop.set()
        self._thread.join(timeout=10)
        return self.ms
