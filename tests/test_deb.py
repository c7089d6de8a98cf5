"""`make deb`'s package, built from this checkout and installed into a clean root: the root's
/usr and /etc are overlays on this machine's (writes land in a temporary folder, never in the
machine's own), with an empty dpkg database. dpkg runs the maintainer scripts chrooted there,
as on a fresh machine. Then: the commands, users, folders and enabled units are there, the
units pass `systemd-analyze verify`, the hub starts as its unit would start it, and an upgrade
to a newer build keeps the hub's data and a site's edited settings; removing and purging the
package never deletes the hub's data."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounts and chroot need root (as make test has)"),
]

BUILD = ROOT / "packaging" / "build-deb.sh"
PASSWORD = "lead-password-1"


def build(out: Path, version: str | None = None) -> Path:
    env = {**os.environ, "DEB_COMPRESS": "none"}  # the test pays no compression
    if version:
        env["DEB_VERSION"] = version
    done = subprocess.run(
        [str(BUILD), str(out)], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return Path(done.stdout.strip().splitlines()[-1])


@dataclass
class CleanRoot:
    """A root folder whose /usr and /etc are overlays (upper layers in `layers`)."""

    root: Path
    layers: Path

    def mounts(self) -> str:
        lines = []
        for name in ("usr", "etc"):
            up, work = self.layers / name, self.layers / f"{name}.work"
            lines.append(
                f"mount -t overlay overlay -o lowerdir=/{name},upperdir={up},workdir={work} "
                f"{self.root / name}"
            )
        lines += [
            f"mount --bind /dev {self.root / 'dev'}",
            f"mount --bind /proc {self.root / 'proc'}",
        ]
        return "\n".join(lines)

    def sh(self, script: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """`script` in a mount namespace of its own where the root's overlays are mounted."""
        full = f"set -eu\n{self.mounts()}\nR={shlex.quote(str(self.root))}\n{script}"
        return subprocess.run(
            ["unshare", "-m", "bash", "-c", full], capture_output=True, text=True, timeout=timeout
        )

    def ok(self, script: str, timeout: float = 300) -> str:
        done = self.sh(script, timeout)
        assert done.returncode == 0, f"{script}\n--- out\n{done.stdout}\n--- err\n{done.stderr}"
        return done.stdout

    def read(self, inside: str) -> str:
        """A file as the root sees it (under /usr and /etc the overlay's merged view)."""
        return self.ok(f'cat "$R"{shlex.quote(inside)}')

    def is_link(self, inside: str) -> bool:
        return self.sh(f'test -L "$R"{shlex.quote(inside)}').returncode == 0


@pytest.fixture
def clean_root(tmp_path: Path) -> Iterator[CleanRoot]:
    root, layers = tmp_path / "root", tmp_path / "layers"
    for name in ("usr", "etc", "dev", "proc", "tmp", "run", "opt", "var/lib/dpkg/info",
                 "var/lib/dpkg/updates", "var/log", "var/cache"):  # fmt: skip
        (root / name).mkdir(parents=True, exist_ok=True)
    (root / "tmp").chmod(0o1777)
    for name in ("usr", "usr.work", "etc", "etc.work"):
        (layers / name).mkdir(parents=True)
    for name in ("bin", "sbin", "lib", "lib64"):
        (root / name).symlink_to(f"usr/{name}")
    (root / "var/lib/dpkg/status").write_text("")
    (root / "var/lib/dpkg/available").write_text("")
    yield CleanRoot(root, layers)
    # about 1 GB of packages, venvs and layers: not kept for pytest's last-three-runs folders
    for child in tmp_path.iterdir():
        shutil.rmtree(child, ignore_errors=True)


def hub_until_ready(machine: CleanRoot) -> str:
    """The hub started the way its installed unit starts it (ExecStart=, as its user), on
    free loopback ports, stopped once ready."""
    unit = machine.read("/lib/systemd/system/straat-hub.service")
    (command,) = re.findall(r"^ExecStart=(.*)$", unit, re.M)
    command += " --bind tcp://127.0.0.1:0 --web-host 127.0.0.1 --web-port 0 --no-zeroconf"
    script = f"""
chroot "$R" runuser -u annotatiestraat -- env PYTHONUNBUFFERED=1 {command} > "$R/tmp/hub.out" 2>&1 &
hub=$!
for _ in $(seq 1 600); do
    grep -q ': ready$' "$R/tmp/hub.out" && break
    kill -0 $hub 2>/dev/null || break
    sleep 0.1
done
kill -TERM $hub || true
wait $hub || true
cat "$R/tmp/hub.out"
"""
    return machine.ok(script, timeout=120)


def test_deb_installs_starts_and_upgrades_keeping_data(
    clean_root: CleanRoot, tmp_path: Path
) -> None:
    assert shutil.which("unshare") and shutil.which("dpkg-deb")
    started = time.monotonic()
    deb = build(tmp_path / "dist")
    built = time.monotonic() - started
    machine = clean_root
    machine.ok(f'dpkg --root="$R" --force-depends -i {shlex.quote(str(deb))}')

    version = machine.ok('chroot "$R" straat-hub --version')
    assert version.strip() == "straat-hub, version 0.1.0"
    assert "straat-kiosk, version 0.1.0" in machine.ok('chroot "$R" straat-kiosk --version')
    users = machine.ok('chroot "$R" getent passwd annotatiestraat straat-kiosk')
    assert "annotatiestraat:" in users and "straat-kiosk:" in users
    data = machine.root / "var/lib/annotatiestraat"
    owner = machine.ok(
        'chroot "$R" stat -c "%U %a" /var/lib/annotatiestraat /var/lib/annotatiestraat-backup'
    )
    assert owner.split("\n")[:2] == ["annotatiestraat 700", "annotatiestraat 700"]
    wants = "/etc/systemd/system/"
    assert machine.is_link(wants + "multi-user.target.wants/straat-hub.service")
    assert machine.is_link(wants + "timers.target.wants/straat-hub-backup.timer")
    assert not machine.is_link(wants + "multi-user.target.wants/straat-kiosk.service")

    units = " ".join(
        f"/lib/systemd/system/{u}"
        for u in (
            "straat-hub.service",
            "straat-hub-backup.service",
            "straat-hub-backup.timer",
            "straat-kiosk.service",
        )  # fmt: skip
    )
    verify = machine.sh(f'chroot "$R" systemd-analyze verify {units}')
    said = verify.stdout + verify.stderr
    assert verify.returncode == 0 and "straat" not in said, said
    dropin = machine.read("/lib/systemd/system/straat-hub.service.d/package-user.conf")
    assert "User=annotatiestraat" in dropin and "DynamicUser=no" in dropin
    # PostgreSQL: the hub unit's drop-in is shipped for staff to install, not active; the
    # package's venv has psycopg for `straat-hub db copy` and a hub on PostgreSQL
    shipped = machine.read("/opt/annotatiestraat/systemd/straat-hub-postgresql.conf")
    assert "EnvironmentFile=/etc/annotatiestraat/hub.env" in shipped
    assert "pg_dump" in machine.read("/opt/annotatiestraat/systemd/straat-hub-pgdump.service")
    assert "OnCalendar" in machine.read("/opt/annotatiestraat/systemd/straat-hub-pgdump.timer")
    assert "straat-hub-postgresql" not in machine.ok('ls -R "$R/lib/systemd/system"')
    machine.ok(
        'chroot "$R" /opt/annotatiestraat/.venv/bin/python -c "import psycopg, psycopg_pool"'
    )
    assert "--from" in machine.ok('chroot "$R" straat-hub db copy --help')

    out = hub_until_ready(machine)
    assert re.search(r"hub \S+: ready", out), out
    assert (data / "hub.db").is_file()
    # staff work on the installed hub: default --data, as the service's user
    machine.ok(
        f'chroot "$R" runuser -u annotatiestraat -- straat-hub user add lea --role lead '
        f"--password {PASSWORD}"
    )
    settings = "/etc/annotatiestraat/project.toml"
    machine.ok(f'echo "# edited on site" >> "$R"{settings}')

    newer = build(tmp_path / "dist2", "0.1.0+1")
    machine.ok(f'dpkg --root="$R" --force-depends --force-confold -i {shlex.quote(str(newer))}')
    assert machine.ok('chroot "$R" straat-hub --version').strip() == "straat-hub, version 0.1.0+1"
    assert "# edited on site" in machine.read(settings)
    check = (
        "from hub.store import Store; from hub.store.accounts import check_password; "
        f"s = Store('/var/lib/annotatiestraat/hub.db'); print(check_password(s, 'lea', '{PASSWORD}'))"
    )
    kept = machine.ok(
        f'chroot "$R" runuser -u annotatiestraat -- /opt/annotatiestraat/.venv/bin/python -c "{check}"'
    )
    assert "lead" in kept, kept
    assert re.search(r"hub \S+: ready", hub_until_ready(machine))
    status = machine.ok('dpkg --root="$R" -s annotatiestraat')
    assert "Version: 0.1.0+1" in status and "Status: install ok installed" in status

    # remove keeps data and settings; purge deletes the settings, never the labels
    machine.ok('dpkg --root="$R" -r annotatiestraat')
    assert machine.sh('test -e "$R/opt/annotatiestraat/.venv/bin/straat-hub"').returncode != 0
    assert (data / "hub.db").is_file() and "# edited on site" in machine.read(settings)
    machine.ok('dpkg --root="$R" -P annotatiestraat')
    assert machine.sh(f'test -e "$R"{settings}').returncode != 0
    assert (data / "hub.db").is_file()
    print(f"built in {built:.1f} s; {deb.stat().st_size / 1024**2:.0f} MiB")
