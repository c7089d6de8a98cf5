"""The kiosk's side of carrying on a session after a reconnect (engine only, a fake link
records what it sends): `Resume` to a hub that lists it in Welcome, the PIN to any other hub,
and the PIN when the hub refuses the resume."""

from __future__ import annotations

from pathlib import Path

from kiosk.engine import KioskEngine
from protocol import messages as m
from protocol.constants import CAP_RESUME
from tests.kiosk.fake_link import FakeLink
from tests.kiosk.test_identity_engine import PIN, SCHEMA, make_engine


async def logged_in(tmp_path: Path) -> tuple[KioskEngine, FakeLink]:
    engine, link = make_engine(tmp_path)
    assert await engine.login("op1", PIN) == (True, "")  # offline: the cached verifier
    link.online = True
    engine.on_state("online")
    link.take()
    return engine, link


def logins(sent: list) -> list:
    return [x for x in sent if isinstance(x, m.Login | m.Resume)]


def test_the_kiosk_says_it_takes_resumes(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path)
    assert CAP_RESUME in engine.make_hello().capabilities


async def test_a_hub_that_takes_resumes_gets_one_and_no_pin(tmp_path: Path) -> None:
    engine, link = await logged_in(tmp_path)
    engine.on_message(m.Welcome(hub_id="h", project=SCHEMA, capabilities=[CAP_RESUME]))
    assert logins(link.take()) == [m.Resume(operator="op1")]
    engine.on_message(m.LoginResult(operator="op1", ok=True, name="One"))
    assert engine._hub_logged_in
    assert engine.operator == "op1"


async def test_a_hub_of_the_previous_release_gets_the_pin(tmp_path: Path) -> None:
    engine, link = await logged_in(tmp_path)
    engine.on_message(m.Welcome(hub_id="h", project=SCHEMA))  # no capabilities
    assert logins(link.take()) == [m.Login(operator="op1", pin=PIN)]


async def test_a_refused_resume_falls_back_to_the_pin(tmp_path: Path) -> None:
    engine, link = await logged_in(tmp_path)
    engine.on_message(m.Welcome(hub_id="h", project=SCHEMA, capabilities=[CAP_RESUME]))
    link.take()
    engine.on_message(m.LoginResult(operator="op1", ok=False, reason="no_session"))
    assert logins(link.take()) == [m.Login(operator="op1", pin=PIN)]
    assert not engine._hub_logged_in and engine.operator == "op1"  # still at work here
    engine.on_message(m.LoginResult(operator="op1", ok=True, name="One"))
    assert engine._hub_logged_in


async def test_after_a_logout_nothing_is_resumed(tmp_path: Path) -> None:
    engine, link = await logged_in(tmp_path)
    engine.logout()
    link.take()
    engine.on_message(m.Welcome(hub_id="h", project=SCHEMA, capabilities=[CAP_RESUME]))
    assert logins(link.take()) == []
