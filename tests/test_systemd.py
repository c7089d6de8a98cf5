"""systemd units (systemd/) and the hub's sd_notify client (hub/site/sdnotify.py).

`systemd-analyze verify` insists that ExecStart= binaries exist, and the units point at the
site install (/opt/annotatiestraat/.venv/bin/…). The tests verify copies whose ExecStart= is
rewritten to stand-in executables in a temporary folder; nothing else is changed.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.site import sdnotify

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "systemd"
INSTALL_BIN = "/opt/annotatiestraat/.venv/bin/"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None,
    reason="systemd-analyze is not installed (Debian package `systemd`; `make test` installs it)",
)
#: Exposure levels (`systemd-analyze security --offline=yes`) the units must stay within.
HUB_MAX_EXPOSURE = 2.0
KIOSK_MAX_EXPOSURE = 2.0


def directives(path: Path) -> list[tuple[str, str, str]]:
    """(section, key, value) for every line of a unit file; keys may repeat."""
    out, section = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.append((section, key.strip(), value.strip()))
    return out


def values(path: Path, key: str) -> list[str]:
    return [v for _, k, v in directives(path) if k == key]


@pytest.fixture
def units(tmp_path: Path) -> Iterator[Path]:
    """Copies of the units with ExecStart= pointing at stand-in executables."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("straat-hub", "straat-kiosk"):
        exe = bin_dir / name
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
    out = tmp_path / "units"
    out.mkdir()
    for unit in UNITS.glob("*.service"):
        text = unit.read_text()
        assert INSTALL_BIN in text, f"{unit.name}: ExecStart= not under {INSTALL_BIN}"
        (out / unit.name).write_text(text.replace(INSTALL_BIN, f"{bin_dir}/"))
    for timer in UNITS.glob("*.timer"):
        (out / timer.name).write_text(timer.read_text())
    yield out


def analyze(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run(
        [ANALYZE, *args], capture_output=True, text=True, cwd=cwd, timeout=60, check=False
    )


def exposure(unit: Path) -> float:
    done = analyze("security", "--offline=yes", f"./{unit.name}", cwd=unit.parent)
    m = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", done.stdout)
    assert m, done.stdout + done.stderr
    return float(m.group(1))


# ---- the units -----------------------------------------------------------------------------


@needs_analyze
@pytest.mark.parametrize(
    "name",
    [
        "straat-hub.service",
        "straat-kiosk.service",
        "straat-hub-backup.service",
        "straat-hub-backup.timer",
    ],
)
def test_systemd_analyze_verify_passes(units: Path, name: str) -> None:
    done = analyze("verify", f"./{name}", cwd=units)
    said = (done.stdout + done.stderr).strip()
    assert done.returncode == 0, said
    # warnings (unknown keys, bad values) do not fail verify: none may mention our unit
    assert name not in said and "straat" not in said, said


@needs_analyze
def test_verify_would_catch_a_typo(units: Path) -> None:
    bad = units / "straat-typo.service"
    text = (units / "straat-hub.service").read_text()
    bad.write_text(text.replace("ProtectSystem=strict", "ProtectSytem=strict"))
    done = analyze("verify", f"./{bad.name}", cwd=units)
    assert "ProtectSytem" in done.stdout + done.stderr


@needs_analyze
def test_hub_exposure_within_target(units: Path) -> None:
    level = exposure(units / "straat-hub.service")
    print(f"straat-hub.service exposure {level}")
    assert level <= HUB_MAX_EXPOSURE


@needs_analyze
def test_kiosk_exposure_within_target(units: Path) -> None:
    level = exposure(units / "straat-kiosk.service")
    print(f"straat-kiosk.service exposure {level}")
    assert level <= KIOSK_MAX_EXPOSURE


def test_hub_unit_has_the_required_settings() -> None:
    unit = UNITS / "straat-hub.service"
    want = {
        "Type": "notify",
        "NotifyAccess": "main",
        "DynamicUser": "yes",
        "StateDirectory": "annotatiestraat",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "NoNewPrivileges": "yes",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX AF_NETLINK",
        "MemoryDenyWriteExecute": "yes",
        "CapabilityBoundingSet": "",
    }
    for key, value in want.items():
        assert value in values(unit, key), f"{key}={value} missing"
    assert "@system-service" in values(unit, "SystemCallFilter")
    assert values(unit, "WatchdogSec"), "no watchdog"
    assert values(unit, "ExecStart") == [
        f"{INSTALL_BIN}straat-hub serve --project /etc/annotatiestraat/project.toml "
        "--data /var/lib/annotatiestraat --init"  # the first start makes the hub there
    ]


def test_backup_runs_nightly_as_the_hub_with_retention() -> None:
    timer, service = UNITS / "straat-hub-backup.timer", UNITS / "straat-hub-backup.service"
    assert values(timer, "OnCalendar") == ["*-*-* 02:00:00"]
    assert values(timer, "Persistent") == ["true"]
    assert values(timer, "Unit") == ["straat-hub-backup.service"]
    assert values(timer, "WantedBy") == ["timers.target"]
    assert values(service, "Type") == ["oneshot"]
    assert values(service, "User") == ["straat-hub"]  # the hub unit's dynamic user
    (command,) = values(service, "ExecStart")
    assert command.startswith(f"{INSTALL_BIN}straat-hub backup /var/lib/annotatiestraat-backup/ ")
    assert "--keep 14" in command and command.endswith("--data /var/lib/annotatiestraat")


@needs_analyze
def test_backup_exposure_within_target(units: Path) -> None:
    level = exposure(units / "straat-hub-backup.service")
    print(f"straat-hub-backup.service exposure {level}")
    assert level <= HUB_MAX_EXPOSURE


def test_kiosk_unit_runs_on_tty1_as_its_own_user() -> None:
    unit = UNITS / "straat-kiosk.service"
    assert values(unit, "TTYPath") == ["/dev/tty1"]
    assert values(unit, "StandardInput") == ["tty"]
    assert values(unit, "User") == ["straat-kiosk"]
    assert "getty@tty1.service" in " ".join(values(unit, "Conflicts"))
    assert values(unit, "NoNewPrivileges") == ["yes"]
    assert values(unit, "CapabilityBoundingSet") == [""]


# ---- sd_notify -------------------------------------------------------------------------------


@pytest.fixture
def listener(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """What systemd does for Type=notify: an AF_UNIX datagram socket in NOTIFY_SOCKET."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


def test_notify_sends_ready_and_watchdog(listener: socket.socket) -> None:
    assert sdnotify.notify("READY=1")
    assert listener.recv(4096) == b"READY=1"
    assert sdnotify.notify("WATCHDOG=1")
    assert listener.recv(4096) == b"WATCHDOG=1"
    assert sdnotify.notify("STATUS=serving 2 kiosks\nSTOPPING=1")
    assert listener.recv(4096) == b"STATUS=serving 2 kiosks\nSTOPPING=1"


def test_notify_from_another_process(listener: socket.socket) -> None:
    code = "from hub.site.sdnotify import notify; raise SystemExit(0 if notify('READY=1') else 1)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=os.environ.copy())
    assert done.returncode == 0
    assert listener.recv(4096) == b"READY=1"


def test_notify_abstract_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"straat-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(5)
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert sdnotify.notify("READY=1")
        assert sock.recv(4096) == b"READY=1"
    finally:
        sock.close()


def test_notify_outside_systemd_is_a_no_op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.notify("READY=1") is False
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone.sock"))
    assert sdnotify.notify("READY=1") is False


def test_watchdog_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert sdnotify.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "60000000")
    assert sdnotify.watchdog_interval() == 60.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert sdnotify.watchdog_interval() == 60.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert sdnotify.watchdog_interval() is None
    monkeypatch.delenv("WATCHDOG_PID")
    for bad in ("0", "soon", ""):
        monkeypatch.setenv("WATCHDOG_USEC", bad)
        assert sdnotify.watchdog_interval() is None


async def test_watchdog_loop_pings_at_half_the_interval(
    listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # 0.2 s: a ping every 0.1 s
    listener.setblocking(False)
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(sdnotify.watchdog_loop())
    pings: list[tuple[float, bytes]] = []
    try:
        async with asyncio.timeout(10):
            while len(pings) < 4:
                ping = await loop.sock_recv(listener, 4096)
                pings.append((loop.time(), ping))
    finally:
        task.cancel()
    assert {ping for _, ping in pings} == {b"WATCHDOG=1"}, pings
    gaps = [b[0] - a[0] for a, b in zip(pings, pings[1:], strict=False)]
    # half the interval apart: never a burst (a busy machine can only make the gaps longer)
    assert min(gaps) > 0.05, gaps


async def test_watchdog_loop_without_a_watchdog_waits_to_be_cancelled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    task = asyncio.create_task(sdnotify.watchdog_loop())
    for _ in range(5):  # let it run to where it waits (a loop that returned would be done)
        await asyncio.sleep(0)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
