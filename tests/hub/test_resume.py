"""A kiosk carries on an operator's session after a reconnect without a PIN check (`Resume`),
at the same or another process of the site (two services on one store here), and only that:
what the store says about this kiosk's own login decides, never what the message says."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import msgspec
import pytest

import hub.service as service_module
from hub.service import HubService
from hub.store.store import LOCKOUT_AFTER
from protocol import codec
from protocol import messages as m
from protocol.constants import CAP_RESUME
from protocol.pins import hash_pin, login_proof

from .conftest import make_service, open_store

CAPS = ["labels", "fetch", CAP_RESUME]


#: every PIN the hub checked (scrypt), in a test
pin_checks: list[str] = []


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[HubService, HubService]:
    """Two processes of one site (one database): a login at the first, a resume at the
    second. Every PIN check is counted (`pin_checks`)."""
    path = tmp_path / "hub.db"
    store = open_store(path)
    media = tmp_path / "media"
    media.mkdir()
    store.add_clip("ab" * 32, 10, 2.0, "clip", want=2)
    for op in ("op1", "op2"):
        store.add_operator(op, op.upper(), hash_pin("1234", n=2**10))
    for kiosk in ("k1", "k2"):
        store.pair_kiosk(kiosk, f"KEY-{kiosk}")
    first, second = make_service(store, media), make_service(open_store(path), media)
    for s in (first, second):
        s.shared_store = True
    real = service_module.verify_pin
    pin_checks.clear()

    def counted(pin: str, stored: str) -> bool:
        pin_checks.append(pin)
        return real(pin, stored)

    monkeypatch.setattr(service_module, "verify_pin", counted)
    return first, second


def hello(service: HubService, kiosk: str, caps: list[str] = CAPS) -> m.Welcome:
    (welcome,) = service.handle(
        kiosk, m.Hello(kiosk_id=kiosk, version="t", capabilities=caps), f"KEY-{kiosk}"
    )
    assert isinstance(welcome, m.Welcome), welcome
    return welcome


def login(service: HubService, kiosk: str, op: str) -> None:
    hello(service, kiosk)
    (result,) = service.handle(kiosk, m.Login(operator=op, pin="1234"), f"KEY-{kiosk}")
    assert result.ok, result


def resume(service: HubService, kiosk: str, op: str, key: str = "") -> msgspec.Struct:
    hello(service, kiosk)
    (result,) = service.handle(kiosk, m.Resume(operator=op), key or f"KEY-{kiosk}")
    return result


def work(service: HubService, kiosk: str, op: str) -> msgspec.Struct:
    (reply,) = service.handle(kiosk, m.RequestWork(operator=op, count=1), f"KEY-{kiosk}")
    return reply


def test_a_moved_kiosk_resumes_its_operator_without_a_pin_check(
    site: tuple[HubService, HubService],
) -> None:
    first, second = site
    login(first, "k1", "op1")
    assert pin_checks == ["1234"]
    result = resume(second, "k1", "op1")
    assert isinstance(result, m.LoginResult) and result.ok and result.name == "OP1"
    assert pin_checks == ["1234"]  # none at the second
    assert isinstance(work(second, "k1", "op1"), m.Assign)  # it works there now
    assert (second.resumed, second.resume_refused) == (1, 0)
    # the session goes on: no second login in the session log (hours count once)
    assert second.store.open_session("k1", "op1") is not None
    # it can be resumed again (another reconnect), and a logout there ends it
    assert resume(first, "k1", "op1").ok
    second.handle("k1", m.Logout(operator="op1"), "KEY-k1")
    assert not resume(first, "k1", "op1").ok


def test_welcome_lists_resume_only_to_kiosks_that_ask(site: tuple[HubService, HubService]) -> None:
    first, _ = site
    assert hello(first, "k1").capabilities == [CAP_RESUME]
    old = hello(first, "k1", caps=["labels", "fetch"])
    assert old.capabilities == []
    raw = msgspec.msgpack.decode(codec.encode(old))
    assert "capabilities" not in raw[1]  # not sent at all: older kiosks refuse unknown fields


def _offline_login(service: HubService, kiosk: str, op: str, at: float) -> None:
    _, n, r, p, salt, _d = service.store.operator(op)["pin_hash"].split("$")
    digest = hashlib.scrypt(
        b"1234", salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    uuid = f"login-{at}"
    proof = login_proof(digest, kiosk, op, uuid, at)
    hello(service, kiosk)
    msg = m.OfflineLogin(uuid=uuid, operator=op, at=at, proof=proof)
    assert isinstance(service.handle(kiosk, msg, f"KEY-{kiosk}")[0], m.Ack)


def test_an_offline_login_is_resumed_within_a_shift_of_its_own_time(
    site: tuple[HubService, HubService],
) -> None:
    first, second = site
    _offline_login(first, "k1", "op1", time.time() - 3600)
    assert resume(second, "k1", "op1").ok
    # a login older than a shift: the PIN again (labels stay covered: LOGIN_COVERS_SECONDS)
    _offline_login(first, "k2", "op2", time.time() - service_module.RESUME_WITHIN_SECONDS - 60)
    result = resume(second, "k2", "op2")
    assert not result.ok and result.reason == "no_session"
    assert isinstance(work(second, "k2", "op2"), m.Error)


def test_refused_resumes(site: tuple[HubService, HubService]) -> None:
    """What a kiosk on the LAN might try, and what time and staff end: each refused, nothing
    given (no work for that operator at that kiosk), the kiosk can still log in with the PIN."""
    first, second = site
    store = first.store

    def refused(kiosk: str, op: str, reason: str = "no_session") -> None:
        result = resume(second, kiosk, op)
        assert isinstance(result, m.LoginResult) and not result.ok, result
        assert result.reason == reason
        reply = work(second, kiosk, op)
        assert isinstance(reply, m.Error) and reply.code == "not_logged_in"

    refused("k1", "op1")  # never logged in anywhere
    login(first, "k1", "op1")
    refused("k2", "op1")  # logged in at another kiosk: k2 cannot carry it on
    refused("k1", "op2")  # another operator than the one logged in here

    # the kiosk id with another key (a copy of the kiosk's id on another machine)
    second.handle("k1", m.Hello(kiosk_id="k1", version="t", capabilities=CAPS), "KEY-k1")
    (reply,) = second.handle("k1", m.Resume(operator="op1"), "KEY-k2")
    assert isinstance(reply, m.Error) and reply.code == "unpaired"
    (reply,) = second.handle("k1", m.Hello(kiosk_id="k1", version="t"), "NOT-PAIRED")
    assert isinstance(reply, m.Error) and reply.code == "unpaired"

    # logged out: over
    first.handle("k1", m.Logout(operator="op1"), "KEY-k1")
    refused("k1", "op1")
    login(first, "k1", "op1")
    assert resume(second, "k1", "op1").ok

    # another operator logged in at this kiosk since; the operator logged in elsewhere since
    login(first, "k1", "op2")
    refused("k1", "op1")
    login(first, "k2", "op2")
    refused("k1", "op2")

    # locked out (someone tried PINs for the operator), or the kiosk locked out
    login(first, "k1", "op1")
    for _ in range(LOCKOUT_AFTER):
        store.record_login("op1", False)
    refused("k1", "op1", "locked")
    store.record_login("op1", True)
    assert resume(second, "k1", "op1").ok
    hello(first, "k1")
    for _ in range(service_module.KIOSK_LOCK_AFTER):
        first.handle("k1", m.Login(operator="op2", pin="0000"), "KEY-k1")
    refused("k1", "op1", "locked")


def test_a_resume_for_an_operator_staff_deactivated_is_refused(
    site: tuple[HubService, HubService],
) -> None:
    first, second = site
    login(first, "k1", "op1")
    first.store.set_operator_active("op1", False)
    result = resume(second, "k1", "op1")
    assert not result.ok
    assert second.resume_refused == 1
