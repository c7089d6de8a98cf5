"""The router answers everything else before the clip transfers waiting in the same batch:
the peek that sorts them must recognise a Fetch, and only a Fetch, as encoded on the wire."""

from __future__ import annotations

import zmq

from hub.router import _is_fetch
from protocol import codec
from protocol import messages as m

UUID = "5f0c6f9e-8f3a-4e86-9a53-3c3c1a1b2c3d"
SHA = "ab" * 32
ONE_OF_EACH = [
    m.Hello(kiosk_id="k", version="1"),
    m.Heartbeat(outbox=3),
    m.Login(operator="fetch", pin="1234"),  # the word alone is not a Fetch
    m.Logout(operator="op1"),
    m.RequestWork(operator="op1", count=5),
    m.Label(uuid=UUID, operator="op1", clip=SHA, schema_version=1, values=["fetch"],
            created_at=1.0),
    m.Retract(uuid=UUID, operator="op1"),
]


def _frames(msg: object) -> list[zmq.Frame]:
    return [zmq.Frame(b"kiosk-1"), *(zmq.Frame(f) for f in codec.encode_frames(msg))]


def test_only_a_fetch_is_taken_for_one() -> None:
    assert _is_fetch(_frames(m.Fetch(sha256=SHA, offset=0, credit=8)))
    assert _is_fetch(_frames(m.Fetch(sha256=SHA, offset=1 << 40, credit=1, chunk_size=4096)))
    for msg in ONE_OF_EACH:
        assert not _is_fetch(_frames(msg)), msg
    assert not _is_fetch(_frames(m.LabelBatch(labels=[ONE_OF_EACH[5]])))  # type: ignore[list-item]
    assert not _is_fetch([zmq.Frame(b"kiosk-1")])  # no message at all
    assert not _is_fetch([zmq.Frame(b"kiosk-1"), zmq.Frame(b"")])


def test_sorting_keeps_the_order_of_everything_else() -> None:
    batch = [_frames(msg) for msg in [m.Fetch(sha256=SHA), ONE_OF_EACH[4], m.Fetch(sha256=SHA),
                                       ONE_OF_EACH[1], ONE_OF_EACH[3]]]
    kinds = [type(codec.decode(b"".join(f.bytes for f in frames[1:2]), m.KioskToHub)).__name__
             for frames in sorted(batch, key=_is_fetch)]
    assert kinds == ["RequestWork", "Heartbeat", "Logout", "Fetch", "Fetch"]
