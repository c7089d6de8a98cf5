"""Guessing pairing codes and taking over kiosk ids, as an attacker on the LAN would: a real
hub process, real CurveZMQ sockets to its pairing socket."""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq
import zmq.asyncio

from protocol import codec
from protocol import messages as m
from tests.conftest import HubProc, make_hub


@pytest.fixture
def bare_hub(tmp_path: Path) -> Iterator[HubProc]:
    hub = make_hub(tmp_path).start()
    yield hub
    hub.kill(signal.SIGTERM)


def _pair_socket(
    ctx: zmq.Context, hub: HubProc, routing_id: str, source: str = ""
) -> tuple[zmq.Socket, str]:
    """A CURVE client on the hub's pairing socket, from `source` (a loopback address, so
    that one machine plays many attackers) if given."""
    public, secret = zmq.curve_keypair()
    sock = ctx.socket(zmq.DEALER)
    sock.curve_publickey, sock.curve_secretkey = public, secret
    sock.curve_serverkey = hub.public_key.encode()
    sock.setsockopt(zmq.ROUTING_ID, routing_id.encode())
    sock.setsockopt(zmq.LINGER, 0)
    via = f"{source}:0;" if source else ""
    sock.connect(f"tcp://{via}127.0.0.1:{hub.pair_port}")
    return sock, public.decode()


def _ask(sock: zmq.Socket, kiosk_id: str, code: str) -> m.Welcome | m.Error:
    sock.send(codec.encode(m.Hello(kiosk_id=kiosk_id, version="t", pair_code=code)))
    assert sock.poll(10_000), "the hub did not answer"
    return codec.decode(sock.recv(), m.HubToKiosk)


def test_guessing_stops_before_the_open_code_is_hit(bare_hub: HubProc) -> None:
    store = bare_hub.store()
    code = store.create_pair_code()
    store.close()
    ctx = zmq.Context()
    sock, _ = _pair_socket(ctx, bare_hub, "attacker")
    try:
        answers = []
        for i in range(40):  # wrong codes, as fast as the hub answers
            guess = f"{(int(code) + 1 + i) % 10**6:06d}"
            answers.append(_ask(sock, "attacker", guess))
        assert all(isinstance(a, m.Error) for a in answers)
        # the attacker now has the right code: still no pairing from this source
        got = _ask(sock, "attacker", code)
        assert isinstance(got, m.Error) and got.code in ("locked", "rate_limited"), got
    finally:
        sock.close()
        ctx.term()
    store = bare_hub.store()
    try:
        assert store.kiosk("attacker") is None
    finally:
        store.close()


def test_many_sources_get_the_open_codes_withdrawn(bare_hub: HubProc) -> None:
    """Thirty sources, one wrong code each (no source reaches its own lock-out): after a few
    wrong codes the open codes are withdrawn, and staff see it in the status API."""
    import json
    import urllib.request

    from hub.store import dashboard
    from hub.store.accounts import create_token

    store = bare_hub.store()
    code = store.create_pair_code()
    token = create_token(store, "staff")
    store.close()
    ctx = zmq.Context()
    try:
        for i in range(30):
            sock, _ = _pair_socket(ctx, bare_hub, f"a{i}", source=f"127.0.1.{i + 1}")
            got = _ask(sock, f"a{i}", f"{(int(code) + 1 + i) % 10**6:06d}")
            assert isinstance(got, m.Error)
            sock.close()
        sock, _ = _pair_socket(ctx, bare_hub, "late", source="127.0.2.1")
        got = _ask(sock, "late", code)  # the right code, from a fresh source: withdrawn
        sock.close()
        assert isinstance(got, m.Error), got
    finally:
        ctx.term()
    store = bare_hub.store()
    assert code not in [c.code for c in dashboard.open_pair_codes(store)]
    assert store.kiosk("late") is None
    store.close()
    req = urllib.request.Request(
        f"http://127.0.0.1:{bare_hub.web_port}/api/v1/status",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        status = json.load(response)
    assert status["pairing"]["withdrawn"] >= 1, status


def test_a_code_does_not_repair_a_paired_kiosk_unless_staff_ask(bare_hub: HubProc) -> None:
    store = bare_hub.store()
    store.pair_kiosk("k1", "K" * 40)
    code = store.create_pair_code()
    store.close()
    ctx = zmq.Context()
    sock, key = _pair_socket(ctx, bare_hub, "k1")
    try:
        got = _ask(sock, "k1", code)
        assert isinstance(got, m.Error) and "re-pairing" in got.detail, got
        store = bare_hub.store()
        assert store.kiosk("k1")["public_key"] == "K" * 40
        repair = store.create_pair_code(kiosk="k1")
        store.close()
        assert isinstance(_ask(sock, "k1", repair), m.Welcome)
        store = bare_hub.store()
        assert store.kiosk("k1")["public_key"] == key
        store.close()
    finally:
        sock.close()
        ctx.term()


def _lan_address() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: only picks the source address
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_pairing_listens_where_staff_choose_not_everywhere(tmp_path: Path) -> None:
    """The kiosk socket on every interface (the README's default --bind); the pairing
    socket only on the interface staff name (here loopback), never on all of them."""
    hub = make_hub(tmp_path)
    hub.extra = ["--no-zeroconf", "--bind", "tcp://0.0.0.0:0"]  # the last --bind counts
    hub.start()
    try:
        line = next(x for x in hub.log if "pairing on port" in x)
        assert "tcp://127.0.0.1:" in line, line
        lan = _lan_address()
        if lan is not None:  # and really not reachable from the LAN address
            with socket.socket() as s:
                s.settimeout(2)
                assert s.connect_ex((lan, hub.pair_port)) != 0
    finally:
        hub.kill(signal.SIGTERM)


async def test_pairing_defaults_to_loopback(tmp_path: Path) -> None:
    """With no interface named, the pairing socket listens on loopback only."""
    from hub.site.router import Router
    from hub.site.server import HubConfig, open_hub
    from tests.conftest import PROJECTS

    store, _project, service = open_hub(
        HubConfig(project=PROJECTS / "geweld.toml", data=tmp_path / "hub")
    )
    ctx = zmq.asyncio.Context()
    router = Router(service, "tcp://0.0.0.0:0", zmq.curve_keypair(), ctx=ctx)
    try:
        assert (
            router.pair_sock.getsockopt(zmq.LAST_ENDPOINT).decode().startswith("tcp://127.0.0.1:")
        )
    finally:
        router.close()
        ctx.term()
        store.close()


def test_codes_expire_in_minutes_and_can_be_longer(tmp_path: Path) -> None:
    from hub.store import Store

    store = Store(tmp_path / "hub.db")
    code = store.create_pair_code()
    row = store.conn.execute(
        "SELECT expires_at - created_at FROM pair_codes WHERE code = ?", (code,)
    ).fetchone()
    assert row[0] <= 300 and len(code) == 6
    assert len(store.create_pair_code(digits=10)) == 10
    store.close()
