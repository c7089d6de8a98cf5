"""The live export rows (/api/v1/export/clips.*): majority by the consensus engine."""

from __future__ import annotations

from typing import Any

from hub.export.basic import majority_rows


class _Rows:
    def __init__(self, labels: list[dict[str, Any]], clips: list[str]) -> None:
        self._labels, self._clips = labels, clips

    def labels(self) -> list[dict[str, Any]]:
        return self._labels

    def clips(self) -> list[dict[str, Any]]:
        return [
            {"sha256": c, "name": c, "source_name": "s", "start": 0.0, "end": 1.0}
            for c in self._clips
        ]


def _label(clip: str, op: str, *values: str) -> dict[str, Any]:
    return {"clip": clip, "operator": op, "values": list(values)}


def test_majority_ties_votes_and_unlabelled_clips() -> None:
    store = _Rows(
        [
            _label("a", "o1", "geweld"),
            _label("a", "o2", "geweld"),
            _label("a", "o3", "geen"),
            _label("b", "o1", "geen"),
            _label("b", "o2", "geweld"),  # tie: first project label
            _label("c", "o1", "oud"),  # a value from an older schema version
        ],
        ["a", "b", "c", "d"],
    )
    rows = {r["clip_id"]: r for r in majority_rows(store, ["geweld", "geen"])}  # type: ignore[arg-type]
    assert rows["a"]["label"] == "geweld" and rows["a"]["votes"] == {"geweld": 2, "geen": 1}
    assert rows["a"]["n_votes"] == 3
    assert rows["b"]["label"] == "geweld"
    assert rows["c"]["label"] == "oud" and rows["c"]["n_votes"] == 1
    assert rows["d"]["label"] is None and rows["d"]["votes"] == {} and rows["d"]["n_votes"] == 0


def test_tie_follows_the_project_order_not_the_alphabet() -> None:
    store = _Rows([_label("a", "o1", "zeker"), _label("a", "o2", "amper")], ["a"])
    (row,) = majority_rows(store, ["zeker", "amper"])  # type: ignore[arg-type]
    assert row["label"] == "zeker"
    (row,) = majority_rows(store, ["amper", "zeker"])  # type: ignore[arg-type]
    assert row["label"] == "amper"


def test_no_labels_at_all() -> None:
    (row,) = majority_rows(_Rows([], ["a"]), ["geweld"])  # type: ignore[arg-type]
    assert row["label"] is None
