"""The engine's events reach the screens as Textual messages: one message class per event,
handled by the `on_…` method Textual names after it, in a real KioskApp on a real engine
(the label screen also polls for work every 0.25 s: the test of new work watches for the
message's call, not only for the clip)."""

from __future__ import annotations

import hashlib
import re
import time
import typing
from typing import Any

import pytest

from kiosk import engine_events as ev
from kiosk.messages import MESSAGES, engine_message
from kiosk.screens.label import LabelScreen
from kiosk.screens.login import LoginScreen
from protocol import messages as m
from tests.kiosk.conftest import OPERATOR, Kiosk, login

SIZE = (100, 32)

EXAMPLES: list[ev.EngineEvent] = [
    ev.StatusChanged(status="online", outbox=2),
    ev.Welcomed(hub_id="hub-1"),
    ev.QueueGrew(added=3),
    ev.HubProblem(code="unpaired", detail="no code"),
    ev.Paired(fingerprint="ab:cd"),
    ev.LoggedIn(operator="op1", operator_name="Sam"),
    ev.LoggedOut(),
    ev.FetchStarted(sha256="00" * 32, offset=0),
    ev.ClipReady(sha256="00" * 32),
    ev.Labelled(uuid="u-1", outbox=1),
    ev.TrainingFeedback(answer="gewelddadig", correct=True),
]


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_every_engine_event_has_a_message_of_its_own_name() -> None:
    kinds = typing.get_args(ev.EngineEvent)
    assert {type(event) for event in EXAMPLES} == set(kinds)
    assert set(MESSAGES) == set(kinds)
    for event in EXAMPLES:
        message = engine_message(event)
        assert type(message).__name__ == type(event).__name__
        assert message.handler_name == f"on_{snake(type(event).__name__)}"
        assert message.event is event


def notes(kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The app's notifications from now on, as (message, severity)."""
    seen: list[tuple[str, str]] = []
    notify = kiosk.app.notify

    def record(message: str, **kw: Any) -> None:  # noqa: ANN401
        seen.append((message, kw.get("severity", "information")))
        notify(message, **kw)

    monkeypatch.setattr(kiosk.app, "notify", record)
    return seen


async def wait_for(pilot, done, timeout: float = 5.0) -> None:  # noqa: ANN001
    end = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < end, "the app did not get there in time"
        await pilot.pause(0.02)


async def test_hub_problems_and_pairing_reach_the_login_screen(kiosk_factory, monkeypatch) -> None:
    kiosk = kiosk_factory(language="en")
    async with kiosk.app.run_test(size=SIZE) as pilot:
        seen = notes(kiosk, monkeypatch)
        screen = kiosk.app.screen
        assert isinstance(screen, LoginScreen)
        message = screen.query_one("#login-message")

        kiosk.engine.emit(ev.HubProblem(code="hub_key_mismatch", detail="key XYZ"))
        await wait_for(pilot, lambda: seen)
        assert seen[0][1] == "error" and "key XYZ" in seen[0][0]
        assert "not paired" not in str(message.render())  # another hub's key: not "unpaired"

        kiosk.engine.emit(ev.HubProblem(code="unpaired", detail=""))
        await wait_for(pilot, lambda: "not paired" in str(message.render()))

        kiosk.engine.emit(ev.Paired(fingerprint="ab:cd:ef"))
        await wait_for(pilot, lambda: len(seen) == 2)
        assert "ab:cd:ef" in seen[1][0] and seen[1][1] == "information"


async def test_work_from_the_hub_reaches_a_screen_that_waits_for_it(
    kiosk_factory, monkeypatch
) -> None:
    kiosk = kiosk_factory(clips=1)
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("1")
        screen = kiosk.app.screen
        assert isinstance(screen, LabelScreen) and screen.session is None  # no more work

        data = b"a clip from the hub " * 40
        sha = hashlib.sha256(data).hexdigest()
        kiosk.engine.cache.path(sha).write_bytes(data)
        kiosk.store.cache_touch(sha, len(data), complete=True)
        clip = m.ClipRef(clip_id=sha, sha256=sha, size=len(data), name="new-clip", duration=4.0)
        assign = m.Assign(
            operator=OPERATOR, lease_id="lease-2", expires_at=time.time() + 3600, clips=[clip]
        )
        arrived: list[bool] = []
        work_arrived = screen.work_arrived

        def spy() -> None:
            arrived.append(True)
            work_arrived()

        monkeypatch.setattr(screen, "work_arrived", spy)
        kiosk.engine.on_message(assign)  # the engine says QueueGrew; the screen plays it
        await wait_for(pilot, lambda: arrived and screen.session is not None)
        assert screen.session is not None and screen.session.clip.sha256 == sha
