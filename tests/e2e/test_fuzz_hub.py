"""Fuzzing a running hub: 10 000 generated and mutated frames (plus multi-part, empty and huge
ones up to 20 MiB) from a DEALER while a real headless kiosk keeps labelling.

Afterwards: the hub process is alive and still answers, every fuzz frame that does not decode
got exactly one `Error` with the code the decoder predicts, nothing got `internal`, and the
kiosk's labels all arrived exactly once (tests/faults.check).

The fuzz client connects through `tests.fuzzframes.fuzz_socket` (the one place that knows how
to get into the hub).
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest
import zmq

from hub.site.router import HARD_MAX_FRAME
from protocol.constants import MAX_FRAME
from protocol.errors import ErrorCode
from tests import fuzzframes as ff
from tests.e2e.test_faults_loopback import kiosk, start_hub
from tests.faults import check

pytestmark = pytest.mark.slow

FRAMES = 10_000
SEED = 9


@pytest.mark.timeout(120)
def test_hub_survives_10000_fuzz_frames_while_a_kiosk_labels(tmp_path: Path) -> None:
    hub = start_hub(tmp_path, clips=600, size=2000)
    assert hub.proc is not None
    k = kiosk(tmp_path, hub, "k1", "op1", "--interval", "0.02", "--prefetch", "20").start()
    ctx = zmq.Context()
    client = ff.FuzzClient(
        ctx, hub, window=500, alive=lambda: hub.proc is not None and hub.proc.poll() is None
    )
    try:
        k.wait_event("labelled", 5, timeout=60)
        rss_before = ff.rss_mib(hub.proc.pid)
        labelled_before = k.count("labelled")
        t0 = time.monotonic()
        try:
            client.run(ff.frames(FRAMES, seed=SEED))
            malformed = ErrorCode.MALFORMED.value
            client.send_parts([ff.SEED_FRAMES[0], ff.SEED_FRAMES[1]], malformed, "two parts")
            client.send_parts([b"", b""], malformed, "empty parts")
            client.send_parts([ff.SEED_FRAMES[2], b""], malformed, "trailing empty part")
            client.send_parts([b""], malformed, "empty frame")
            client.send_parts([b"x"] * 50, malformed, "fifty parts")
            too_large = ErrorCode.TOO_LARGE.value
            rng = random.Random(SEED)
            for size in (MAX_FRAME + 1, 1024 * 1024, 8 * 1024 * 1024, HARD_MAX_FRAME - 4096):
                client.send_parts([ff.oversize(rng, size)], too_large, "oversize")
            tally = client.finish()
        except ff.HubGone:
            pytest.fail("the hub died under fuzzing:\n" + "".join(hub.log[-40:]))
        # above the socket's hard limit libzmq drops the connection instead of answering
        # (a frame just under it gets too_large: CurveZMQ adds a few bytes on the wire)
        for size in (HARD_MAX_FRAME + 1, 20 * 1024 * 1024):
            huge = ff.fuzz_socket(ctx, hub, b"fuzz-huge")
            huge.send(ff.oversize(rng, size))
            assert not huge.poll(500), "a frame above the hard limit got a reply"
            huge.close(0)
        seconds = time.monotonic() - t0
        labelled_during = k.count("labelled") - labelled_before
        # a client whose routing id is not UTF-8
        odd = ff.fuzz_socket(ctx, hub, b"\xff\xfe\x00")
        odd.send(ff.SEED_FRAMES[0])
        assert odd.poll(10_000), "no answer to a client with a non-UTF-8 id"
        odd.close(0)

        assert hub.proc.poll() is None, "".join(hub.log[-40:])
        answer = ff.probe(ctx, hub)
        assert answer is not None and answer.code == ErrorCode.MALFORMED.value
        rss_after = ff.rss_mib(hub.proc.pid)
        print(
            f"{tally.sent} frames in {seconds:.1f} s ({tally.sent / seconds:.0f}/s), "
            f"{tally.sent_valid} decodable; replies {tally.replies}; "
            f"errors {dict(tally.codes)}; to decodable frames {dict(tally.replies_to_valid)}; "
            f"kiosk labelled {labelled_during} meanwhile; "
            f"hub RSS {rss_before:.0f} → {rss_after:.0f} MiB"
        )
        assert tally.sent >= FRAMES
        assert not tally.problems, "\n".join(tally.problems) + "\n" + "".join(hub.log[-20:])
        assert labelled_during > 0, "the kiosk stopped labelling while the hub was fuzzed"

        k.kill(signal.SIGTERM)  # the headless kiosk drains its outbox before it exits
        k.wait()
        verdict = check(hub.db, [k.data])
        assert verdict.ok, verdict
        assert verdict.labels >= labelled_before + labelled_during
    finally:
        client.close()
        ctx.term()
        k.kill()
        hub.kill()
