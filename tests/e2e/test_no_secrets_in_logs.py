"""No PIN in clear anywhere: a real hub with debug logging (-v) and headless kiosks logging in
with a known PIN, with a wrong PIN, and with a wrong PIN offline. Everything the processes
print and every byte of both data folders (databases with their -wal files, caches) is
searched for either PIN; PINs are stored only as scrypt hashes of production strength.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import protocol.pins
from tests.conftest import ROOT, HubProc, make_hub
from tests.faults import KioskProc, seed_clips, write_project

pytestmark = pytest.mark.slow

#: Eight digits: long enough not to turn up by chance in hex hashes, uuids or timestamps.
PIN = "73915864"
WRONG = "86420135"
OPERATOR = "opS"


def verbose(hub: HubProc) -> HubProc:
    """Start `hub` as `python -m hub.cli -v serve …` (HubProc has no slot for group options)."""
    hub.prefix = ["bash", "-c", 'py="$1"; shift 3; exec "$py" -m hub.cli -v "$@"', "hub-v"]
    return hub


def default_scrypt_n() -> int:
    """SCRYPT_N as protocol/pins.py sets it (the tests' own process lowers it at run time)."""
    out = subprocess.run(
        [sys.executable, "-c", "import protocol.pins as p; print(p.SCRYPT_N)"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return int(out.stdout)


def test_production_scrypt_parameters() -> None:
    assert default_scrypt_n() >= 2**14
    assert protocol.pins.SCRYPT_R >= 8 and protocol.pins.SCRYPT_P >= 1


HASH = re.compile(rb"scrypt\$(\d+)\$(\d+)\$(\d+)\$([0-9a-f]+)\$([0-9a-f]+)")
#: What a kiosk keeps instead (protocol.pins.kiosk_verifier): same parameters, a keyed tag.
VERIFIER = re.compile(rb"kv1\$(\d+)\$(\d+)\$(\d+)\$([0-9a-f]+)\$([0-9a-f]+)")


def hashes_in(
    path: Path, pattern: re.Pattern[bytes] = HASH
) -> list[tuple[int, int, int, int, int]]:
    """(N, r, p, salt bytes, digest bytes) of every scrypt hash (or verifier) in a file."""
    return [
        (int(n), int(r), int(p), len(salt) // 2, len(dk) // 2)
        for n, r, p, salt, dk in pattern.findall(path.read_bytes())
    ]


def files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.mark.timeout(120)
def test_no_pin_in_logs_or_files(tmp_path: Path) -> None:
    hub = make_hub(tmp_path, operators=0)
    hub.project = write_project(tmp_path / "project.toml")
    seed_clips(hub.data, 20, 2000)
    # the operator is made the way staff make one: the CLI, production scrypt parameters
    made = subprocess.run(
        [sys.executable, "-m", "hub.cli", "operator", "add", OPERATOR, "--name", "Sam"]
        + ["--data", str(hub.data)],
        input=f"{PIN}\n{PIN}\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    hub.extra = ["--open-pairing", "--no-zeroconf"]
    verbose(hub).start()
    outputs = [made.stdout, made.stderr]
    kiosk_dir = tmp_path / "k1"

    def run_kiosk(pin: str, *extra: str) -> KioskProc:
        args = [*hub_args(hub), "--operator", OPERATOR, "--pin", pin, "--drain", "10", *extra]
        k = KioskProc("k1", kiosk_dir, args).start()
        k.wait(timeout=60)
        outputs.append("\n".join(json.dumps(e) for e in k.events))
        return k

    try:
        ok = run_kiosk(PIN, "--count", "3")
        assert ok.count("labelled") == 3, ok.tail()
        wrong = run_kiosk(WRONG, "--count", "1")
        assert wrong.count("login_failed") == 1 and wrong.count("labelled") == 0, wrong.tail()
    finally:
        hub.kill(signal.SIGTERM)
    # offline: the kiosk checks the PIN against its cached roster
    offline = run_kiosk(WRONG, "--count", "1", "--wait-online", "0.5")
    assert offline.count("login_failed") == 1, offline.tail()
    outputs.append("".join(hub.log))

    assert any(" DEBUG " in line for line in hub.log), "the hub did not log at debug level"
    assert any("bad_pin" in out for out in outputs), "the wrong PIN was never refused"
    for text in outputs:
        for pin in (PIN, WRONG):
            assert pin not in text, f"a PIN in process output:\n{text}"
    searched = files(hub.data) + files(kiosk_dir)
    assert any(p.name == "hub.db" for p in searched) and any(p.suffix == ".db" for p in searched)
    for path in searched:
        data = path.read_bytes()
        for pin in (PIN, WRONG):
            assert pin.encode() not in data, f"a PIN in {path}"

    # stored as scrypt hashes at the hub, as per-kiosk verifiers over them in the kiosk's
    # roster cache (never the hub's hash), production strength
    hub_hashes = [h for p in files(hub.data) if p.suffix == ".db" for h in hashes_in(p)]
    kiosk_dbs = [p for p in files(kiosk_dir) if ".db" in p.name]
    kiosk_hashes = [h for p in kiosk_dbs for h in hashes_in(p, VERIFIER)]
    assert hub_hashes and kiosk_hashes
    assert not [h for p in kiosk_dbs for h in hashes_in(p)], "the hub's PIN hash at a kiosk"
    for n, r, p, salt, dk in hub_hashes + kiosk_hashes:
        assert n >= 2**14 and n & (n - 1) == 0, n
        assert r >= 8 and p >= 1 and salt >= 16 and dk >= 32


def hub_args(hub: HubProc) -> list[str]:
    """Options that point a kiosk at `hub` (whatever this tree's HubProc offers)."""
    kiosk_args = getattr(hub, "kiosk_args", None)
    return kiosk_args() if callable(kiosk_args) else ["--hub", hub.endpoint]
