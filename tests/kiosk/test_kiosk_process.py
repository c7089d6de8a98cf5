"""The kiosk process as `straat-kiosk` starts it: what it leaves out of memory still works."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kiosk.cli import UNUSED_IMPORTS

PROBE = """
import sys
from kiosk.cli import skip_unused_imports
skip_unused_imports()
import asyncio
import zmq, zmq.asyncio
import kiosk.app, kiosk.player, kiosk.runtime, kiosk.screens.label

async def echo() -> bytes:
    ctx = zmq.asyncio.Context()
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    port = a.bind_to_random_port("tcp://127.0.0.1")
    b.connect(f"tcp://127.0.0.1:{port}")
    await b.send(b"ping")
    got = await asyncio.wait_for(a.recv(), 5)
    a.close(0); b.close(0); ctx.term()
    return got

assert asyncio.run(echo()) == b"ping"
print(" ".join(name for name in sys.argv[1:] if sys.modules.get(name) is not None))
"""


def test_the_kiosk_runs_without_the_modules_it_leaves_out() -> None:
    """numpy/pandas (sqlite-utils' optional extras) and ssl (asyncio's optional TLS) are not
    loaded in the kiosk process (≈ 85 MB and ≈ 1.2 MiB), and the kiosk's modules, asyncio
    and ZeroMQ still import and run without them."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "numpy", "pandas", "ssl", *UNUSED_IMPORTS],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [], f"loaded in the kiosk process: {done.stdout}"


def test_a_module_left_out_fails_loudly_not_silently() -> None:
    """Code that really needed one would fail at its import, with the module's name."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from kiosk.cli import skip_unused_imports\nskip_unused_imports()\nimport ssl",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode == 0:
        pytest.fail("ssl imported in a kiosk process")
    assert "ssl" in done.stderr
