"""A real kiosk process tells a real hub its version; the dashboard's kiosk list shows it."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from tests.e2e.test_faults_loopback import kiosk, start_hub


def test_the_hub_lists_the_kiosks_installed_version(tmp_path: Path) -> None:
    hub = start_hub(tmp_path, clips=2, size=2000)
    try:
        k = kiosk(tmp_path, hub, "k1", "op1", "--count", "1").start()
        assert k.wait() == 0, k.tail()
        store = hub.store()
        seen = store.kiosk("k1")
        store.close()
        assert seen is not None and seen["version"] == version("annotatiestraat")
    finally:
        hub.kill()
