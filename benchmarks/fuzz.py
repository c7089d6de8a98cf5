"""Long fuzz run against a real hub process while a headless kiosk labels (the CI test,
tests/e2e/test_fuzz_hub.py, does 10 000 frames; this does 100 000 or more).

Prints frames/s, error replies by code, replies to frames that happened to decode, the hub's
RSS before and after, and the kiosk invariants (tests/faults.check). Exit status 1 if the hub
died, a reply was wrong, anything got `internal`, or a label was lost or doubled.

    python -m benchmarks.fuzz --frames 100000 --seed 1
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

import zmq

from benchmarks.common import machine
from hub.site.router import HARD_MAX_FRAME
from protocol.constants import MAX_FRAME
from protocol.errors import ErrorCode
from tests import fuzzframes as ff
from tests.e2e.test_faults_loopback import kiosk, start_hub
from tests.faults import check


def run(frames: int, seed: int, window: int, workdir: Path) -> bool:
    hub = start_hub(workdir, clips=2000, size=2000)
    assert hub.proc is not None
    k = kiosk(workdir, hub, "k1", "op1", "--interval", "0.05", "--prefetch", "20").start()
    ctx = zmq.Context()

    def alive() -> bool:
        return hub.proc is not None and hub.proc.poll() is None

    client = ff.FuzzClient(ctx, hub, window=window, alive=alive)
    ok = True
    try:
        k.wait_event("labelled", 5, timeout=60)
        rss_before = ff.rss_mib(hub.proc.pid)
        labelled_before = k.count("labelled")
        t0 = time.monotonic()
        last = t0
        rng = random.Random(seed)
        try:
            done = 0
            for _ in range(0, frames, 10_000):
                n = min(10_000, frames - done)
                client.run(ff.frame(rng) for _ in range(n))
                done += n
                now = time.monotonic()
                print(
                    f"  {done} frames, {n / (now - last):.0f}/s, hub RSS "
                    f"{ff.rss_mib(hub.proc.pid):.0f} MiB",
                    file=sys.stderr,
                    flush=True,
                )
                last = now
            malformed = ErrorCode.MALFORMED.value
            for _ in range(100):
                client.send_parts([rng.choice(ff.SEED_FRAMES)] * 2, malformed, "two parts")
                client.send_parts([b"", b""], malformed, "empty parts")
            for size in (MAX_FRAME + 1, 1024 * 1024, 8 * 1024 * 1024, HARD_MAX_FRAME - 4096):
                for _ in range(5):
                    client.send_parts([ff.oversize(rng, size)], ErrorCode.TOO_LARGE.value, "big")
            tally = client.finish()
        except ff.HubGone:
            print("THE HUB DIED:\n" + "".join(hub.log[-40:]))
            return False
        for size in (HARD_MAX_FRAME + 1, 20 * 1024 * 1024):
            huge = ff.fuzz_socket(ctx, hub, b"fuzz-huge")
            huge.send(ff.oversize(rng, size))
            if huge.poll(500):
                tally.problem(f"a {size}-byte frame above the hard limit got a reply")
            huge.close(0)
        seconds = time.monotonic() - t0
        labelled = k.count("labelled") - labelled_before
        answer = ff.probe(ctx, hub)
        rss_after = ff.rss_mib(hub.proc.pid)
        k.kill(signal.SIGTERM)
        k.wait()
        verdict = check(hub.db, [k.data])

        print(f"machine: {machine()}")
        print(f"frames sent: {tally.sent} ({tally.sent_bytes / 2**20:.0f} MiB) in {seconds:.1f} s")
        print(f"rate: {tally.sent / seconds:.0f} frames/s (generation and checks included)")
        print(f"frames by kind: {dict(sorted(tally.kinds.items()))}")
        print(f"frames that decoded: {tally.sent_valid}")
        print(f"error replies to undecodable frames: {dict(tally.codes.most_common())}")
        print(f"replies to decodable frames: {dict(tally.replies_to_valid.most_common())}")
        print(f"hub alive after: {alive()}; answers a new client: {answer is not None}")
        print(f"hub RSS: {rss_before:.0f} MiB before, {rss_after:.0f} MiB after")
        print(f"kiosk labelled during the run: {labelled}; {verdict.line(0)}")
        print(f"problems: {len(tally.problems)}")
        for line in tally.problems[:20]:
            print(f"  {line}")
        ok = alive() and answer is not None and not tally.problems and verdict.ok
        print("RESULT:", "ok" if ok else "FAILED")
        return ok
    finally:
        client.close()
        ctx.term()
        k.kill()
        hub.kill()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--frames", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--window", type=int, default=500, help="frames in flight per round")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="straat-fuzz-") as tmp:
        return 0 if run(args.frames, args.seed, args.window, Path(tmp)) else 1


if __name__ == "__main__":
    sys.exit(main())
