"""The kiosk's logout goes through its outbox with its own time to a hub that takes it
(`CAP_LOGOUT_AT` in the last Welcome, kept across restarts): made offline, it reaches the hub
when the link is back and stays until acknowledged. Another hub gets the plain logout once
(engine only, a fake link records what it sends)."""

from __future__ import annotations

import time
from pathlib import Path

from kiosk.engine import KioskEngine
from protocol import messages as m
from protocol.constants import CAP_LOGOUT_AT, CAP_RESUME
from protocol.pins import kiosk_verifier
from tests.kiosk.fake_link import FakeLink
from tests.kiosk.test_identity_engine import PIN, SCHEMA, STORED, make_engine

ROSTER = [m.RosterEntry(operator="op1", name="One", pin_hash=kiosk_verifier(STORED, "k1"))]


def welcome(caps: list[str] | None = None) -> m.Welcome:
    return m.Welcome(hub_id="h", project=SCHEMA, roster=ROSTER, capabilities=caps or [])


def logouts(sent: list) -> list[m.Logout]:
    return [x for x in sent if isinstance(x, m.Logout)]


def waiting(engine: KioskEngine) -> list[m.Logout]:
    """The logouts in the kiosk's outbox."""
    return logouts(engine.store.outbox())


def back_online(engine: KioskEngine, link: FakeLink, caps: list[str] | None = None) -> None:
    """The link comes up and the hub's Welcome lists `caps`."""
    link.online = True
    engine.on_state("online")
    engine.on_message(welcome(caps))


async def welcomed(tmp_path: Path, caps: list[str]) -> tuple[KioskEngine, FakeLink]:
    """A kiosk that met a hub listing `caps`, now offline with op1 logged in."""
    engine, link = make_engine(tmp_path)
    back_online(engine, link, caps)
    link.online = False
    engine.on_state("offline")
    assert await engine.login("op1", PIN) == (True, "")  # offline: the cached verifier
    link.take()
    return engine, link


def test_the_kiosk_says_it_takes_logout_times(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path)
    assert CAP_LOGOUT_AT in engine.make_hello().capabilities


async def test_an_offline_logout_waits_in_the_outbox_with_its_time(tmp_path: Path) -> None:
    engine, link = await welcomed(tmp_path, [CAP_RESUME, CAP_LOGOUT_AT])
    before = time.time()
    engine.logout()
    after = time.time()
    assert engine.operator is None and logouts(link.take()) == []  # offline: nothing sent
    (kept,) = waiting(engine)
    assert kept.operator == "op1" and kept.uuid and before <= kept.at <= after

    # the kiosk restarts (a new engine on the same store), then the link comes back
    engine.store.close()
    engine, link = make_engine(tmp_path)
    back_online(engine, link, [CAP_LOGOUT_AT])
    assert kept in logouts(link.take())
    engine.on_message(m.Ack(uuids=[kept.uuid]))
    assert not waiting(engine)


async def test_an_online_logout_is_sent_at_once_and_kept_until_acked(tmp_path: Path) -> None:
    engine, link = await welcomed(tmp_path, [CAP_LOGOUT_AT])
    back_online(engine, link, [CAP_LOGOUT_AT])
    link.take()
    engine.logout()
    (sent,) = logouts(link.take())
    assert sent.uuid and sent.at > 0
    assert engine.store.outbox_count() >= 1  # until the hub acknowledges it
    engine.on_message(m.Ack(uuids=[sent.uuid]))
    assert not waiting(engine)


async def test_a_hub_that_does_not_take_the_time_gets_the_plain_logout_once(
    tmp_path: Path,
) -> None:
    # a logout made offline after a hub that listed it; the link comes back to one that
    # does not (its Welcome lists nothing): the plain Logout, once, and the outbox is clear
    engine, link = await welcomed(tmp_path, [CAP_LOGOUT_AT])
    engine.logout()
    back_online(engine, link)
    assert logouts(link.take()) == [m.Logout(operator="op1")]
    assert not waiting(engine)
    engine.on_state("offline")
    back_online(engine, link)
    assert logouts(link.take()) == []


async def test_a_kiosk_that_never_met_such_a_hub_logs_out_as_before(tmp_path: Path) -> None:
    engine, link = await welcomed(tmp_path, [CAP_RESUME])
    back_online(engine, link, [CAP_RESUME])
    link.take()
    engine.logout()
    assert logouts(link.take()) == [m.Logout(operator="op1")]
    assert not waiting(engine)
