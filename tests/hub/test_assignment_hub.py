"""The assignment policy as the hub applies it: adaptive overlap, gold at the project's rate,
training on gold with the answer shown, never the same clip twice."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pytest

from hub.project import load_project
from hub.service import HubService
from protocol import messages as m
from protocol.pins import hash_pin
from tests.conftest import PROJECTS

from .conftest import make_service, open_store

V, N = "gewelddadig", "niet_gewelddadig"
_uuid = itertools.count()


def make(tmp_path: Path, clips: int = 20, gold: int = 0, operators: int = 6) -> HubService:
    project, _ = load_project(PROJECTS / "geweld.toml")
    store = open_store(tmp_path / "hub.db")
    for i in range(clips + gold):
        sha = hashlib.sha256(f"clip{i}".encode()).hexdigest()
        store.add_clip(sha, 10, 1.0, f"c{i}", want=project.redundancy)
        if i >= clips:
            store.set_gold(sha, V if i % 2 else N)
    for i in range(1, operators + 1):
        store.add_operator(f"op{i}", f"Op {i}", hash_pin("1234", n=2**10))
    store.pair_kiosk("k")
    service = make_service(store, tmp_path, project)
    service.handle("k", m.Hello(kiosk_id="k", version="t"))
    return service


def login(service: HubService, op: str) -> m.LoginResult:
    (result,) = service.handle("k", m.Login(operator=op, pin="1234"))
    assert result.ok
    return result


def work(service: HubService, op: str, count: int) -> m.Assign:
    (assign,) = service.handle("k", m.RequestWork(operator=op, count=count))
    return assign


def label(service: HubService, op: str, clip: str, value: str) -> None:
    msg = m.Label(
        uuid=f"u{next(_uuid)}",
        operator=op,
        clip=clip,
        schema_version=1,
        values=[value],
        created_at=float(next(_uuid)),
    )
    (ack,) = service.handle("k", msg)
    assert isinstance(ack, m.Ack)


def test_confident_clip_stops_early_and_contested_clip_gets_more(tmp_path: Path) -> None:
    service = make(tmp_path, clips=2)
    for op in ("op1", "op2", "op3", "op4", "op5", "op6"):
        login(service, op)
    a, b = (c["sha256"] for c in service.store.clips())
    for op in ("op1", "op2"):
        got = [c.sha256 for c in work(service, op, 2).clips]
        assert got == [a, b]
        label(service, op, a, V)  # a: 2 of 2 agree
    label(service, "op1", b, V)
    label(service, "op2", b, N)  # b: split
    assert service.store.clip(a)["want"] == 2  # confident after min_votes: stop early
    assert [c.sha256 for c in work(service, "op3", 5).clips] == [b]
    label(service, "op3", b, V)  # 2:1 — still contested at k=3
    assert service.store.clip(b)["want"] == 4
    assert [c.sha256 for c in work(service, "op4", 5).clips] == [b]
    label(service, "op4", b, V)
    label(service, "op5", b, N) if work(service, "op5", 5).clips else None
    assert service.store.clip(b)["want"] <= 5  # never beyond max_votes
    work(service, "op6", 5)
    assert service.store.clip(b)["n_labels"] + service.store.clip(b)["n_open"] <= 5


def test_training_on_gold_with_answers_then_work_with_gold_at_the_rate(tmp_path: Path) -> None:
    service = make(tmp_path, clips=40, gold=10)
    result = login(service, "op1")
    assert result.training
    assign = work(service, "op1", 5)
    assert len(assign.clips) == 5
    golds = {c["sha256"]: c["gold"] for c in service.store.clips() if c["gold"]}
    assert all(c.sha256 in golds and c.answer == golds[c.sha256] for c in assign.clips)
    for c in assign.clips:  # all right: passes the bar (5 answers, 80 %)
        label(service, "op1", c.sha256, golds[c.sha256])
    assert not service.in_training("op1")
    assign = work(service, "op1", 20)
    kinds = [c.sha256 in golds for c in assign.clips]
    assert all(c.answer is None for c in assign.clips)  # no answers outside training
    # 10 % over the operator's whole history: 25 labels → about 2-3 gold
    assert 1 <= sum(kinds) <= 3 and len(assign.clips) == 20
    seen = {c.sha256 for c in assign.clips}
    assert len(seen) == 20


def test_failing_training_stays_in_training(tmp_path: Path) -> None:
    service = make(tmp_path, clips=10, gold=10)
    login(service, "op1")
    golds = {c["sha256"]: c["gold"] for c in service.store.clips() if c["gold"]}
    for c in work(service, "op1", 5).clips:
        label(service, "op1", c.sha256, N if golds[c.sha256] == V else V)  # all wrong
    assert service.in_training("op1")
    nxt = work(service, "op1", 3).clips
    assert nxt and all(c.sha256 in golds for c in nxt)


def test_no_gold_means_no_training(tmp_path: Path) -> None:
    service = make(tmp_path, clips=5)
    assert not login(service, "op1").training
    assert len(work(service, "op1", 5).clips) == 5


@pytest.mark.parametrize("rounds", [3])
def test_never_twice_with_gold_and_leases(tmp_path: Path, rounds: int) -> None:
    service = make(tmp_path, clips=30, gold=6)
    login(service, "op1")
    golds = {c["sha256"]: c["gold"] for c in service.store.clips() if c["gold"]}
    got: list[str] = []
    for _ in range(rounds * 4):
        assign = work(service, "op1", 4)
        got += [c.sha256 for c in assign.clips]
        for c in assign.clips:
            label(service, "op1", c.sha256, golds.get(c.sha256, V))
    assert len(got) == len(set(got))


def test_dawid_skene_refresh_sets_consensus(tmp_path: Path) -> None:
    service = make(tmp_path, clips=3)
    for op in ("op1", "op2", "op3"):
        login(service, op)
        for c in work(service, op, 3).clips:
            label(service, op, c.sha256, V)
    service.store.conn.execute("UPDATE clips SET consensus = NULL, confidence = 0")
    assert service.refresh_consensus() == 3
    rows = service.store.clips()
    assert {r["consensus"] for r in rows} == {V}
    assert all(r["confidence"] > 0.5 for r in rows)
    assert service.refresh_consensus() == 0  # nothing changed: nothing written


def test_a_gold_clip_added_with_votes_wanted_is_never_also_work(tmp_path: Path) -> None:
    service = make(tmp_path, clips=3, gold=0)
    sha = hashlib.sha256(b"gold-added-directly").hexdigest()
    service.store.add_clip(sha, 10, 1.0, "g", want=3, gold=V)  # want left at k
    service.store.set_passed_training("op1")
    login(service, "op1")
    assign = work(service, "op1", 10)  # must not fail on the assignments key
    shas = [c.sha256 for c in assign.clips]
    assert len(shas) == len(set(shas))
    assert shas.count(sha) <= 1
