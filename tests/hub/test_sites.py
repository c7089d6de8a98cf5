"""One program, several sites on one database: site names, what each site keeps apart
(labels' and kiosks' site, pairing codes) and what the program shares (hub id, operators,
clips, the pseudonym key), work never over-assigned across sites, and the export as one
dataset with a `site` column (Parquet, pandas, Hugging Face `datasets`, the data card)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import msgspec
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.export.snapshot import export_command
from hub.site.identity import site_name
from hub.store import Store
from hub.store.audit import audit
from hub.store.location import LocationError
from protocol.pins import hash_pin
from tests.conftest import PROJECTS
from tests.labelling import add_label


def clip(n: int) -> str:
    return hashlib.sha256(f"clip-{n}".encode()).hexdigest()


def test_site_name_from_the_command_line_else_the_site_file(tmp_path: Path) -> None:
    assert site_name(tmp_path) is None  # one site: the database's, named by its hub id
    (tmp_path / "hub.toml").write_text('site = "zaal-2"\n')
    assert site_name(tmp_path) == "zaal-2"
    assert site_name(tmp_path, "north") == "north"  # --site / STRAAT_SITE win
    with pytest.raises(LocationError, match="not a site name"):
        site_name(tmp_path, "zaal 2")
    (tmp_path / "hub.toml").write_text('site = "../x"\n')
    with pytest.raises(LocationError, match="hub.toml: '../x' is not a site name"):
        site_name(tmp_path)


def test_serve_refuses_a_bad_site_name_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "hub"
    result = CliRunner().invoke(
        main,
        ["serve", "--project", str(PROJECTS / "geweld.toml"), "--data", str(data), "--init",
         "--site", "north/2", "--no-zeroconf"],
        env={"STRAAT_SITE": ""},
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "Error: --site: 'north/2' is not a site name" in result.output
    assert not (data / "hub.db").exists() and not (data / "hub.key").exists()


def test_sqlite_hub_is_one_site_named_by_its_hub_id(tmp_path: Path) -> None:
    store = Store(tmp_path / "hub.db")
    try:
        store.add_clip(clip(0), 10, 1.0, "c0", want=1)
        add_label(store, uuid="u0", operator="op1", clip=clip(0), kiosk="k1", schema_version=1,
                  values=["ja"], segments=[], telemetry={}, created_at=1.0)  # fmt: skip
        store.pair_kiosk("k1", "pk")
        assert store.site == store.hub_id() and store.sites() == [store.hub_id()]
        assert store.labels()[0]["site"] == store.hub_id() == store.kiosk("k1")["site"]
    finally:
        store.close()


@pytest.fixture
def two_sites(pg_url: str):
    north, south = Store(pg_url, site="north"), Store(pg_url, site="south")
    yield north, south
    north.close()
    south.close()


def test_what_the_sites_share_and_what_each_keeps(two_sites: tuple[Store, Store]) -> None:
    north, south = two_sites
    assert north.hub_id() == south.hub_id()  # the program's id
    north.add_operator("op1", "Anna", hash_pin("2468"))
    assert [o["id"] for o in south.operators()] == ["op1"]  # added once, known at both
    # a pairing code pairs at the site that made it only
    code = north.create_pair_code()
    assert south.claim_pair_code(code, "k-s", "key-s") == "wrong"
    assert south.kiosk("k-s") is None
    assert north.claim_pair_code(code, "k-n", "key-n") == ""
    assert north.kiosk("k-n")["site"] == "north"
    # a kiosk seen at another site is on that site's list from then on
    south.kiosk_seen("k-n", version="1.0")
    assert north.kiosk("k-n")["site"] == "south"
    north.kiosk_seen("k-n")
    north.add_clip(clip(0), 10, 1.0, "c0", want=2)
    for store, uuid, op in ((north, "u1", "op1"), (south, "u2", "op2")):
        add_label(store, uuid=uuid, operator=op, clip=clip(0), kiosk="k", schema_version=1,
                  values=["ja"], segments=[], telemetry={}, created_at=1.0)  # fmt: skip
    assert {x["uuid"]: x["site"] for x in north.labels()} == {"u1": "north", "u2": "south"}
    assert north.sites() == south.sites() == ["north", "south"]


def test_work_is_never_over_assigned_across_sites(two_sites: tuple[Store, Store]) -> None:
    north, south = two_sites
    for i in range(30):
        north.add_clip(clip(i), 10, 1.0, f"c{i}", want=2)
    taken: dict[str, int] = {}
    for round_ in range(6):  # four operators, two at each site, asking in turn
        for store, op in ((north, "op1"), (south, "op2"), (north, "op3"), (south, "op4")):
            _, _, clips = store.assign(op, f"k-{op}", 4, lease_seconds=600)
            for c in clips:
                taken[c["sha256"]] = taken.get(c["sha256"], 0) + 1
                if round_ % 2 == 0:  # some labelled, some left open on their lease
                    add_label(store, uuid=f"{op}-{c['sha256'][:8]}", operator=op,
                              clip=c["sha256"], kiosk=f"k-{op}", schema_version=1,
                              values=["ja"], segments=[], telemetry={},
                              created_at=1.0)  # fmt: skip
    assert max(taken.values()) == 2 and sum(taken.values()) == 60  # every slot once
    found = audit(north.location)
    assert found["over_assigned"] == 0 and found["repeated_for_operator"] == 0, found
    assert found["counter_mismatch"] == 0, found


def test_export_is_one_dataset_with_a_site_column(
    two_sites: tuple[Store, Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    north, south = two_sites
    from hub.project import load_project, to_schema

    project, text = load_project(PROJECTS / "geweld.toml")
    schema = json.dumps(msgspec.to_builtins(to_schema(project, 0)))
    north.project_version(project.name, text, schema)
    for i in range(8):
        north.add_clip(clip(i), 10, 1.0, f"c{i}", want=2, source_sha256=f"s{i % 4}")
    for i in range(8):
        for store, op in ((north, "op1"), (south, "op2")):
            add_label(store, uuid=f"{op}-{i}", operator=op, clip=clip(i), kiosk=f"k-{op}",
                      schema_version=1, values=["gewelddadig"], segments=[], telemetry={},
                      created_at=1.0 + i)  # fmt: skip
    data = tmp_path / "north"
    data.mkdir()
    folder = export_command(data, tmp_path / "exports", ["parquet"], 0, db=north.location)
    ann = pd.read_parquet(folder / "data/annotations.parquet")
    assert ann.groupby("site").size().to_dict() == {"north": 8, "south": 8}
    assert pq.read_schema(folder / "data/annotations.parquet").field("site").type == "string"
    # one pseudonym per operator for the whole program, whichever site they worked at
    assert ann.groupby("operator_id")["site"].nunique().max() == 1
    card = (folder / "README.md").read_text()
    assert "| site | string | site whose hub stored the label" in card
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
    loaded = datasets.load_dataset(str(folder), "annotations", cache_dir=str(tmp_path / "c"))
    assert sorted(set(loaded["full"]["site"])) == ["north", "south"]
