"""Breaks reach the staff dashboard: a real hub process, the Textual kiosk over ZeroMQ, the
hub killed while the operator is on a break (the break waits in the kiosk's outbox)."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from datetime import datetime
from pathlib import Path

from hub.store.dashboard import day_start
from kiosk.app import KioskApp
from kiosk.config import KioskConfig
from kiosk.player import MpvPlayer
from kiosk.runtime import build
from kiosk.screens.break_screen import BreakScreen
from kiosk.screens.label import LabelScreen
from protocol import messages as m
from tests.conftest import PIN, HubProc
from tests.e2e.test_walking_skeleton import login, wait_for


class Clock:
    """The kiosk's monotonic clock, moved on by hand (a break of minutes in a second)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def api(hub: HubProc, token: str, path: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{hub.web_port}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


async def test_a_break_taken_while_the_hub_is_down_reaches_the_dashboard_once(
    hub: HubProc, pair_code: str, tmp_path: Path
) -> None:
    from hub.store.accounts import create_token

    store = hub.store()
    token = create_token(store, "staff", "e2e")
    store.close()
    # nobody has reported a break yet: the dashboard says "not reported"
    (before,) = [o for o in api(hub, token, "/api/v1/operators")["operators"] if o["id"] == "op1"]
    assert before["breaks_today"] is None

    clock = Clock()
    config = KioskConfig(
        kiosk_id="kiosk-1",
        data=str(tmp_path / "kiosk"),
        interfaces=["127.0.0.1"],
        pair_code=pair_code,
        hub_id=hub.hub_id,
    )
    engine, link, _browser = build(config)
    app = KioskApp(engine, MpvPlayer(vo="null"), link, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(lambda: app.engine.online, 60, why=lambda: app.link.last_error)
        await login(pilot, "op1", PIN)
        await wait_for(lambda: isinstance(app.screen, LabelScreen))
        await pilot.press("p")  # a break of one's own
        assert isinstance(app.screen, BreakScreen)
        hub.kill(signal.SIGKILL)
        await wait_for(lambda: not app.engine.online, 30)
        clock.offset += 7 * 60
        await pilot.press("enter")
        assert isinstance(app.screen, LabelScreen)
        [taken] = [x for x in app.engine.store.outbox() if isinstance(x, m.BreakTaken)]
        assert taken.seconds >= 7 * 60 and not taken.enforced and taken.kind == "voluntary"
        hub.start()  # same ports; the kiosk reconnects and drains its outbox
        await wait_for(lambda: app.engine.store.outbox_count() == 0, 60)

    store = hub.store()
    rows = store.breaks()
    store.close()
    assert [(r["uuid"], r["operator"], r["kiosk"]) for r in rows] == [
        (taken.uuid, "op1", "kiosk-1")
    ]
    assert abs(rows[0]["started_at"] - taken.started_at) < 1e-6
    ops = {o["id"]: o for o in api(hub, token, "/api/v1/operators")["operators"]}
    # the break began 7 minutes ago: yesterday when the test runs just after midnight
    today = int(day_start(time.time()) <= taken.started_at)
    assert ops["op1"]["breaks_today"] == today and ops["op1"]["enforced_breaks_today"] == 0
    assert ops["op1"]["break_min_today"] == round(today * taken.seconds / 60, 1)
    assert ops["op2"]["breaks_today"] == 0
    began = datetime.fromtimestamp(taken.started_at).date().isoformat()
    statement = api(hub, token, f"/api/v1/operators/op1/statement?from={began}")
    assert statement["breaks"] == 1 and len(statement["break_list"]) == 1
