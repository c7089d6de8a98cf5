"""`make demo`: sample clips, a hub, and a kiosk TUI in this terminal that finds it by zeroconf.

The kiosk's login screen shows the demo operator and PIN, and beside them the dashboard's
address with a staff and a lead account, so the same person can label at the kiosk and watch
kiosks, operators, progress and quality in a browser. The accounts are made for the demo's
own hub, which listens on 127.0.0.1 only.

Ctrl+C (or Ctrl+Q) stops the kiosk, then the hub.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_OPERATOR = "demo"
DEMO_PIN = "1234"
#: Web accounts of the demo hub: (username, role, password).
DEMO_USERS = (("staff", "staff", "staff-demo"), ("lead", "lead", "lead-demo"))


def credentials(url: str) -> str:
    """The lines shown on the kiosk's login screen (and printed when the demo stops); short
    enough for its login box."""
    users = [f"{role}: {name} / {password}" for name, role, password in DEMO_USERS]
    return "\n".join(
        [f"demo: operator {DEMO_OPERATOR}, PIN {DEMO_PIN}", f"dashboard {url}", *users]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / "demo-data")
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--lang", default="nl", choices=["nl", "en"])
    parser.add_argument("--web-port", type=int, default=8080, help="0: any free port")
    args = parser.parse_args()
    data: Path = args.data.resolve()
    clips = data / "clips"
    if not clips.exists() or not any(clips.iterdir()):
        from scripts.samples import make_sample_clips

        print(f"making {args.clips} sample clips with ffmpeg in {clips} …", flush=True)
        make_sample_clips(clips, count=args.clips, seconds=6.0)

    from hub.site.parent import die_with_parent
    from hub.store import Store
    from hub.store.accounts import add_user
    from kiosk.logs import setup_logging
    from protocol.pins import hash_pin

    (data / "hub").mkdir(parents=True, exist_ok=True)
    store = Store(data / "hub" / "hub.db")
    if store.operator(DEMO_OPERATOR) is None:
        store.add_operator(DEMO_OPERATOR, "Demo", hash_pin(DEMO_PIN))
    for name, role, password in DEMO_USERS:
        add_user(store, name, role, password)
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
            str(args.web_port),
            "--interface",
            "127.0.0.1",
            "--open-pairing",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
        preexec_fn=die_with_parent,  # a closed terminal or a killed demo takes its hub along
    )
    hint = ""
    try:
        deadline = time.monotonic() + 120
        while ": ready" not in (data / "hub.log").read_text():
            if hub.poll() is not None or time.monotonic() > deadline:
                print((data / "hub.log").read_text())
                print("the hub did not start; its log is above", file=sys.stderr)
                return 1
            time.sleep(0.2)
        started = (data / "hub.log").read_text()
        found = re.search(r"web on (http://\S+)", started)
        url = found.group(1) if found else f"http://127.0.0.1:{args.web_port}/"
        hub_id = re.search(r"hub (\S+): ZeroMQ on port", started)
        hint = credentials(url)
        print(f"hub running (log: {data / 'hub.log'}); starting the kiosk …", flush=True)
        print(hint, flush=True)
        setup_logging(data / "kiosk")  # the kiosk's warnings: demo-data/kiosk/logs/kiosk.log

        from kiosk.app import KioskApp
        from kiosk.config import KioskConfig
        from kiosk.runtime import build
        from kiosk.video_setup import choose, open_player

        config = KioskConfig(
            kiosk_id="demo-kiosk",
            data=str(data / "kiosk"),
            interfaces=["127.0.0.1"],
            trust_first_hub=True,
            # this demo's hub, not another one advertising on the same machine
            hub_id=hub_id.group(1) if hub_id else None,
            language=args.lang,
        )
        # the video output for this machine, probed in child processes as straat-kiosk does
        # (with a DISPLAY: a window, falling back to the terminal when no output works)
        choice = choose(config)
        engine, link, _ = build(config)
        KioskApp(
            engine,
            open_player(config, choice),
            link,
            language=args.lang,
            hint=hint,
            video_choice=choice,
            window_layout=config.window_layout,
        ).run()
    finally:
        if hub.poll() is None:
            os.killpg(hub.pid, signal.SIGTERM)
            try:
                hub.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(hub.pid, signal.SIGKILL)
        if hint:
            print(hint)
        print("demo stopped: hub and kiosk are down.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
