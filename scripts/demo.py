"""`make demo`: sample clips, a hub, and a kiosk TUI in this terminal that finds it by zeroconf.

Ctrl+C (or Ctrl+Q) stops the kiosk, then the hub.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_OPERATOR = "demo"
DEMO_PIN = "1234"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / "demo-data")
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--lang", default="nl", choices=["nl", "en"])
    args = parser.parse_args()
    data: Path = args.data.resolve()
    clips = data / "clips"
    if not clips.exists() or not any(clips.iterdir()):
        from hub.samples import make_sample_clips

        print(f"making {args.clips} sample clips with ffmpeg in {clips} …", flush=True)
        make_sample_clips(clips, count=args.clips, seconds=6.0)

    from hub.store import Store
    from protocol.pins import hash_pin

    (data / "hub").mkdir(parents=True, exist_ok=True)
    store = Store(data / "hub" / "hub.db")
    if store.operator(DEMO_OPERATOR) is None:
        store.add_operator(DEMO_OPERATOR, "Demo", hash_pin(DEMO_PIN))
    store.close()

    log = (data / "hub.log").open("w")
    hub = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub.cli",
            "serve",
            "--project",
            str(ROOT / "projects" / "geweld.toml"),
            "--data",
            str(data / "hub"),
            "--clips",
            str(clips),
            "--bind",
            "tcp://127.0.0.1:0",
            "--web-host",
            "127.0.0.1",
            "--web-port",
            "8080",
            "--interface",
            "127.0.0.1",
            "--open-pairing",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while ": ready" not in (data / "hub.log").read_text():
            if hub.poll() is not None or time.monotonic() > deadline:
                print((data / "hub.log").read_text())
                print("the hub did not start; its log is above", file=sys.stderr)
                return 1
            time.sleep(0.2)
        print(f"hub running (log: {data / 'hub.log'}); starting the kiosk …", flush=True)

        from kiosk.app import KioskApp
        from kiosk.config import KioskConfig
        from kiosk.player import MpvPlayer
        from kiosk.runtime import build

        config = KioskConfig(
            kiosk_id="demo-kiosk",
            data=str(data / "kiosk"),
            interfaces=["127.0.0.1"],
            trust_first_hub=True,
            language=args.lang,
        )
        engine, link, _ = build(config)
        hint = f"demo: operator {DEMO_OPERATOR}, PIN {DEMO_PIN}"
        KioskApp(engine, MpvPlayer(vo=config.vo), link, language=args.lang, hint=hint).run()
    finally:
        if hub.poll() is None:
            os.killpg(hub.pid, signal.SIGTERM)
            try:
                hub.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(hub.pid, signal.SIGKILL)
        print("demo stopped: hub and kiosk are down.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
