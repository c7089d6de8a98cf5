"""A paired kiosk acting for operators who never logged in there, and kiosks stepping on
each other's ids: a real hub process and real CurveZMQ kiosk sockets, as an attacker with a
paired kiosk (or its database) would use them."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
import urllib.request
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq

from protocol import codec
from protocol import messages as m
from tests.conftest import PIN, HubProc, make_hub
from tests.faults import seed_clips


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[HubProc, list[str]]]:
    hub = make_hub(tmp_path, operators=12)
    shas = seed_clips(hub.data, 6, 1000)
    hub.extra = ["--no-zeroconf"]
    hub.start()
    yield hub, shas
    hub.kill(signal.SIGTERM)


class Kiosk:
    """A kiosk's DEALER with its own paired key (routing id = `routing_id`)."""

    def __init__(self, ctx: zmq.Context, hub: HubProc, kiosk_id: str, routing_id: str = "") -> None:
        public, secret = zmq.curve_keypair()
        self.kiosk_id, self.key = kiosk_id, public.decode()
        store = hub.store()
        store.pair_kiosk(kiosk_id, self.key)
        store.close()
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.curve_publickey, self.sock.curve_secretkey = public, secret
        self.sock.curve_serverkey = hub.public_key.encode()
        self.sock.setsockopt(zmq.ROUTING_ID, (routing_id or kiosk_id).encode())
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(hub.endpoint)

    def ask(self, msg: m.Message, timeout: float = 10.0) -> m.Message:
        """Send `msg`; the first reply that is not the hub's own heartbeat."""
        self.sock.send(codec.encode(msg))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sock.poll(int(max(0.0, deadline - time.monotonic()) * 1000)):
                reply = codec.decode(self.sock.recv(), m.HubToKiosk)
                if not (isinstance(reply, m.Heartbeat) and reply.own):
                    return reply
        raise AssertionError(f"no reply to {type(msg).__name__}")

    def hello(self) -> m.Welcome:
        reply = self.ask(m.Hello(kiosk_id=self.kiosk_id, version="t"))
        assert isinstance(reply, m.Welcome), reply
        return reply

    def login(self, operator: str, pin: str = PIN) -> m.LoginResult:
        return self.ask(m.Login(operator=operator, pin=pin))


def label(operator: str, clip: str) -> m.Label:
    return m.Label(
        uuid=str(uuidlib.uuid4()), operator=operator, clip=clip, schema_version=1,
        values=["gewelddadig"], created_at=time.time(),
    )  # fmt: skip


def _status(hub: HubProc) -> dict:
    from hub.store.accounts import create_token

    store = hub.store()
    token = create_token(store, "staff")
    store.close()
    req = urllib.request.Request(
        f"http://127.0.0.1:{hub.web_port}/api/v1/status",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.load(response)


def test_a_kiosk_cannot_act_for_an_operator_it_never_saw_log_in(site) -> None:
    hub, shas = site
    ctx = zmq.Context()
    try:
        k1, k2 = Kiosk(ctx, hub, "k1"), Kiosk(ctx, hub, "k2")
        k1.hello(), k2.hello()
        assert k2.login("op2").ok
        theirs = label("op2", shas[0])
        assert isinstance(k2.ask(m.LabelBatch(labels=[theirs])), m.Ack)
        # k1: no login of op2 (nor anyone) there
        forged = label("op2", shas[1])
        reply = k1.ask(m.LabelBatch(labels=[forged]))
        assert isinstance(reply, m.Error) and reply.code == "not_logged_in", reply
        assert reply.ref == forged.uuid
        reply = k1.ask(m.Retract(uuid=theirs.uuid, operator="op2"))
        assert isinstance(reply, m.Error) and reply.code == "not_logged_in", reply
        alert = m.Alert(uuid=str(uuidlib.uuid4()), operator="op2", clip=shas[0], created_at=1.0)
        reply = k1.ask(alert)
        assert isinstance(reply, m.Error) and reply.code == "not_logged_in", reply
        k1.ask(m.Heartbeat(operator="op2"))
        # k1 logs op1 in: op1's label goes in, op2's retraction still does not
        assert k1.login("op1").ok
        assert isinstance(k1.ask(m.LabelBatch(labels=[label("op1", shas[2])])), m.Ack)
        reply = k1.ask(m.Retract(uuid=theirs.uuid, operator="op2"))
        assert isinstance(reply, m.Error) and reply.code == "not_logged_in", reply
    finally:
        ctx.destroy(linger=0)
    db = sqlite3.connect(hub.db)
    try:
        labels = dict(db.execute("SELECT uuid, retracted FROM labels").fetchall())
        assert forged.uuid not in labels and labels[theirs.uuid] == 0
        assert db.execute("SELECT count(*) FROM alerts").fetchone()[0] == 0
        kiosk_op = db.execute("SELECT operator FROM kiosks WHERE id = 'k1'").fetchone()[0]
        assert kiosk_op != "op2"
    finally:
        db.close()
    refused = _status(hub)["refused"]
    assert any(
        r["kiosk"] == "k1" and r["reason"] == "not_logged_in" and r["n"] >= 3 for r in refused
    )


def test_kiosk_pin_lock_out_holds_across_hello(site) -> None:
    hub, _ = site
    ctx = zmq.Context()
    try:
        k1 = Kiosk(ctx, hub, "k1")
        k1.hello()
        # ten wrong PINs, each for another operator (no operator reaches its own lock-out)
        for i in range(1, 11):
            assert not k1.login(f"op{i}", "0000").ok
        k1.hello()  # a new Hello must not wipe the count
        result = k1.login("op11")
        assert not result.ok and result.reason == "locked", result
    finally:
        ctx.destroy(linger=0)


def test_an_offline_login_travels_before_its_labels(tmp_path: Path) -> None:
    """op1's last login the hub saw at k1 is too old to cover new work; op1 logs in at k1
    while the hub is away (the kiosk checks the PIN against its per-kiosk verifier) and
    labels. When the hub is back, only op2 logs in at k1: op1's labels are taken because the
    offline login's proof went ahead of them in the outbox. Real hub and kiosk processes."""
    from tests.e2e.test_faults_loopback import kiosk, start_hub
    from tests.faults import check

    hub = start_hub(tmp_path)
    try:
        k = kiosk(tmp_path, hub, "k1", "op1", "--interval", "0.2", "--prefetch", "10").start()
        k.wait_event("labelled", 2)
        k.kill(signal.SIGTERM)
        hub.kill(signal.SIGTERM)
        db = sqlite3.connect(hub.db)
        with db:  # that login was two days ago
            db.execute("UPDATE kiosk_logins SET at = at - 2 * 86400")
        db.close()
        offline = kiosk(
            tmp_path, hub, "k1", "op1", "--count", "3", "--wait-online", "0.5", "--drain", "0"
        ).start()
        assert offline.wait() == 0, offline.tail()
        assert any(e.get("event") == "login" and e.get("online") is False for e in offline.events)
        hub.start()
        other = kiosk(tmp_path, hub, "k1", "op2", "--count", "1").start()
        assert other.wait() == 0, other.tail()
        verdict = check(hub.db, [k.data])
        assert verdict.ok, verdict
        db = sqlite3.connect(hub.db)
        try:
            n = db.execute("SELECT count(*) FROM labels WHERE operator = 'op1'").fetchone()[0]
            refused = db.execute("SELECT count(*) FROM refusals").fetchone()[0]
        finally:
            db.close()
        assert n >= 5 and refused == 0, (n, refused)
    finally:
        hub.kill()
