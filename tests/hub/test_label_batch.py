"""A LabelBatch is stored in one go (one transaction) with the outcome of one label at a time:
idempotent by uuid, a bad label refused alone, counters, leases and training as before."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hub.project import load_project
from hub.service import HubService
from hub.store import Store
from protocol import messages as m
from protocol.pins import hash_pin
from tests.conftest import PROJECTS

from .conftest import make_service, open_store

V, N = "gewelddadig", "niet_gewelddadig"


def make(path: Path, clips: int = 6, gold: int = 0, db: str | None = None) -> HubService:
    """A service with `clips` clips (and `gold` gold ones), three operators logged in at
    kiosk "k"; its store in `path` (SQLite) or the PostgreSQL database `db`."""
    path.mkdir(parents=True, exist_ok=True)
    project, _ = load_project(PROJECTS / "geweld.toml")
    store = open_store(db or path / "hub.db")
    for i in range(clips + gold):
        sha = hashlib.sha256(f"clip{i}".encode()).hexdigest()
        store.add_clip(sha, 10, 1.0, f"c{i}", want=project.redundancy)
        if i >= clips:
            store.set_gold(sha, V if i % 2 else N)
    for op in ("op1", "op2", "op3"):
        store.add_operator(op, op, hash_pin("1234", n=2**10))
    store.pair_kiosk("k")
    service = make_service(store, path, project)
    service.handle("k", m.Hello(kiosk_id="k", version="t"))
    for op in ("op1", "op2", "op3"):
        assert service.handle("k", m.Login(operator=op, pin="1234"))[0].ok
    return service


def lab(uuid: str, op: str, clip: str, value: str = V, lease: str | None = None) -> m.Label:
    return m.Label(
        uuid=uuid,
        operator=op,
        clip=clip,
        schema_version=1,
        values=[value],
        created_at=1.0,
        lease_id=lease,
        telemetry={"time_to_label_s": 2.0},
    )


def state(service: HubService) -> tuple[list, list, list]:
    conn = service.store.conn
    clips = conn.execute(
        "SELECT sha256, n_labels, n_open, want, consensus, confidence FROM clips ORDER BY seq"
    ).fetchall()
    assignments = conn.execute(
        "SELECT operator, clip, state FROM assignments ORDER BY operator, clip"
    ).fetchall()
    labels = conn.execute(
        'SELECT uuid, operator, clip, "values", telemetry FROM labels ORDER BY uuid'
    ).fetchall()
    return clips, assignments, labels


def test_duplicates_in_the_batch_and_in_the_store_are_stored_once_and_all_acked(
    tmp_path: Path,
) -> None:
    service = make(tmp_path)
    (assign,) = service.handle("k", m.RequestWork(operator="op1", count=3))
    a, b, c = (x.sha256 for x in assign.clips)
    (ack,) = service.handle("k", m.LabelBatch(labels=[lab("u-a", "op1", a, lease=assign.lease_id)]))
    assert ack.uuids == ["u-a"]
    batch = [
        lab("u-a", "op1", a, lease=assign.lease_id),  # already stored
        lab("u-b", "op1", b, lease=assign.lease_id),
        lab("u-b", "op1", b, lease=assign.lease_id),  # twice in this batch
        lab("u-c", "op1", c, N, lease=assign.lease_id),
    ]
    (ack,) = service.handle("k", m.LabelBatch(labels=batch))
    assert ack.uuids == ["u-a", "u-b", "u-b", "u-c"]
    assert service.store.count_labels() == 3
    for sha in (a, b, c):
        row = service.store.clip(sha)
        assert (row["n_labels"], row["n_open"]) == (1, 0)
    states = dict(
        service.store.conn.execute("SELECT clip, state FROM assignments WHERE operator = 'op1'")
    )
    assert states == {a: "labelled", b: "labelled", c: "labelled"}
    # the whole batch again: nothing changes, all acked
    before = state(service)
    (ack,) = service.handle("k", m.LabelBatch(labels=batch))
    assert ack.uuids == ["u-a", "u-b", "u-b", "u-c"]
    assert state(service) == before


def test_one_bad_label_is_refused_alone(tmp_path: Path) -> None:
    service = make(tmp_path)
    (assign,) = service.handle("k", m.RequestWork(operator="op1", count=3))
    a, b, c = (x.sha256 for x in assign.clips)
    batch = [
        lab("u-1", "op1", a, lease=assign.lease_id),
        lab("u-bad", "op1", b, "<script>", lease=assign.lease_id),
        lab("u-3", "op1", c, lease=assign.lease_id),
    ]
    ack, err = service.handle("k", m.LabelBatch(labels=batch))
    assert isinstance(ack, m.Ack) and ack.uuids == ["u-1", "u-3"]
    assert isinstance(err, m.Error) and err.code == "bad_label" and err.ref == "u-bad"
    assert service.store.count_labels() == 2
    assert service.store.clip(b)["n_open"] == 1  # still leased, no label
    # an unknown operator and an unknown clip: refused alone too
    batch = [
        lab("u-4", "nobody", b),
        lab("u-5", "op1", "f" * 64),
        lab("u-6", "op1", b, lease=assign.lease_id),
    ]
    ack, *errors = service.handle("k", m.LabelBatch(labels=batch))
    assert ack.uuids == ["u-6"]
    assert sorted((e.code, e.ref) for e in errors) == [("bad_label", "u-4"), ("not_found", "u-5")]
    assert service.store.count_labels() == 3


def test_late_and_unleased_labels_in_a_batch_count(tmp_path: Path) -> None:
    service = make(tmp_path)
    (assign,) = service.handle("k", m.RequestWork(operator="op1", count=2))
    a, b = (x.sha256 for x in assign.clips)
    service.store.expire_leases(now=assign.expires_at + 1)
    free = next(c["sha256"] for c in service.store.clips() if c["sha256"] not in (a, b))
    batch = [lab("late-a", "op1", a), lab("late-b", "op1", b), lab("nolease", "op1", free)]
    (ack,) = service.handle("k", m.LabelBatch(labels=batch))
    assert ack.uuids == ["late-a", "late-b", "nolease"]
    for sha in (a, b, free):
        row = service.store.clip(sha)
        assert (row["n_labels"], row["n_open"]) == (1, 0)
    # never again to op1, though it was never leased to op1
    (assign,) = service.handle("k", m.RequestWork(operator="op1", count=10))
    assert not {a, b, free} & {x.sha256 for x in assign.clips}


def test_a_batch_ends_as_the_same_labels_one_at_a_time(tmp_path: Path) -> None:
    """Counters, assignments, consensus and wanted votes, training state: the same."""
    one, batch = make(tmp_path / "one", gold=6), make(tmp_path / "batch", gold=6)
    labels: list[m.Label] = []
    golds = {c["sha256"]: c["gold"] for c in one.store.clips() if c["gold"]}
    values = iter([V, N, V, V, N, V, V, V, N, V, N, N, V, V, V, N, V, V, V, V])
    n = 0
    for op in ("op1", "op2", "op3"):
        (a1,) = one.handle("k", m.RequestWork(operator=op, count=8))
        (a2,) = batch.handle("k", m.RequestWork(operator=op, count=8))
        assert [x.sha256 for x in a1.clips] == [x.sha256 for x in a2.clips]
        for x in a1.clips:
            n += 1
            value = golds.get(x.sha256) or next(values, V)
            if op == "op3" and x.sha256 in golds and n % 3 == 0:
                value = N if value == V else V  # a few wrong answers in training
            labels.append(lab(f"u{n:03d}", op, x.sha256, value))
    labels.append(labels[0])  # and a retry
    for x in labels:
        assert isinstance(one.handle("k", x)[0], m.Ack)
    (ack,) = batch.handle("k", m.LabelBatch(labels=labels))
    assert len(ack.uuids) == len(labels)
    assert state(one) == state(batch)
    for op in ("op1", "op2", "op3"):
        assert one.in_training(op) == batch.in_training(op)
        assert one.operator_stats(op) == batch.operator_stats(op)
    assert not batch.in_training("op1")  # passed in the middle of the batch
    passed = "SELECT id, passed_training > 0 FROM operators ORDER BY id"
    assert one.store.conn.execute(passed).fetchall() == batch.store.conn.execute(passed).fetchall()
    # a trained operator's next batch (ordinary clips counted at the end of the batch)
    before = batch.operator_stats("op1")
    (a1,) = one.handle("k", m.RequestWork(operator="op1", count=4))
    (a2,) = batch.handle("k", m.RequestWork(operator="op1", count=4))
    more = [lab(f"v{i}", "op1", x.sha256) for i, x in enumerate(a1.clips)]
    assert [x.sha256 for x in a1.clips] == [x.sha256 for x in a2.clips] and more
    for x in more:
        one.handle("k", x)
    batch.handle("k", m.LabelBatch(labels=more))
    assert state(one) == state(batch)
    cached = batch.operator_stats("op1")
    assert cached.labels > before.labels and cached == one.operator_stats("op1")
    batch._stats.pop("op1")  # read again from the store: the same
    assert batch.operator_stats("op1") == cached


def test_commits_leave_checkpoints_to_the_caller_and_unused_indexes_are_gone(
    tmp_path: Path,
) -> None:
    service = make(tmp_path)
    store = service.store
    store.defer_checkpoints()
    (assign,) = service.handle("k", m.RequestWork(operator="op1", count=3))
    labels = [lab(f"w{i}", "op1", x.sha256) for i, x in enumerate(assign.clips)]
    service.handle("k", m.LabelBatch(labels=labels))
    other = Store(tmp_path / "hub.db", readonly=True)
    try:
        busy, frames, done = other.checkpoint("PASSIVE")
    finally:
        other.close()
    assert busy == 0 and frames > 0 and done == frames  # nothing was checkpointed before
    assert store.checkpoint("TRUNCATE") == (0, 0, 0)
    indexes = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")}
    assert "clips_free_priority" in indexes and "assignments_open" in indexes
    assert not indexes & {"clips_need", "clips_priority", "clips_free", "assignments_lease"}
