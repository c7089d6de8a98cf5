"""Three sites, one dataset: three real hubs on loopback with the same project (distinct hub
ids) take labels from headless kiosks, each exports a snapshot, `hub.export.merge` combines them."""

from __future__ import annotations

import signal
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from hub.export.merge import MergeError, duckdb_query, merge
from hub.export.snapshot import export_command
from tests.conftest import PIN, HubProc, make_hub
from tests.faults import KioskProc, seed_clips, write_project

pytestmark = pytest.mark.slow

SHARED = 6  # clips every site holds (the same bytes, so the same sha256)
OWN = 3  # clips only one site holds
LABELS_PER_KIOSK = 5


@dataclass
class Site:
    hub_id: str
    db: Path
    snapshot: Path
    labels: dict[str, tuple[str, str, str]]  # uuid -> (operator, clip, value)


def _labels(db: Path) -> dict[str, tuple[str, str, str]]:
    import json
    import sqlite3

    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            'SELECT uuid, operator, clip, "values" FROM labels WHERE retracted = 0'
        ).fetchall()
    finally:
        con.close()
    return {u: (o, c, json.loads(v)[0]) for u, o, c, v in rows}


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> list[Site]:
    root = tmp_path_factory.mktemp("sites")
    hubs: list[HubProc] = []
    kiosks: list[KioskProc] = []
    try:
        for i in range(3):
            folder = root / f"site{i}"
            folder.mkdir()
            hub = make_hub(folder, operators=2)
            hub.project = write_project(folder / "project.toml", redundancy=3)
            seed_clips(hub.data, SHARED, 2000, want=3, seed=1)
            seed_clips(hub.data, OWN, 2000, want=3, seed=100 + i)
            hub.extra = ["--open-pairing", "--no-zeroconf"]
            hubs.append(hub.start())
        for i, hub in enumerate(hubs):
            for op in ("op1", "op2"):
                name = f"s{i}-{op}"
                args = [*hub.kiosk_args(), "--operator", op, "--pin", PIN, "--wait-online", "30"]
                args += ["--count", str(LABELS_PER_KIOSK), "--seed", str(i * 10 + int(op[-1]))]
                kiosks.append(KioskProc(name, root / name, args).start())
        for k in kiosks:
            assert k.wait(timeout=60) == 0, k.tail()
    finally:
        for k in kiosks:
            k.kill()
        for hub in hubs:
            hub.kill(signal.SIGTERM)
    out = []
    for hub in hubs:
        snap = export_command(hub.data, None, ["parquet"], 0)
        out.append(Site(hub.hub_id, hub.db, Path(snap), _labels(hub.db)))
    return out


def test_three_hubs_merge_with_stable_ids_and_consensus_over_the_union(
    sites: list[Site], tmp_path: Path
) -> None:
    assert len({s.hub_id for s in sites}) == 3
    for s in sites:
        assert len(s.labels) == 2 * LABELS_PER_KIOSK
    result = merge([s.snapshot for s in sites], tmp_path / "merged")
    clips = pq.read_table(tmp_path / "merged" / "data" / "clips.parquet").to_pylist()
    ann = pq.read_table(tmp_path / "merged" / "data" / "annotations.parquet").to_pylist()
    assert (tmp_path / "merged" / "README.md").read_text().startswith("---\n")

    # counts add up; ids unique and exactly the kiosks' uuids and the clips' sha256s
    every = {u: (s.hub_id, *v) for s in sites for u, v in s.labels.items()}
    assert len(ann) == result.annotations == sum(len(s.labels) for s in sites) == len(every)
    assert len({a["annotation_id"] for a in ann}) == len(ann)
    assert {a["annotation_id"]: a["site"] for a in ann} == {u: v[0] for u, v in every.items()}
    per_site = [
        pq.read_table(s.snapshot / "data" / "clips.parquet").column("clip_id").to_pylist()
        for s in sites
    ]
    assert all(len(ids) == SHARED + OWN for ids in per_site)
    union = set().union(*per_site)
    assert len(union) == SHARED + 3 * OWN == len(clips) == result.clips
    assert {c["clip_id"] for c in clips} == union
    shared = set(per_site[0]) & set(per_site[1]) & set(per_site[2])
    assert len(shared) == SHARED
    for c in clips:
        assert c["n_sites"] == (3 if c["clip_id"] in shared else 1)
        assert c["sites"] == sorted(
            s.hub_id for s, ids in zip(sites, per_site, strict=True) if c["clip_id"] in ids
        )

    # consensus over the union: votes from all sites, the same answer as aggregating it
    votes = Counter(v[2] for v in every.values())
    assert sum(c["n_votes"] for c in clips) == len(every) == sum(votes.values())
    by_clip: dict[str, Counter[str]] = {}
    for _site, _op, clip, value in every.values():
        by_clip.setdefault(clip, Counter())[value] += 1
    for c in clips:
        got = {k: v for k, v in (c["vote_counts"] or {}).items() if v}
        assert got == dict(by_clip.get(c["clip_id"], Counter()))
    from hub.consensus import aggregate

    # the merge knows operators by their pseudonymous ids, site by site; Dawid-Skene's small-data
    # sampler draws per operator, so the same names are needed for the same answer on a tie
    pseudonym = {a["annotation_id"]: f"{a['site']}/{a['operator_id']}" for a in ann}
    rows = sorted((pseudonym[u], v[2], v[3]) for u, v in every.items())
    expected = aggregate(
        [r[1] for r in rows],
        [r[0] for r in rows],
        [r[2] for r in rows],
        ["gewelddadig", "niet_gewelddadig"],
        None,
        "ds",
    )
    want = dict(zip(expected.tasks, expected.label, strict=True))
    assert {c["clip_id"]: c["label"] for c in clips if c["n_votes"]} == want

    # stable: the same inputs give the same tables; a snapshot given twice counts once
    again = merge([s.snapshot for s in reversed(sites)], tmp_path / "again")
    assert again.annotations == result.annotations and again.clips == result.clips
    for name in ("clips", "annotations"):
        a = pq.read_table(tmp_path / "merged" / "data" / f"{name}.parquet")
        b = pq.read_table(tmp_path / "again" / "data" / f"{name}.parquet")
        assert a.equals(b), name
    twice = merge([sites[0].snapshot, sites[0].snapshot.parent], tmp_path / "twice")
    assert twice.annotations == len(sites[0].labels)
    with pytest.raises(MergeError):
        merge([sites[0].snapshot], tmp_path / "merged")  # never over an existing dataset


def test_the_documented_duckdb_query_gives_the_same_union(sites: list[Site]) -> None:
    import duckdb  # optional for a site (the `merge` extra), in the dev extra for the tests

    con = duckdb.connect()
    view, vote = duckdb_query([s.snapshot for s in sites]).split(";\n", 2)[:2]
    con.execute(view.split("\n", 1)[1])  # past the comment line
    got = dict(con.execute("SELECT annotation_id, site FROM annotations").fetchall())
    assert got == {u: s.hub_id for s in sites for u in s.labels}
    majority = con.execute(vote).fetchall()
    assert sum(r[3] for r in majority) == len(got)
