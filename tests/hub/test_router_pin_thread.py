"""A Login's PIN check (scrypt, slow on purpose) runs in a worker thread, not on the router's
event loop: while it runs, the hub's own beats still reach the kiosks (they do not take the
hub for gone while the kiosks of a process that died all log in at once). Real router,
CurveZMQ sockets on loopback; the check is made slow (a sleep in it) to see it plainly."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
import zmq
import zmq.asyncio

from hub.service import HubService
from hub.site.router import Router
from hub.site.server import HubConfig, open_hub
from protocol import codec
from protocol import constants as c
from protocol import messages as m
from protocol.pins import hash_pin
from tests.conftest import PROJECTS

SLOW = 1.5  # seconds a PIN check takes here: more than a beat interval


async def test_a_pin_check_runs_off_the_loop_and_beats_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _project, service = open_hub(
        HubConfig(project=PROJECTS / "geweld.toml", data=tmp_path / "hub")
    )
    for i in range(1, 5):
        store.add_operator(f"op{i}", f"Operator {i}", hash_pin("1234", n=2**10))
    service.open_pairing = True
    threads: list[str] = []
    real = HubService.check_pin
    delay = [SLOW]

    def slow(pin: str, stored: str) -> bool:
        threads.append(threading.current_thread().name)
        time.sleep(delay[0])
        return real(pin, stored)

    monkeypatch.setattr(HubService, "check_pin", staticmethod(slow))
    ctx = zmq.asyncio.Context()
    keys = zmq.curve_keypair()
    router = Router(service, "tcp://127.0.0.1:0", keys, ctx=ctx, pairing=False)
    serving = asyncio.create_task(router.run())
    socks = []
    for _ in range(4):
        sock = ctx.socket(zmq.DEALER)
        sock.curve_publickey, sock.curve_secretkey = zmq.curve_keypair()
        sock.curve_serverkey = keys[0]
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(f"tcp://127.0.0.1:{router.port}")
        socks.append(sock)
    kiosk = socks[0]

    async def next_message(sock: zmq.asyncio.Socket = kiosk) -> m.Message:
        assert await sock.poll(10_000), "nothing from the hub"
        return codec.decode(await sock.recv(), m.HubToKiosk)

    async def login_result(sock: zmq.asyncio.Socket) -> m.Message:
        while isinstance(msg := await next_message(sock), m.Heartbeat):
            pass
        return msg

    try:
        await kiosk.send(codec.encode(m.Hello(kiosk_id="k1", version="t")))
        assert isinstance(await next_message(), m.Welcome)
        await kiosk.send(codec.encode(m.Login(operator="op1", pin="1234")))
        sent = time.monotonic()
        beats = 0
        while True:
            msg = await next_message()
            if isinstance(msg, m.Heartbeat) and msg.own:
                beats += 1
                continue
            assert isinstance(msg, m.LoginResult) and msg.ok, msg
            break
        took = time.monotonic() - sent
        assert took >= SLOW
        # the hub beat on its own while the PIN was checked: one beat interval at least
        assert beats >= int(SLOW / c.HEARTBEAT_INTERVAL), (beats, took)
        # checked once, ahead of its turn, in a thread of its own (not again at its turn)
        assert len(threads) == 1 and threads[0] != threading.main_thread().name, threads

        # three kiosks log in at once (one slice may pop several Logins): each PIN checked
        # once, every one off the loop
        delay[0], threads[:] = 0.05, []
        others = socks[1:]
        for i, sock in enumerate(others, start=2):
            await sock.send(codec.encode(m.Hello(kiosk_id=f"k{i}", version="t")))
            assert isinstance(await next_message(sock), m.Welcome)
        for i, sock in enumerate(others, start=2):
            await sock.send(codec.encode(m.Login(operator=f"op{i}", pin="1234")))
        for sock in others:
            result = await login_result(sock)
            assert isinstance(result, m.LoginResult) and result.ok, result
        assert len(threads) == 3, threads
        assert threading.main_thread().name not in threads, threads
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        for sock in socks:
            sock.close(linger=0)
        router.close()
        ctx.term()
        store.close()
