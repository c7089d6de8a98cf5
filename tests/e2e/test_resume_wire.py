"""`Resume` over the real wire: a hub process, kiosks as CurveZMQ DEALERs. A kiosk of the
previous release (its Hello's capabilities, its Structs that refuse unknown fields) gets a
Welcome it reads and logs in with the PIN as before; a kiosk of this release carries its
operator's session on after a reconnect without a PIN; another paired kiosk, or a copy of a
kiosk's id with another key, cannot carry on someone else's session."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import zmq

from protocol import codec
from protocol import messages as m
from protocol.constants import CAP_RESUME
from tests.conftest import PIN, HubProc
from tests.protocol import previous_v1 as old
from tests.waiting import wait_until

FRAMES = Path(__file__).parent.parent / "protocol" / "frames_v1"
OLD_CAPS = json.loads((FRAMES / "hello.json").read_text())["capabilities"]
NEW_CAPS = [*OLD_CAPS, CAP_RESUME]


class Kiosk:
    """One connection of a kiosk (its id, its CURVE key pair) to the hub."""

    def __init__(self, hub: HubProc, kiosk_id: str, keys: tuple[bytes, bytes]) -> None:
        self.kiosk_id = kiosk_id
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.curve_publickey, self.sock.curve_secretkey = keys
        self.sock.curve_serverkey = hub.public_key.encode()
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(hub.endpoint)

    def ask(self, msg: msgspec.Struct) -> bytes:
        """Send `msg`; the hub's first answer that is not a beat of its own, undecoded."""
        self.sock.send(codec.encode(msg))
        while True:
            assert self.sock.poll(10_000), f"no answer to {msg!r}"
            frame = self.sock.recv()
            if not isinstance(codec.decode(frame, m.HubToKiosk), m.Heartbeat):
                return frame

    def hello(self, caps: list[str]) -> bytes:
        return self.ask(m.Hello(kiosk_id=self.kiosk_id, version="t", capabilities=caps))

    def answer(self, msg: msgspec.Struct) -> msgspec.Struct:
        return codec.decode(self.ask(msg), m.HubToKiosk)

    def close(self) -> None:
        self.sock.close(linger=0)


def _old_decode(frame: bytes) -> object:
    version, raw = msgspec.msgpack.decode(frame, type=tuple[int, msgspec.Raw])
    assert version == 1
    return msgspec.msgpack.decode(raw, type=old.HubToKiosk)


def test_a_kiosk_of_the_previous_release_logs_in_as_before(wire_hub: HubProc) -> None:
    keys = zmq.curve_keypair()
    for _ in range(2):  # and again after a reconnect: the PIN, as it always did
        kiosk = Kiosk(wire_hub, "old-k", keys)
        welcome = _old_decode(kiosk.hello(OLD_CAPS))  # its Structs refuse unknown fields
        assert isinstance(welcome, old.Welcome)
        result = _old_decode(kiosk.ask(m.Login(operator="op1", pin=PIN)))
        assert isinstance(result, old.LoginResult) and result.ok
        kiosk.close()


def test_a_moved_kiosk_resumes_and_nobody_else_can(wire_hub: HubProc) -> None:
    keys, other_keys = zmq.curve_keypair(), zmq.curve_keypair()
    kiosk = Kiosk(wire_hub, "new-k", keys)
    welcome = codec.decode(kiosk.hello(NEW_CAPS), m.HubToKiosk)
    assert isinstance(welcome, m.Welcome) and welcome.capabilities == [CAP_RESUME]
    assert kiosk.answer(m.Login(operator="op2", pin=PIN)).ok
    kiosk.close()

    # another paired kiosk names op2: refused, no work for op2 there
    other = Kiosk(wire_hub, "other-k", other_keys)
    other.hello(NEW_CAPS)
    result = other.answer(m.Resume(operator="op2"))
    assert isinstance(result, m.LoginResult) and not result.ok
    reply = other.answer(m.RequestWork(operator="op2", count=1))
    assert isinstance(reply, m.Error) and reply.code == "not_logged_in"
    other.close()

    # new-k's id with another key (a copy of its id on another machine): not heard at all
    thief = Kiosk(wire_hub, "new-k", other_keys)
    reply = codec.decode(thief.hello(NEW_CAPS), m.HubToKiosk)
    assert isinstance(reply, m.Error) and reply.code == "unpaired"
    reply = thief.answer(m.Resume(operator="op2"))
    assert isinstance(reply, m.Error) and reply.code in ("not_hello", "unpaired")
    thief.close()

    # the kiosk itself, on a new connection: carried on, no PIN, work for op2
    kiosk = Kiosk(wire_hub, "new-k", keys)
    kiosk.hello(NEW_CAPS)
    result = kiosk.answer(m.Resume(operator="op2"))
    assert isinstance(result, m.LoginResult) and result.ok
    assert isinstance(kiosk.answer(m.RequestWork(operator="op2", count=1)), m.Assign)
    # after a logout, over
    kiosk.sock.send(codec.encode(m.Logout(operator="op2")))
    assert not kiosk.answer(m.Resume(operator="op2")).ok
    kiosk.close()
    wait_until(  # the hub's log says so (read by a thread of the test: wait for it)
        lambda: sum("without a PIN check" in line for line in wire_hub.log) == 1,
        10,
        "resume logged",
    )
