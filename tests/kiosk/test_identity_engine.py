"""The kiosk's side of operator identity, engine only (a fake link records what it sends):
an offline login's proof goes into the outbox before the labels, refused items are held
until the hub sees a login, and a refused work request still logs in again."""

from __future__ import annotations

from pathlib import Path

from kiosk.cache import ClipCache
from kiosk.engine import KioskEngine
from kiosk.store import KioskStore
from protocol import messages as m
from protocol.pins import hash_pin, kiosk_verifier, verify_login_proof
from tests.kiosk.conftest import open_kiosk_store
from tests.kiosk.fake_link import FakeLink

PIN = "2468"
STORED = hash_pin(PIN, n=2**10)
SCHEMA = m.ProjectSchema(
    name="p", version=1, labels=[m.LabelDef(value="a", nl="a", en="a", key="1")]
)


def make_engine(tmp_path: Path) -> tuple[KioskEngine, FakeLink]:
    store = open_kiosk_store(tmp_path / "kiosk.db")
    roster = [m.RosterEntry(operator="op1", name="One", pin_hash=kiosk_verifier(STORED, "k1"))]
    store.save_welcome(m.Welcome(hub_id="h", project=SCHEMA, roster=roster))
    engine = KioskEngine("k1", store, ClipCache(tmp_path / "clips", store))
    link = FakeLink()
    link.online = False
    engine.attach(link)
    return engine, link


async def test_offline_login_goes_first_and_proves_the_pin(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path)
    assert await engine.login("op1", "1111") == (False, "bad_pin")
    assert engine.store.outbox() == []  # a wrong PIN queues nothing
    assert await engine.login("op1", PIN) == (True, "")
    clip = m.ClipRef(clip_id="c", sha256="ab" * 32, size=1)
    engine.submit(clip, None, ["a"])
    first, second = engine.store.outbox()
    assert isinstance(first, m.OfflineLogin) and isinstance(second, m.Label)
    assert verify_login_proof(STORED, first.proof, "k1", "op1", first.uuid, first.at)
    assert not verify_login_proof(STORED, first.proof, "k2", "op1", first.uuid, first.at)


async def test_refused_items_are_held_until_the_hub_sees_a_login(tmp_path: Path) -> None:
    engine, link = make_engine(tmp_path)
    await engine.login("op1", PIN)
    engine.submit(m.ClipRef(clip_id="c", sha256="ab" * 32, size=1), None, ["a"])
    link.online = True
    engine.on_state("online")
    engine.sync()
    sent = link.take()
    label = next(x for x in sent if isinstance(x, m.LabelBatch)).labels[0]
    engine.on_message(m.Error(code="not_logged_in", detail="d", ref=label.uuid))
    assert engine.store.outbox_count() == 2  # kept: the proof and the label
    engine._go_back()
    engine.sync()
    resent = link.take()
    assert not any(isinstance(x, m.LabelBatch) for x in resent)  # held back
    engine.on_message(m.LoginResult(operator="op1", ok=True))
    again = link.take()
    assert any(isinstance(x, m.LabelBatch) for x in again)  # sent again once logged in


async def test_a_refused_work_request_logs_in_again(tmp_path: Path) -> None:
    engine, link = make_engine(tmp_path)
    await engine.login("op1", PIN)
    link.online = True
    link.take()
    engine.on_message(m.Error(code="not_logged_in", detail="log in first", ref="op1"))
    assert any(isinstance(x, m.Login) and x.operator == "op1" for x in link.take())


def test_the_kiosk_database_is_private_whatever_the_umask(tmp_path: Path) -> None:
    import os

    folder = tmp_path / "kiosk-data"
    old = os.umask(0o022)
    try:
        folder.mkdir()
        (folder / "kiosk.db").touch(mode=0o644)  # as an older release left it
        store = KioskStore(folder / "kiosk.db")
        store.keypair()
    finally:
        os.umask(old)
    try:
        assert folder.stat().st_mode & 0o777 == 0o700
        for p in folder.glob("kiosk.db*"):
            assert p.stat().st_mode & 0o777 == 0o600, (p, oct(p.stat().st_mode))
    finally:
        store.close()
