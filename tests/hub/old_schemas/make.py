"""Make the hub databases of every earlier schema version kept beside this file:
`python -m tests.hub.old_schemas.make` (from the repository, with its git history).

Version N is made with the migrations as they were written in the last commit whose
`hub/store/schema.py` had N of them (before migration N+1 came) (`git show COMMIT:hub/store/schema.py`), so the fixture is
what a hub of that time left on disk; then a little of everything a site has (hub id,
project, clips, operators, a kiosk, a lease, labels, an alert, sessions; web users from
version 2) is written with the columns version 1 already had. Run it again when a migration
is added: the newest version before it becomes a fixture too.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SCHEMA = "hub/store/schema.py"


def migrations_at(commit: str) -> list[str]:
    text = subprocess.run(
        ["git", "show", f"{commit}:{SCHEMA}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    space: dict = {}
    exec(compile(text, f"{commit}:{SCHEMA}", "exec"), space)  # our own file, as it was
    return list(space["MIGRATIONS"])


def history() -> list[tuple[str, list[str]]]:
    """(commit, its migrations), oldest first, for every commit that changed the schema."""
    commits = subprocess.run(
        ["git", "log", "--reverse", "--format=%H", "--", SCHEMA],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [(c, migrations_at(c)) for c in commits]


def fill(conn: sqlite3.Connection, version: int) -> None:
    """Rows in the tables of version 1 (and users from 2), with version 1's columns."""
    project = (ROOT / "projects" / "geweld.toml").read_text()
    schema = json.dumps({"name": "geweld-pilot", "version": 1, "labels": []})
    rows = {
        "meta": [("hub_id", f"hub-old{version:04d}")],
        "project_versions": [(1, "geweld-pilot", project, schema, 1.0e9)],
        "sources": [("s" * 64, "film.mp4", "/srv/film.mp4", 30.0, 1000, 1.0e9)],
    }
    for table, values in rows.items():
        for row in values:
            conn.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", row)
    for i in range(4):
        conn.execute(
            "INSERT INTO clips (sha256, size, duration, name, source_sha256, source_name, start,"
            ' "end", gold, want, n_labels, added_at) VALUES (?, 100, 10.0, ?, ?, ?, ?, ?, ?, 3, ?, ?)',
            (f"{i:064x}", f"clip-{i}", "s" * 64, "film.mp4", i * 10.0, i * 10.0 + 10,
             "gewelddadig" if i == 3 else None, 2 if i < 2 else 0, 1.0e9 + i),
        )  # fmt: skip
    for op in ("op1", "op2"):
        conn.execute(
            "INSERT INTO operators (id, name, pin_hash, created_at) VALUES (?, ?, ?, ?)",
            (op, f"Operator {op[-1]}", "scrypt$16384$8$1$c2FsdA$aGFzaA", 1.0e9),
        )
    conn.execute(
        "INSERT INTO kiosks (id, paired_at, public_key, last_seen, version, outbox) "
        "VALUES ('k1', 1.0e9, NULL, 1.0e9, '0.1.0', 0)"
    )
    conn.execute("INSERT INTO leases VALUES ('lease1', 'op1', 'k1', 1.0e9, 1.0e9 + 1800)")
    conn.execute(
        "INSERT INTO assignments (operator, clip, lease_id, assigned_at) VALUES (?, ?, ?, ?)",
        ("op1", f"{2:064x}", "lease1", 1.0e9),
    )
    for n, (op, clip) in enumerate([("op1", 0), ("op2", 0), ("op1", 1), ("op2", 1)]):
        conn.execute(
            'INSERT INTO labels (uuid, operator, clip, kiosk, lease_id, schema_version, "values",'
            " segments, telemetry, created_at, received_at) VALUES (?, ?, ?, 'k1', 'lease1', 1,"
            " ?, '[]', '{}', ?, ?)",
            (f"label-{n}", op, f"{clip:064x}", json.dumps(["gewelddadig"]), 1.0e9 + n, 1.0e9 + n),
        )
    conn.execute(f"INSERT INTO alerts VALUES ('alert-1', 'op2', '{0:064x}', 'k1', 1.0e9, NULL)")
    conn.execute(
        "INSERT INTO sessions_log (operator, kiosk, kind, at) VALUES ('op1', 'k1', 'login', 1.0e9)"
    )
    conn.execute(
        "INSERT INTO sessions_log (operator, kiosk, kind, at) VALUES ('op1', 'k1', 'logout', 1.0e9 + 60)"
    )
    if version >= 2:
        conn.execute(
            "INSERT INTO users (username, role, password_hash, created_at) "
            "VALUES ('lea', 'lead', 'scrypt$16384$8$1$c2FsdA$aGFzaA', 1.0e9)"
        )


def make(version: int, migrations: list[str], out: Path) -> None:
    out.unlink(missing_ok=True)
    conn = sqlite3.connect(out, isolation_level=None)
    try:
        conn.execute("PRAGMA page_size = 1024")  # small files in git; the schema is the same
        for number, script in enumerate(migrations[:version], start=1):
            conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        conn.execute("BEGIN")
        fill(conn, version)
        conn.execute("COMMIT")
        conn.execute("VACUUM")
    finally:
        conn.close()


def main() -> None:
    current = len(migrations_at("HEAD"))
    # each version from the last commit that had exactly that many migrations: a migration
    # still being written was sometimes amended before the next one came (9 gained tables)
    last: dict[int, tuple[str, list[str]]] = {}
    for commit, migrations in history():
        last[len(migrations)] = (commit, migrations)
    for version in range(1, current):
        commit, migrations = next(last[n] for n in sorted(last) if n >= version)
        make(version, migrations, HERE / f"hub-v{version}.db")
        print(f"hub-v{version}.db: schema {version} as of {commit[:10]}")


if __name__ == "__main__":
    main()
