"""Heartbeats both ways: the hub beats on its own to a kiosk it has heard from, so a kiosk
whose own beats wait behind a slow upload still hears the hub (and does not reconnect)."""

from __future__ import annotations

import time
from pathlib import Path

import zmq

from protocol import codec
from protocol import messages as m
from tests import fuzzframes as ff
from tests.e2e.test_faults_loopback import start_hub


def test_hub_beats_on_its_own_to_a_silent_kiosk(tmp_path: Path) -> None:
    hub = start_hub(tmp_path, clips=2, size=2000)
    ctx = zmq.Context()
    sock = ff.fuzz_socket(ctx, hub, b"quiet-kiosk")
    stranger = ff.fuzz_socket(ctx, hub, b"stranger")
    try:
        sock.send(codec.encode(m.Hello(kiosk_id="quiet-kiosk", version="test")))
        assert sock.poll(10_000), "no Welcome"
        assert isinstance(codec.decode(sock.recv(), m.HubToKiosk), m.Welcome)
        # from now on the kiosk sends nothing at all
        beats: list[float] = []
        end = time.monotonic() + 4.5
        while time.monotonic() < end:
            if sock.poll(100):
                msg = codec.decode(sock.recv(), m.HubToKiosk)
                assert isinstance(msg, m.Heartbeat) and msg.own, msg
                beats.append(time.monotonic())
        assert len(beats) >= 3, beats
        gaps = [b - a for a, b in zip(beats, beats[1:], strict=False)]
        assert max(gaps) < 2.0, gaps  # within two beat intervals, never a silent stretch
        # a peer that never said Hello hears nothing unasked
        assert not stranger.poll(1500)
    finally:
        sock.close(0)
        stranger.close(0)
        ctx.term()
        hub.kill()


def test_hub_does_not_beat_to_a_kiosk_it_just_answered(tmp_path: Path) -> None:
    """A kiosk beating every second gets its replies, not double beats on top."""
    hub = start_hub(tmp_path, clips=2, size=2000)
    ctx = zmq.Context()
    sock = ff.fuzz_socket(ctx, hub, b"busy-kiosk")
    try:
        sock.send(codec.encode(m.Hello(kiosk_id="busy-kiosk", version="test")))
        assert sock.poll(10_000)
        codec.decode(sock.recv(), m.HubToKiosk)
        own = replies = 0
        for _ in range(4):
            sock.send(codec.encode(m.Heartbeat()))
            end = time.monotonic() + 0.6  # a reply, late on a busy machine; no beat of its own
            while time.monotonic() < end:
                if sock.poll(50):
                    msg = codec.decode(sock.recv(), m.HubToKiosk)
                    assert isinstance(msg, m.Heartbeat)
                    own, replies = own + msg.own, replies + (not msg.own)
        assert replies == 4 and own == 0, (replies, own)
    finally:
        sock.close(0)
        ctx.term()
        hub.kill()
