"""A short chaos run in CI (the long one is recorded in benchmarks/RESULTS.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.chaos import run

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_short_chaos_run_loses_and_doubles_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db_url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    line, ok = run(
        duration=45,
        kiosks=3,
        fault_rate=0.4,
        clips=400,
        interval=0.02,
        seed=11,
        workdir=tmp_path,
        quiet=True,
        db_url=db_url,
    )
    print(line)
    assert ok, line
    labels = int(line.split()[0].split("=")[1])
    faults = int(line.split()[-1].split("=")[1])
    assert labels > 100 and faults >= 5, line
