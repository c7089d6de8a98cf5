"""Hub rules without sockets: pairing, login, leases, idempotent labels, fetch."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hub.service import HubService
from protocol import messages as m
from protocol.constants import CAP_KIOSK_VERIFIER, CHUNK_SIZE
from protocol.pins import check_verifier, hash_pin, verify_pin
from tests.conftest import PIN_HASH

from .conftest import make_service, open_store


@pytest.fixture
def service(tmp_path: Path) -> HubService:
    store = open_store(tmp_path / "hub.db")
    media = tmp_path / "media"
    for i in range(5):
        data = bytes([i]) * (CHUNK_SIZE * 2 + 100 + i)
        sha = hashlib.sha256(data).hexdigest()
        (media / sha[:2]).mkdir(parents=True, exist_ok=True)
        (media / sha[:2] / f"{sha}.mp4").write_bytes(data)
        store.add_clip(sha, len(data), 2.0, f"clip {i}", want=2)
    store.add_operator("op1", "One", hash_pin("1234", n=2**10))
    store.add_operator("op2", "Two", hash_pin("1234", n=2**10))
    store.pair_kiosk("k1")
    store.pair_kiosk("k2")
    return make_service(store, media)


def login(service: HubService, kiosk: str, operator: str) -> None:
    assert isinstance(service.handle(kiosk, m.Hello(kiosk_id=kiosk, version="t"))[0], m.Welcome)
    (result,) = service.handle(kiosk, m.Login(operator=operator, pin="1234"))
    assert result.ok


def test_messages_before_hello_are_refused(service: HubService) -> None:
    (reply,) = service.handle("k1", m.RequestWork(operator="op1", count=1))
    assert isinstance(reply, m.Error) and reply.code == "not_hello"


def test_unpaired_kiosk_gets_no_welcome_and_no_clip(service: HubService) -> None:
    (reply,) = service.handle("stranger", m.Hello(kiosk_id="stranger", version="t"))
    assert isinstance(reply, m.Error) and reply.code == "unpaired"
    (reply,) = service.handle("stranger", m.Fetch(sha256=service.store.clips()[0]["sha256"]))
    assert reply.code == "not_hello"


def test_pair_code_is_single_use(service: HubService) -> None:
    code = service.store.create_pair_code()
    hello = m.Hello(kiosk_id="k9", version="t", pair_code=code)
    assert isinstance(service.pair("k9", hello, "KEY9")[0], m.Welcome)
    hello2 = m.Hello(kiosk_id="k10", version="t", pair_code=code)
    assert service.pair("k10", hello2, "KEY10")[0].code == "unpaired"
    # paired with its key: the kiosk socket takes that key only
    assert isinstance(
        service.handle("k9", m.Hello(kiosk_id="k9", version="t"), "KEY9")[0], m.Welcome
    )
    assert service.handle("k9", m.Heartbeat(), "OTHER")[0].code == "unpaired"
    assert service.handle("k9", m.Hello(kiosk_id="k9", version="t"), "OTHER")[0].code == (
        "unpaired"
    )


def test_welcome_roster_holds_per_kiosk_verifiers_only(service: HubService) -> None:
    """A kiosk gets verifiers keyed to its id: not the stored hash, no good at another kiosk;
    a kiosk that does not check verifiers (an older release) gets no roster at all."""
    (old,) = service.handle("k1", m.Hello(kiosk_id="k1", version="t"))
    assert old.roster == []
    caps = [CAP_KIOSK_VERIFIER]
    (welcome,) = service.handle("k1", m.Hello(kiosk_id="k1", version="t", capabilities=caps))
    assert {r.operator for r in welcome.roster} == {"op1", "op2"}
    stored = {o["id"]: o["pin_hash"] for o in service.store.operators()}
    for r in welcome.roster:
        assert PIN_HASH.fullmatch(stored[r.operator])
        assert stored[r.operator].split("$")[-1] not in r.pin_hash  # not the hub's digest
        assert not verify_pin("1234", r.pin_hash)
        assert check_verifier("1234", r.pin_hash, "k1") is not None
        assert check_verifier("1234", r.pin_hash, "k2") is None
        assert check_verifier("1235", r.pin_hash, "k1") is None


def test_wrong_pin_locks_out_after_repeats(service: HubService) -> None:
    service.handle("k1", m.Hello(kiosk_id="k1", version="t"))
    reasons = [
        service.handle("k1", m.Login(operator="op1", pin="0000"))[0].reason for _ in range(6)
    ]
    assert reasons[:4] == ["bad_pin"] * 4
    assert reasons[4:] == ["locked", "locked"]
    # even the right PIN is refused while locked
    assert service.handle("k1", m.Login(operator="op1", pin="1234"))[0].reason == "locked"


def test_work_needs_login(service: HubService) -> None:
    service.handle("k1", m.Hello(kiosk_id="k1", version="t"))
    (reply,) = service.handle("k1", m.RequestWork(operator="op1", count=1))
    assert reply.code == "not_logged_in"


def test_never_the_same_clip_twice_and_redundancy_respected(service: HubService) -> None:
    login(service, "k1", "op1")
    login(service, "k2", "op2")
    seen: dict[str, list[str]] = {"op1": [], "op2": []}
    for _ in range(4):
        for kiosk, op in (("k1", "op1"), ("k2", "op2")):
            (assign,) = service.handle(kiosk, m.RequestWork(operator=op, count=2))
            seen[op] += [c.sha256 for c in assign.clips]
    for clips in seen.values():
        assert len(clips) == len(set(clips)) == 5
    # want=2 and both operators hold every clip: a third operator gets nothing
    service.store.add_operator("op3", "Three", hash_pin("1234", n=2**10))
    login(service, "k1", "op3")
    (assign,) = service.handle("k1", m.RequestWork(operator="op3", count=5))
    assert assign.clips == []


def test_label_retries_are_stored_once(service: HubService) -> None:
    login(service, "k1", "op1")
    (assign,) = service.handle("k1", m.RequestWork(operator="op1", count=1))
    clip = assign.clips[0]
    label = m.Label(
        uuid="u-1",
        operator="op1",
        clip=clip.sha256,
        schema_version=1,
        values=["gewelddadig"],
        created_at=1.0,
        lease_id=assign.lease_id,
    )
    for _ in range(3):
        (ack,) = service.handle("k1", m.LabelBatch(labels=[label]))
        assert ack.uuids == ["u-1"]
    assert service.store.count_labels() == 1
    row = service.store.clip(clip.sha256)
    assert (row["n_labels"], row["n_open"]) == (1, 0)


def test_bad_label_value_is_refused_and_changes_nothing(service: HubService) -> None:
    login(service, "k1", "op1")
    clip = service.store.clips()[0]["sha256"]
    label = m.Label(
        uuid="u-2",
        operator="op1",
        clip=clip,
        schema_version=1,
        values=["<script>"],
        created_at=1.0,
    )
    (err,) = service.handle("k1", label)
    assert err.code == "bad_label" and err.ref == "u-2"
    assert service.store.count_labels() == 0


def test_late_label_on_expired_lease_is_an_extra_vote(service: HubService) -> None:
    login(service, "k1", "op1")
    (assign,) = service.handle("k1", m.RequestWork(operator="op1", count=1))
    sha = assign.clips[0].sha256
    assert service.store.expire_leases(now=assign.expires_at + 1) == 1
    assert service.store.clip(sha)["n_open"] == 0
    label = m.Label(
        uuid="late",
        operator="op1",
        clip=sha,
        schema_version=1,
        values=["gewelddadig"],
        created_at=2.0,
        lease_id=assign.lease_id,
    )
    (ack,) = service.handle("k1", label)
    assert ack.uuids == ["late"]
    assert service.store.clip(sha)["n_labels"] == 1


def test_fetch_with_credit_and_resume(service: HubService) -> None:
    login(service, "k1", "op1")
    clip = service.store.clips()[0]
    chunks = service.handle("k1", m.Fetch(sha256=clip["sha256"], offset=0, credit=2))
    assert [c.offset for c in chunks] == [0, CHUNK_SIZE]
    rest = service.handle("k1", m.Fetch(sha256=clip["sha256"], offset=2 * CHUNK_SIZE, credit=5))
    assert len(rest) == 1 and rest[0].offset + len(rest[0].data) == clip["size"]
    data = b"".join(c.data for c in chunks + rest)
    assert hashlib.sha256(data).hexdigest() == clip["sha256"]


@pytest.mark.parametrize("sha", ["../../etc/passwd", "a" * 64, "A" * 64, ""])
def test_fetch_unknown_or_hostile_ids(service: HubService, sha: str) -> None:
    login(service, "k1", "op1")
    (err,) = service.handle("k1", m.Fetch(sha256=sha))
    assert err.code == "not_found"


def test_many_wrong_pins_at_one_kiosk_lock_that_kiosk(service: HubService) -> None:
    from hub import service as svc

    service.handle("k1", m.Hello(kiosk_id="k1", version="t"))
    service.store.add_operator("op3", "Three", hash_pin("1234", n=2**10))
    ops = ["op1", "op2", "op3", "nobody"]
    reasons = [
        service.handle("k1", m.Login(operator=ops[i % 4], pin="9999"))[0].reason
        for i in range(svc.KIOSK_LOCK_AFTER)
    ]
    assert "locked" not in reasons[:-1] or reasons.count("locked") < svc.KIOSK_LOCK_AFTER
    # the kiosk is locked now, even for an operator with the right PIN
    assert service.handle("k1", m.Login(operator="op3", pin="1234"))[0].reason == "locked"
    # another kiosk is not
    service.handle("k2", m.Hello(kiosk_id="k2", version="t"))
    assert service.handle("k2", m.Login(operator="op3", pin="1234"))[0].ok


def test_a_flooding_kiosk_is_rate_limited_and_others_are_served(
    service: HubService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub import service as svc

    monkeypatch.setattr(svc, "RATE_PER_SECOND", 5.0)
    monkeypatch.setattr(svc, "RATE_BURST", 20.0)
    service.handle("k1", m.Hello(kiosk_id="k1", version="t"))
    service.handle("k2", m.Hello(kiosk_id="k2", version="t"))
    replies = [service.handle("k1", m.Heartbeat())[0] for _ in range(100)]
    limited = [r for r in replies if isinstance(r, m.Error) and r.code == "rate_limited"]
    assert len(limited) >= 60
    assert isinstance(service.handle("k2", m.Heartbeat())[0], m.Heartbeat)


def test_breaks_are_stored_once_and_acked_by_uuid(service: HubService) -> None:
    login(service, "k1", "op1")
    taken = m.BreakTaken(
        uuid="br-1",
        operator="op1",
        started_at=1000.0,
        seconds=600.0,
        enforced=True,
        kind="enforced",
    )
    for _ in range(2):  # a resend after a lost ack
        (reply,) = service.handle("k1", taken)
        assert reply == m.Ack(uuids=["br-1"])
    (row,) = service.store.breaks("op1")
    assert (row["kiosk"], row["seconds"], row["enforced"], row["kind"]) == (
        "k1",
        600.0,
        1,
        "enforced",
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"operator": "nobody"},
        {"seconds": -1.0},
        {"seconds": float("nan")},
        {"started_at": float("inf")},
    ],
)
def test_bad_breaks_are_refused_and_change_nothing(service: HubService, bad: dict) -> None:
    login(service, "k1", "op1")
    fields = {"uuid": "br-x", "operator": "op1", "started_at": 1000.0, "seconds": 60.0, **bad}
    (reply,) = service.handle("k1", m.BreakTaken(**fields))
    assert isinstance(reply, m.Error) and reply.code == "bad_label" and reply.ref == "br-x"
    assert service.store.breaks() == []


def _offline_login(service: HubService, kiosk: str, op: str, at: float) -> m.Message:
    import hashlib

    from protocol.pins import login_proof

    _, n, r, p, salt, _d = service.store.operator(op)["pin_hash"].split("$")
    digest = hashlib.scrypt(
        b"1234", salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    uuid = f"login-{at}"
    proof = login_proof(digest, kiosk, op, uuid, at)
    (reply,) = service.handle(kiosk, m.OfflineLogin(uuid=uuid, operator=op, at=at, proof=proof))
    return reply


def test_an_offline_login_covers_work_from_its_own_time_on(service: HubService) -> None:
    """A proven offline login lets the operator's labels in; one from two days ago (a proof
    kept and sent again) does not, and a forged proof is refused and counted."""
    import time

    service.handle("k1", m.Hello(kiosk_id="k1", version="t"))
    sha = service.store.clips()[0]["sha256"]

    def send_label() -> m.Message:
        label = m.Label(
            uuid=f"u{time.monotonic_ns()}", operator="op1", clip=sha, schema_version=1,
            values=["gewelddadig"], created_at=time.time(),
        )  # fmt: skip
        return service.handle("k1", m.LabelBatch(labels=[label]))[0]

    assert isinstance(_offline_login(service, "k1", "op1", time.time() - 2 * 86400), m.Ack)
    assert send_label().code == "not_logged_in"
    forged = m.OfflineLogin(uuid="x", operator="op1", at=time.time(), proof="00" * 32)
    assert service.handle("k1", forged)[0].code == "bad_pin"
    assert send_label().code == "not_logged_in"
    assert isinstance(_offline_login(service, "k1", "op1", time.time() - 60), m.Ack)
    assert isinstance(send_label(), m.Ack)
    reasons = {r["reason"]: r["n"] for r in service.store.refusals()}
    assert reasons == {"not_logged_in": 2, "bad_pin": 1}


def test_a_pin_checked_ahead_is_not_checked_again(service: HubService, monkeypatch) -> None:
    """The router checks a Login's PIN before its write transaction (`precheck_login`); the
    Login's turn takes that answer, right or wrong, unless the PIN hash changed meanwhile,
    and nobody but the kiosk's own session gets a PIN checked ahead."""
    import hub.service as service_module
    from hub.store.dashboard import set_pin

    calls: list[str] = []
    real = service_module.verify_pin

    def counted(pin: str, stored: str) -> bool:
        calls.append(pin)
        return real(pin, stored)

    monkeypatch.setattr(service_module, "verify_pin", counted)
    service.handle("k1", m.Hello(kiosk_id="k1", version="t"))
    for pin, ok in (("1234", True), ("0000", False)):
        login = m.Login(operator="op1", pin=pin)
        service.precheck_login("k1", login, "")
        assert len(calls) == 1
        assert service.handle("k1", login)[0].ok is ok
        assert len(calls) == 1  # not again at its turn
        calls.clear()
    # another key than the session's: nothing checked ahead for it
    service.precheck_login("k1", m.Login(operator="op1", pin="1234"), "someone else's key")
    assert calls == []
    # checked ahead, then the PIN changed: checked again at its turn, against the new hash
    login = m.Login(operator="op2", pin="1234")
    service.precheck_login("k1", login, "")
    set_pin(service.store, "op2", hash_pin("9999", n=2**10))
    assert service.handle("k1", login)[0].ok is False and len(calls) == 2
