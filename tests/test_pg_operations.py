"""Running on PostgreSQL as README.md's "Running on PostgreSQL" says, command by command,
against a throwaway server (tests/pg.py); and the hub unit's PostgreSQL drop-in
(packaging/systemd/straat-hub-postgresql.conf) checked by systemd-analyze.

The README's shell lines run as written with these changes only: `sudo -u USER` is dropped
and files go to a temporary folder instead of /etc, /var and /opt (`SUBSTITUTIONS`); the
server is the throwaway one (libpq's PGHOST/PGPORT/PGUSER, its role `straat` in place of
Debian's `postgres`); the lines that change the machine itself (`SKIPPED`: apt-get,
systemctl) are not run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.store.copy import checksums
from tests.conftest import ROOT
from tests.hub.test_db_copy import old_hub
from tests.pg import PgServer
from tests.test_systemd import UNITS, exposure, needs_analyze, values

README = ROOT / "README.md"
PACKAGING = ROOT / "packaging" / "systemd"
DROP_IN = PACKAGING / "straat-hub-postgresql.conf"
PGDUMP = PACKAGING / "straat-hub-pgdump.service"
SKIPPED = ("apt-get ", "systemctl ")
PASSWORD = "0123456789abcdef0123456789abcdef0123456789abcdef"


def section_lines(title: str, until: str = "\n## ") -> list[str]:
    """The shell lines of the README section `title` (continuations joined), in order."""
    text = README.read_text()
    start = text.index(title)
    end = text.find(until, start + len(title))
    section = text[start : end if end > 0 else None]
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line:
                lines.append(line)
    return lines


def run(line: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        ["bash", "-c", line],
        input=f"{PASSWORD}\n{PASSWORD}\n",  # createuser --pwprompt
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )
    assert done.returncode == 0, f"{line}\n--- out\n{done.stdout}\n--- err\n{done.stderr}"
    return done.stdout


def test_readme_postgresql_steps_and_restore_drill(tmp_path: Path, pg_server: PgServer) -> None:
    import psycopg

    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        for name in ("annotatiestraat_drill", "annotatiestraat"):
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute("DROP ROLE IF EXISTS straat_hub")
    for folder in ("conf", "data", "units", "pgdump"):
        (tmp_path / folder).mkdir()
    old_hub(tmp_path / "data" / "hub.db", labels=500)
    url = pg_server.url("annotatiestraat").replace("straat@", f"straat_hub:{PASSWORD}@")
    substitutions = {
        "sudo -u postgres ": "",
        "sudo -u annotatiestraat ": "",
        "-o annotatiestraat -g annotatiestraat ": "",
        "-o postgres -g postgres ": "",
        "postgresql://straat_hub:PASSWORD@localhost/annotatiestraat": url,
        "/opt/annotatiestraat/systemd/": f"{DROP_IN.parent}/",
        "/etc/systemd/system/": f"{tmp_path}/units/",
        "/etc/annotatiestraat/": f"{tmp_path}/conf/",
        "/var/lib/annotatiestraat/": f"{tmp_path}/data/",
        "/var/lib/annotatiestraat-pgdump": f"{tmp_path}/pgdump",  # systemd's StateDirectory=
    }
    env = {
        "PATH": f"{pg_server.bindir}:{Path(sys.executable).parent}:/usr/bin:/bin",
        "PGHOST": str(pg_server.root),
        "PGPORT": str(pg_server.port),
        "PGUSER": "straat",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
    }
    ran, said = [], []
    for line in section_lines("## Running on PostgreSQL"):
        if line.startswith("#") or line.startswith(SKIPPED):
            continue
        for old, new in substitutions.items():
            line = line.replace(old, new)
        outside = line.replace(str(tmp_path), "")
        assert "/etc/" not in outside and "/var/" not in outside, f"not redirected: {line}"
        said.append(run(line, env, tmp_path))
        ran.append(line)
    assert any("db copy" in line for line in ran) and any("pg_restore" in line for line in ran)
    # db copy's last line, the two checksums of the drill: all the same
    copied = next(out for line, out in zip(ran, said, strict=True) if "db copy" in line)
    last = copied.strip().splitlines()[-1]
    assert last.endswith("(source and target agree)"), copied
    checksum = last.split()[1]
    drills = [out for line, out in zip(ran, said, strict=True) if "db checksum" in line]
    assert len(drills) == 2
    for out in drills:
        assert out.strip().splitlines()[-1].endswith(f"checksum {checksum}"), out
    assert checksums(str(tmp_path / "data" / "hub.db"))[2] == checksums(url)[2]
    # the connection string file is the owner's only; the drop-in landed where systemd reads it
    assert (tmp_path / "conf" / "hub.env").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "units" / "straat-hub.service.d" / "postgresql.conf").read_text() == (
        DROP_IN.read_text()
    )
    # the nightly dump unit's command, as systemd runs it (`$$` is `$`, `%%` is `%`), twice
    # on one day: one complete dump of that date, no `.part` left
    for unit in ("straat-hub-pgdump.service", "straat-hub-pgdump.timer"):
        assert (tmp_path / "units" / unit).read_text() == (PACKAGING / unit).read_text()
    (exec_start,) = values(PGDUMP, "ExecStart")
    assert exec_start.startswith("/bin/sh -c '") and exec_start.endswith("'")
    command = exec_start[len("/bin/sh -c '") : -1].replace("$$", "$").replace("%%", "%")
    command = command.replace("/var/lib/annotatiestraat-pgdump", f"{tmp_path}/pgdump")
    old = tmp_path / "pgdump" / "annotatiestraat-2000-01-01.dump"
    old.write_bytes(b"an old dump")
    os.utime(old, (946_684_800, 946_684_800))
    for _ in range(2):
        run(command, env, tmp_path)
    dumps = sorted(p.name for p in (tmp_path / "pgdump").iterdir())
    assert dumps == ["annotatiestraat-" + time.strftime("%Y-%m-%d") + ".dump", "drill.dump"]
    listed = run(f"pg_restore --list {tmp_path / 'pgdump' / dumps[0]}", env, tmp_path)
    assert "TABLE DATA public labels" in listed


@pytest.fixture
def units_with_drop_in(tmp_path: Path) -> Path:
    """The hub's unit (ExecStart= on a stand-in) with the PostgreSQL drop-in beside it."""
    out = tmp_path / "units"
    (out / "straat-hub.service.d").mkdir(parents=True)
    text = (UNITS / "straat-hub.service").read_text()
    stand_in = tmp_path / "straat-hub"
    stand_in.write_text("#!/bin/sh\nexit 0\n")
    stand_in.chmod(0o755)
    (out / "straat-hub.service").write_text(
        text.replace("/opt/annotatiestraat/.venv/bin/straat-hub", str(stand_in))
    )
    shutil.copy(DROP_IN, out / "straat-hub.service.d" / "postgresql.conf")
    return out


def verify_with_drop_ins(units: Path) -> str:
    assert shutil.which("systemd-analyze")
    done = subprocess.run(
        ["systemd-analyze", "verify", "./straat-hub.service"],
        capture_output=True,
        text=True,
        cwd=units,
        env={"SYSTEMD_UNIT_PATH": f"{units}:", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@needs_analyze
def test_drop_in_verifies_and_keeps_the_hub_hardened(units_with_drop_in: Path) -> None:
    said = verify_with_drop_ins(units_with_drop_in)
    assert "postgresql.conf" not in said and "straat" not in said, said
    # verify does read the drop-in: a misspelt key in it is reported
    drop_in = units_with_drop_in / "straat-hub.service.d" / "postgresql.conf"
    drop_in.write_text(drop_in.read_text().replace("EnvironmentFile=", "EnvironmentFle="))
    assert "EnvironmentFle" in verify_with_drop_ins(units_with_drop_in)
    assert exposure(units_with_drop_in / "straat-hub.service") <= 2.0


def test_drop_in_settings() -> None:
    assert values(DROP_IN, "EnvironmentFile") == ["/etc/annotatiestraat/hub.env"]  # not "-…"
    assert values(DROP_IN, "After") == ["postgresql.service"]
    assert values(DROP_IN, "Wants") == ["postgresql.service"]
    # what the hub reads from that file is what the CLI's --db/--to take from the environment
    assert 'STRAAT_DB="postgresql://' in README.read_text()
    from hub.cli import DB_ENV

    assert DB_ENV == "STRAAT_DB"


@needs_analyze
def test_pgdump_units_verify_and_are_hardened(tmp_path: Path) -> None:
    for unit in ("straat-hub-pgdump.service", "straat-hub-pgdump.timer"):
        shutil.copy(PACKAGING / unit, tmp_path / unit)
    done = subprocess.run(
        ["systemd-analyze", "verify", "./straat-hub-pgdump.service", "./straat-hub-pgdump.timer"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    said = done.stdout + done.stderr
    assert done.returncode == 0 and "straat" not in said, said
    assert exposure(tmp_path / "straat-hub-pgdump.service") <= 2.0
    timer = PACKAGING / "straat-hub-pgdump.timer"
    assert values(timer, "Persistent") == ["true"]
    assert values(timer, "Unit") == ["straat-hub-pgdump.service"]
    assert values(PGDUMP, "User") == ["postgres"]
    assert values(PGDUMP, "StateDirectory") == ["annotatiestraat-pgdump"]
