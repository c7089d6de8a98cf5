"""benchmarks/load.py: label pacing with --jitter (the default keeps every kiosk at exactly
--rate), and a short traced run against a real hub: invariants hold and the trace report
matches each assign with the hub's record of it."""

from __future__ import annotations

import statistics
from pathlib import Path

import zmq

from benchmarks import load, trace_report


def _kiosk(**kw: float) -> load.SimKiosk:
    s = load.Settings(
        endpoints=["tcp://127.0.0.1:9"],
        server_key="0" * 40,
        duration=1,
        rate=5,
        batch=1,
        window=10,
        request=20,
        fetch_ratio=1.0,
        **kw,
    )
    ctx = zmq.Context.instance()
    return load.SimKiosk(ctx, "k-1", "op1", s, load.Stats())


def test_jitter_varies_each_interval_around_the_rate() -> None:
    sim = _kiosk(jitter=0.5)
    gaps = [sim._interval() for _ in range(2000)]
    assert min(gaps) >= 0.1 and max(gaps) <= 0.3
    assert abs(statistics.mean(gaps) - 0.2) < 0.01
    assert statistics.pstdev(gaps) > 0.04
    sim.sock.close(linger=0)


def test_without_jitter_labels_come_at_exactly_the_rate() -> None:
    sim = _kiosk()
    sim.state, sim.working, sim.t0 = "ready", True, 100.0
    sim.ready.extend((f"{i:064x}", "lease") for i in range(20))
    sim.request_at = 0.0  # no RequestWork now
    sim.tick(101.0, labelling=True)
    assert sim.made == 5
    sim.sock.close(linger=0)


def test_a_short_traced_run(tmp_path: Path, capsys) -> None:
    code = load.main(
        [
            "--kiosks",
            "6",
            "--rate",
            "5",
            "--duration",
            "3",
            "--procs",
            "1",
            "--ramp",
            "2",
            "--jitter",
            "0.3",
            "--trace",
            str(tmp_path / "trace"),
            "--keep",
            str(tmp_path / "run"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "over_assigned=0 repeated_for_operator=0" in out
    assert "shifts start over 2 s; label intervals 1/rate × (1 ± 0.3)" in out
    assert trace_report.main([str(tmp_path / "trace"), "--show", "0"]) == 0
    report = capsys.readouterr().out
    assert "assign requests matched" in report and "router slices in the window" in report
