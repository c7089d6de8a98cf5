"""One real line: hub process, zeroconf on loopback, ZeroMQ, mpv (vo=null), Textual kiosk."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.app import KioskApp
from kiosk.config import KioskConfig
from kiosk.player import MpvPlayer
from kiosk.runtime import build
from kiosk.screens.label import LabelScreen
from kiosk.screens.login import LoginScreen
from tests.conftest import PIN, ROOT, HubProc, make_hub


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request: pytest.FixtureRequest, tmp_path: Path, sample_clips: Path) -> Iterator[HubProc]:
    """The hub process, its database in SQLite or in a fresh PostgreSQL database (`--db`)."""
    db_url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    proc = make_hub(tmp_path, db_url=db_url).start(clips=sample_clips)
    yield proc
    proc.kill(signal.SIGTERM)


async def wait_for(predicate, timeout: float = 20.0, step: float = 0.05, why=None) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError(f"condition not reached in time: {why() if why else ''}")
        await asyncio.sleep(step)


def kiosk_app(tmp_path: Path, pair_code: str | None, **kw) -> KioskApp:
    config = KioskConfig(
        kiosk_id=kw.pop("kiosk_id", "kiosk-1"),
        data=str(tmp_path / "kiosk"),
        interfaces=["127.0.0.1"],
        pair_code=pair_code,
        hub_id=kw.pop("hub_id", None),
        **kw,
    )
    engine, link, _browser = build(config)
    return KioskApp(engine, MpvPlayer(vo="null"), link)


async def login(pilot, operator: str, pin: str) -> None:
    await pilot.click("#operator")
    await pilot.press(*operator, "enter", *pin, "enter")


async def test_three_labels_reach_the_hub_once_and_the_export(
    hub: HubProc, pair_code: str, tmp_path: Path
) -> None:
    app = kiosk_app(tmp_path, pair_code, hub_id=hub.hub_id)
    async with app.run_test(size=(100, 30)) as pilot:
        # found by zeroconf, paired, welcomed
        await wait_for(lambda: app.engine.online, 60, why=lambda: app.link.last_error)
        assert app.link.endpoint == hub.endpoint
        # paired with the code: the kiosk shows the hub's key fingerprint for staff to compare
        from protocol.keys import fingerprint

        shown = [n.message for n in app._notifications]
        assert any(fingerprint(hub.public_key) in text for text in shown), shown
        await login(pilot, "op1", PIN)
        await wait_for(lambda: isinstance(app.screen, LabelScreen))
        screen = app.screen
        await wait_for(lambda: screen.current is not None)
        pressed = []
        for key in ["1", "2", "1"]:
            await wait_for(lambda: screen.current is not None)
            clip = screen.current[0]
            await wait_for(lambda: app.player.position() > 0, 10)  # mpv really plays it
            assert clip.name in str(screen.query_one("#clip-name").render())
            pressed.append((clip.sha256, key))
            await pilot.press(key)
        await wait_for(lambda: app.engine.store.outbox_count() == 0)

    store = hub.store()
    labels = store.labels()
    store.close()
    assert len(labels) == 3
    assert len({x["uuid"] for x in labels}) == 3
    values = {"1": "gewelddadig", "2": "niet_gewelddadig"}
    got = {(x["clip"], x["values"][0]) for x in labels}
    assert got == {(sha, values[k]) for sha, k in pressed}
    assert {x["operator"] for x in labels} == {"op1"}
    assert {x["kiosk"] for x in labels} == {"kiosk-1"}

    out = tmp_path / "export"
    subprocess.run(
        [sys.executable, "-m", "hub.cli", "export", "--data", str(hub.data), "--out", str(out)]
        + (["--db", hub.db_url] if hub.db_url else []),
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    rows = [json.loads(line) for line in (out / "v1" / "clips.jsonl").read_text().splitlines()]
    by_clip = {r["clip_id"]: r for r in rows}
    for sha, key in pressed:
        assert by_clip[sha]["label"] == values[key]
        assert by_clip[sha]["n_votes"] == 1
    assert (out / "v1" / "clips.csv").read_text().count("\n") == len(rows) + 1


async def test_wrong_pin_is_refused_and_nothing_is_stored(
    hub: HubProc, pair_code: str, tmp_path: Path
) -> None:
    app = kiosk_app(tmp_path, pair_code, hub_id=hub.hub_id)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(lambda: app.engine.online, 30)
        await login(pilot, "op1", "0000")
        message = app.screen.query_one("#login-message")
        await wait_for(lambda: "klopt niet" in str(message.render()))
        assert isinstance(app.screen, LoginScreen)
        assert app.engine.operator is None
    store = hub.store()
    assert store.count_labels() == 0
    assert store.conn.execute("SELECT count(*) FROM assignments").fetchone()[0] == 0
    assert store.operator("op1")["failed"] == 1
    store.close()


async def test_unpaired_kiosk_gets_nothing(hub: HubProc, tmp_path: Path) -> None:
    app = kiosk_app(tmp_path, pair_code="000000", hub_id=hub.hub_id)
    async with app.run_test(size=(100, 30)):
        await wait_for(lambda: app.engine.hub_error != "", 20)
        assert not app.engine.online
    store = hub.store()
    assert store.kiosks() == []
    store.close()
