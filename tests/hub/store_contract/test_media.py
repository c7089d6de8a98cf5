"""Sources and clips: idempotent by sha256; gold on and off."""

from __future__ import annotations

from hub.store.interface import HubStore

from .helpers import V, add_clips, sha


def test_sources_idempotent(store: HubStore) -> None:
    assert not store.has_source("s1")
    store.add_source("s1", "film.mp4", "/media/film.mp4", 60.0, 1000)
    store.add_source("s1", "other name", "/elsewhere", 1.0, 1)  # same bytes: kept as it was
    assert store.has_source("s1")


def test_clips_added_once_in_order(store: HubStore) -> None:
    shas = add_clips(store, 3, want=3)
    assert not store.add_clip(shas[1], 1, 1.0, "again", want=9)
    rows = store.clips()
    assert [r["sha256"] for r in rows] == shas
    again = store.clip(shas[1])
    assert again is not None and again["name"] == "clip 1" and again["want"] == 3
    assert again["n_labels"] == 0 and again["gold"] is None
    assert store.clip(sha("nope")) is None


def test_clip_fields(store: HubStore) -> None:
    assert store.add_clip(
        sha("x"), 10, 4.0, "x", want=2, source_sha256="src", source_name="film", start=8.0
    )
    row = store.clip(sha("x"))
    assert row is not None
    assert (row["source_sha256"], row["source_name"], row["start"], row["end"]) == (
        "src",
        "film",
        8.0,
        4.0,
    )


def test_gold_on_and_off(store: HubStore) -> None:
    (clip,) = add_clips(store, 1, want=3)
    assert not store.has_gold()
    assert store.set_gold(clip, V)
    row = store.clip(clip)
    assert row is not None and (row["gold"], row["want"]) == (V, 0)
    assert store.has_gold()
    assert store.set_gold(clip, None, want=3)
    row = store.clip(clip)
    assert row is not None and (row["gold"], row["want"]) == (None, 3)
    assert not store.has_gold()
    assert not store.set_gold(sha("unknown"), V)


def test_meta_and_project_versions(store: HubStore) -> None:
    assert store.meta("k") is None and store.meta("k", "d") == "d"
    store.set_meta("k", "1")
    store.set_meta("k", "2")
    assert store.meta("k") == "2"
    hub = store.hub_id()
    assert hub == store.hub_id() and hub.startswith("hub-")
    assert store.current_schema_json() is None
    assert store.project_version("p", "a = 1", '{"v": 1}') == 1
    assert store.project_version("p", "a = 1", '{"v": 1}') == 1
    assert store.project_version("p", "a = 2", '{"v": 2}') == 2
    assert store.current_schema_json() == '{"v": 2}'
