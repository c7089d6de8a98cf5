"""The model's priority in the hub's assignment: training and gold rules unchanged, never
the same clip twice, and the most uncertain work first (the store orders work by
`clips.priority`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from hub.models.importer import import_predictions
from hub.models.priority import PriorityConfig
from hub.models.runtime import refresh_priorities
from hub.project import load_project
from hub.service import HubService
from protocol import messages as m
from protocol.pins import hash_pin
from tests.conftest import PROJECTS

from .conftest import make_service, open_store

V, N = "gewelddadig", "niet_gewelddadig"


def make(tmp_path: Path) -> tuple[HubService, list[str], set[str]]:
    """20 work clips with P(violent) spread from sure to unsure, 6 gold clips, priorities
    by uncertainty. Returns the service, work clips most uncertain first, gold clips."""
    project, text = load_project(PROJECTS / "geweld.toml")
    store = open_store(tmp_path / "hub.db")
    store.project_version(project.name, text, json.dumps({"labels": [{"value": V}, {"value": N}]}))
    rows, gold = [], set()
    for i in range(26):
        sha = hashlib.sha256(f"clip{i}".encode()).hexdigest()
        store.add_clip(sha, 10, 1.0, f"c{i}", want=project.redundancy)
        if i >= 20:
            store.set_gold(sha, V if i % 2 else N)
            gold.add(sha)
        else:
            rows.append({"clip": sha, "scores": {V: 0.975 - 0.025 * i}})  # clip 19 most unsure
    import_predictions(store, json.dumps(rows).encode(), "m")
    refresh_priorities(store, PriorityConfig(mode="uncertainty"))
    store.add_operator("op1", "Op 1", hash_pin("1234", n=2**10))
    store.pair_kiosk("k")
    service = make_service(store, tmp_path, project)
    service.handle("k", m.Hello(kiosk_id="k", version="t"))
    (ok,) = service.handle("k", m.Login(operator="op1", pin="1234"))
    assert ok.ok
    return service, [r["clip"] for r in reversed(rows)], gold


def train(service: HubService, gold: set[str]) -> list[str]:
    """Training first: gold only, answers shown; pass it by answering right."""
    seen = []
    answers = {c: service.store.clip(c)["gold"] for c in gold}
    for n in range(service.policy.training_gold):
        (assign,) = service.handle("k", m.RequestWork(operator="op1", count=1))
        (clip,) = assign.clips
        assert clip.clip_id in gold and clip.answer == answers[clip.clip_id]
        seen.append(clip.clip_id)
        label = m.Label(
            uuid=f"t{n}",
            operator="op1",
            clip=clip.clip_id,
            schema_version=1,
            values=[clip.answer],
            created_at=float(n),
            lease_id=assign.lease_id,
        )
        assert isinstance(service.handle("k", label)[0], m.Ack)
    return seen


def test_training_gold_and_never_twice_hold_with_priorities(tmp_path: Path) -> None:
    service, _order, gold = make(tmp_path)
    seen = train(service, gold)
    while True:
        (assign,) = service.handle("k", m.RequestWork(operator="op1", count=7))
        if not assign.clips:
            break
        assert all(c.answer is None for c in assign.clips)  # no answers after training
        seen += [c.clip_id for c in assign.clips]
    work = [c for c in seen if c not in gold]
    assert len(work) == len(set(work)) == 20  # every work clip once
    assert any(c in gold for c in seen[service.policy.training_gold :])  # gold still mixed in


def test_most_uncertain_work_first(tmp_path: Path) -> None:
    service, order, gold = make(tmp_path)
    train(service, gold)
    (assign,) = service.handle("k", m.RequestWork(operator="op1", count=8))
    work = [c.clip_id for c in assign.clips if c.clip_id not in gold]
    assert work == order[: len(work)]
