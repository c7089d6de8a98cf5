"""A capture of kiosk↔hub traffic on loopback holds no clip bytes, label values or PINs in
clear (CurveZMQ), and an unpaired or rogue party gets nothing."""

from __future__ import annotations

import select
import subprocess
import time
from pathlib import Path

import msgspec
import pytest
import zmq

from protocol import codec
from protocol import messages as m
from tests.conftest import PIN, make_hub, needs
from tests.faults import KioskProc, check, seed_clips

pytestmark = pytest.mark.slow


def wait_until_capturing(cap: subprocess.Popen[str], timeout: float) -> None:
    """Until tshark says on stderr that it captures (it has opened the interface)."""
    assert cap.stderr is not None
    end = time.monotonic() + timeout
    said = ""
    while "Capturing on" not in said:
        left = end - time.monotonic()
        assert left > 0 and cap.poll() is None, f"tshark does not capture: {said}"
        if select.select([cap.stderr], [], [], left)[0]:
            said += cap.stderr.readline()


@needs("tshark")
def test_capture_shows_no_clip_bytes_labels_or_pins(tmp_path: Path) -> None:
    hub = make_hub(tmp_path)
    shas = seed_clips(hub.data, 5, 50_000)
    hub.extra = ["--open-pairing", "--no-zeroconf"]
    hub.start()
    pcap = tmp_path / "wire.pcap"
    cap = subprocess.Popen(
        [
            "tshark",
            "-i",
            "lo",
            "-f",
            f"tcp port {hub.port} or tcp port {hub.pair_port}",
            "-w",
            str(pcap),
            "-q",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_capturing(cap, 20)
        k = KioskProc(
            "k1",
            tmp_path / "k1",
            [*hub.kiosk_args(), "--operator", "op1", "--pin", PIN, "--count", "5"],
        ).start()
        assert k.wait(120) == 0, k.tail()
        deadline = time.monotonic() + 20  # tshark writes the capture file in blocks
        while pcap.stat().st_size <= 5 * 50_000 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        cap.terminate()
        cap.wait(timeout=20)
        hub.kill()
    assert check(hub.db, [k.data]).labels == 5
    wire = pcap.read_bytes()
    assert len(wire) > 5 * 50_000, "the capture did not see the transfers"
    for sha in shas:
        clip = (hub.data / "media" / sha[:2] / f"{sha}.mp4").read_bytes()
        for offset in (0, 20_000, 40_000):
            assert clip[offset : offset + 32] not in wire
    # short strings as a clear frame would hold them (msgpack, with their length byte): bare
    # b"op1" turns up by chance in ~300 KB of ciphertext about once in 60 runs
    for text in ("gewelddadig", PIN, "op1", "labels", "scrypt$"):
        clear = msgspec.msgpack.encode(text)
        assert clear not in wire, clear


def test_unknown_key_gets_nothing_and_garbage_gets_an_error(tmp_path: Path) -> None:
    hub = make_hub(tmp_path)
    seed_clips(hub.data, 3, 1000)
    hub.extra = ["--no-zeroconf"]  # no open pairing: only paired keys are admitted
    hub.start()
    ctx = zmq.Context()
    try:
        # a stranger with a fresh key: the ZAP handler refuses the handshake; nothing comes back
        stranger = ctx.socket(zmq.DEALER)
        stranger.curve_publickey, stranger.curve_secretkey = zmq.curve_keypair()
        stranger.curve_serverkey = hub.public_key.encode()
        stranger.setsockopt(zmq.ROUTING_ID, b"k-stranger")
        stranger.setsockopt(zmq.LINGER, 0)
        stranger.connect(hub.endpoint)
        stranger.send(codec.encode(m.Hello(kiosk_id="k-stranger", version="x")))
        stranger.send(codec.encode(m.Fetch(sha256="0" * 64)))
        assert stranger.poll(2000) == 0
        # plain TCP without CURVE: no answer either
        plain = ctx.socket(zmq.DEALER)
        plain.setsockopt(zmq.LINGER, 0)
        plain.connect(hub.endpoint)
        plain.send(b"\x00garbage")
        assert plain.poll(1500) == 0
        # a paired kiosk that sends garbage gets a typed error, and keeps being served
        store = hub.store()
        pub, sec = zmq.curve_keypair()
        store.pair_kiosk("k-good", pub.decode())
        store.close()
        good = ctx.socket(zmq.DEALER)
        good.curve_publickey, good.curve_secretkey = pub, sec
        good.curve_serverkey = hub.public_key.encode()
        good.setsockopt(zmq.ROUTING_ID, b"k-good")
        good.setsockopt(zmq.LINGER, 0)
        good.connect(hub.endpoint)
        good.send(b"\x93garbage")
        assert good.poll(5000)
        err = codec.decode(good.recv(), m.HubToKiosk)
        assert isinstance(err, m.Error) and err.code == "malformed"
        good.send(codec.encode(m.Hello(kiosk_id="k-good", version="x")))
        assert good.poll(5000)
        assert isinstance(codec.decode(good.recv(), m.HubToKiosk), m.Welcome)
        # a pairing socket hears nothing but Hello with a valid code
        pairer = ctx.socket(zmq.DEALER)
        pairer.curve_publickey, pairer.curve_secretkey = zmq.curve_keypair()
        pairer.curve_serverkey = hub.public_key.encode()
        pairer.setsockopt(zmq.ROUTING_ID, b"k-new")
        pairer.setsockopt(zmq.LINGER, 0)
        pairer.connect(f"tcp://127.0.0.1:{hub.pair_port}")
        for msg in (
            m.Hello(kiosk_id="k-new", version="x", pair_code="999999"),
            m.RequestWork(operator="op1", count=5),
        ):
            pairer.send(codec.encode(msg))
            assert pairer.poll(5000)
            reply = codec.decode(pairer.recv(), m.HubToKiosk)
            assert isinstance(reply, m.Error) and reply.code == "unpaired"
    finally:
        ctx.destroy(linger=0)
        hub.kill()
    store = hub.store()
    assert {k["id"] for k in store.kiosks()} == {"k-good"}
    assert store.conn.execute("SELECT count(*) FROM assignments").fetchone()[0] == 0
    store.close()
