"""The router stores the label batches of one slice (several kiosks' frames handled in one
transaction) in one store call: each label keeps its kiosk, each kiosk gets its own acks, a
kiosk's later message in the slice sees its labels stored, and a batch that makes the
common call fail is refused alone. On both engines, through a real `Router`."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq
import zmq.asyncio

from hub.project import load_project
from hub.service import HubService
from hub.site.router import Router
from hub.store import Store
from protocol import codec
from protocol import messages as m
from protocol.pins import hash_pin
from tests.conftest import PROJECTS

from .conftest import close_after_test, make_service

V = "gewelddadig"
KIOSKS = ("k1", "k2", "k3")


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HubService]:
    location: Any = tmp_path / "hub.db"
    if request.param == "postgresql":
        location = request.getfixturevalue("pg_url")
    store = close_after_test(Store(location))
    project, _ = load_project(PROJECTS / "geweld.toml")
    for i in range(9):
        sha = hashlib.sha256(f"clip{i}".encode()).hexdigest()
        store.add_clip(sha, 10, 1.0, f"c{i}", want=3)
    service = make_service(store, tmp_path, project)
    for n, kiosk in enumerate(KIOSKS, start=1):
        store.add_operator(f"op{n}", f"op{n}", hash_pin("1234", n=2**10))
        store.pair_kiosk(kiosk)
        service.handle(kiosk, m.Hello(kiosk_id=kiosk, version="t"))
        assert service.handle(kiosk, m.Login(operator=f"op{n}", pin="1234"))[0].ok
    yield service


def handle_batch(service: HubService, batch: list[list[zmq.Frame]]) -> list[list[bytes]]:
    """`Router.handle_batch` of a real router (its sockets bound, its ZAP handler on a loop
    of its own), each kiosk's connection named after it (as the old kiosks do)."""

    async def run() -> list[list[bytes]]:
        ctx = zmq.asyncio.Context()
        router = Router(service, "tcp://127.0.0.1:0", zmq.curve_keypair(), ctx=ctx, pairing=False)
        try:
            for kiosk in KIOSKS:
                router.peers.bind(kiosk.encode(), kiosk)
            return router.handle_batch(batch)
        finally:
            router.close()
            await asyncio.sleep(0)
            ctx.term()

    return asyncio.run(run())


def frames(kiosk: str, msg: Any) -> list[zmq.Frame]:
    return [zmq.Frame(kiosk.encode()), zmq.Frame(codec.encode(msg))]


def replies(out: list[list[bytes]]) -> list[tuple[str, Any]]:
    return [(bytes(f[0]).decode(), codec.decode(bytes(f[1]), m.HubToKiosk)) for f in out]


def label(uuid: str, operator: str, clip: str, lease: str) -> m.Label:
    return m.Label(
        uuid=uuid, operator=operator, clip=clip, schema_version=1, values=[V], created_at=1.0,
        lease_id=lease,
    )  # fmt: skip


def work(service: HubService, kiosk: str, operator: str) -> m.Assign:
    (assign,) = service.handle(kiosk, m.RequestWork(operator=operator, count=2))
    assert isinstance(assign, m.Assign) and len(assign.clips) == 2
    return assign


def counting_calls(service: HubService) -> list[int]:
    calls: list[int] = []
    store_add = service.store.add_labels

    def add_labels(kiosk: str, labels: list[Any], **kwargs: Any) -> Any:
        calls.append(len(labels))
        return store_add(kiosk, labels, **kwargs)

    service.store.add_labels = add_labels  # type: ignore[method-assign]
    return calls


def test_one_store_call_for_the_slice_each_label_keeps_its_kiosk(
    hub: HubService,
) -> None:
    service = hub
    assigns = {k: work(service, k, f"op{n}") for n, k in enumerate(KIOSKS, start=1)}
    calls = counting_calls(service)
    batch = [
        frames(k, m.LabelBatch(labels=[label(f"{k}-{i}", f"op{n}", c.sha256, a.lease_id)
                                       for i, c in enumerate(a.clips)]))
        for n, (k, a) in enumerate(assigns.items(), start=1)
    ]  # fmt: skip
    batch.insert(1, frames("k1", m.Heartbeat(outbox=0)))
    got = replies(handle_batch(service, batch))
    assert calls == [6]
    acks = {k: msg.uuids for k, msg in got if isinstance(msg, m.Ack)}
    assert acks == {k: [f"{k}-0", f"{k}-1"] for k in KIOSKS}
    assert [k for k, msg in got if isinstance(msg, m.Heartbeat)] == ["k1"]
    stored = service.store.conn.execute("SELECT uuid, kiosk FROM labels ORDER BY uuid").fetchall()
    assert [tuple(r) for r in stored] == [(f"{k}-{i}", k) for k in KIOSKS for i in range(2)]


def test_a_kiosks_later_message_sees_its_labels(hub: HubService) -> None:
    service = hub
    a1, a2 = work(service, "k1", "op1"), work(service, "k2", "op2")
    calls = counting_calls(service)
    batch = [
        frames("k1", m.LabelBatch(labels=[label("u1", "op1", a1.clips[0].sha256, a1.lease_id)])),
        frames("k2", m.LabelBatch(labels=[label("u2", "op2", a2.clips[0].sha256, a2.lease_id)])),
        frames("k1", m.Retract(uuid="u1", operator="op1")),  # stored before this is handled
    ]
    got = replies(handle_batch(service, batch))
    assert calls == [2]  # everything staged is stored before k1's Retract is handled
    assert [(k, msg.uuids) for k, msg in got if isinstance(msg, m.Ack)] == [
        ("k1", ["u1"]),
        ("k2", ["u2"]),
        ("k1", [m.retract_id("u1")]),
    ]
    retracted = service.store.conn.execute(
        "SELECT uuid, retracted FROM labels ORDER BY uuid"
    ).fetchall()
    assert [tuple(r) for r in retracted] == [("u1", 1), ("u2", 0)]


def test_a_batch_that_fails_the_common_call_is_refused_alone(
    hub: HubService,
) -> None:
    service = hub
    assigns = {k: work(service, k, f"op{n}") for n, k in enumerate(KIOSKS, start=1)}
    store_add = service.store.add_labels

    def add_labels(kiosk: str, labels: list[Any], **kwargs: Any) -> Any:
        if any(x.kiosk == "k2" for x in labels):
            raise RuntimeError("a bug in storing k2's labels")
        return store_add(kiosk, labels, **kwargs)

    service.store.add_labels = add_labels  # type: ignore[method-assign]
    batch = [
        frames(k, m.LabelBatch(labels=[label(f"{k}-0", f"op{n}", a.clips[0].sha256, a.lease_id)]))
        for n, (k, a) in enumerate(assigns.items(), start=1)
    ]
    got = replies(handle_batch(service, batch))
    assert [(k, type(msg).__name__) for k, msg in got] == [
        ("k1", "Ack"),
        ("k2", "Error"),
        ("k3", "Ack"),
    ]
    stored = service.store.conn.execute("SELECT uuid FROM labels ORDER BY uuid").fetchall()
    assert [r[0] for r in stored] == ["k1-0", "k3-0"]
