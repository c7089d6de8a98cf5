"""One version everywhere: the installed distribution's (`protocol.version`)."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from hub.service import HUB_VERSION
from kiosk.config import KioskConfig
from kiosk.runtime import build
from protocol.version import package_version
from tests.conftest import ROOT

INSTALLED = version("annotatiestraat")


def test_package_version_is_the_installed_distributions() -> None:
    assert package_version() == INSTALLED == HUB_VERSION


@pytest.mark.parametrize(
    ("module", "prog"), [("hub.cli", "straat-hub"), ("kiosk.cli", "straat-kiosk")]
)
def test_both_commands_print_it(module: str, prog: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", module, "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    ).stdout
    assert out.strip() == f"{prog}, version {INSTALLED}"


def test_the_kiosk_says_it_in_hello(tmp_path: Path) -> None:
    engine, link, _ = build(
        KioskConfig(kiosk_id="k1", data=str(tmp_path), hub="tcp://127.0.0.1:9", hub_key="x" * 40)
    )
    assert engine.make_hello().version == INSTALLED
    engine.store.close()


def test_protocol_reads_it_without_hub_or_kiosk() -> None:
    """`protocol.version` alone, in a fresh interpreter: neither hub nor kiosk gets imported."""
    code = (
        "import sys; from protocol.version import package_version as v; print(v()); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('hub', 'kiosk')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.split("\n")
    assert out[:2] == [INSTALLED, "[]"]
