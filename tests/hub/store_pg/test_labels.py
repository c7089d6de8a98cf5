"""insert_labels: one INSERT … ON CONFLICT (uuid) DO NOTHING RETURNING, idempotent by uuid."""

from __future__ import annotations

import json
import threading
import uuid as uuidlib

import psycopg

from hub.store import RETRY, STORED, UNKNOWN_CLIP, NewLabel

from .conftest import add_clips, assign_work, holders, insert_labels, sha


def label(
    op: str, clip: str, value: str = "ja", uuid: str | None = None, lease: str | None = None
) -> NewLabel:
    return NewLabel(
        uuid=uuid or str(uuidlib.uuid4()),
        operator=op,
        clip=clip,
        schema_version=1,
        values=json.dumps([value]),
        segments="[]",
        telemetry='{"time_to_label_s": 2.0}',
        created_at=1000.0,
        lease_id=lease,
    )


def test_batch_idempotent(pg_hub: str) -> None:
    clips = add_clips(pg_hub, 3, want=3)
    batch = [label("op1", c) for c in clips] + [label("op2", clips[0], "nee")]
    with psycopg.connect(pg_hub) as conn:
        status, received = insert_labels(conn, "k1", batch, now=5000.0)
        assert status == [STORED] * 4
        assert received == sorted(received) and received[0] == 5000.0
        assert insert_labels(conn, "k1", batch, now=6000.0)[0] == [RETRY] * 4
        conn.commit()
        rows = conn.execute(
            'SELECT uuid, kiosk, "values", received_at FROM labels ORDER BY seq'
        ).fetchall()
        assert [r[0] for r in rows] == [x.uuid for x in batch]
        assert rows[3][1:] == ("k1", '["nee"]', received[3])  # the JSON text as sent
        assert [h[0:3] for h in holders(conn)] == [
            (clips[0], 3, 2),
            (clips[1], 3, 1),
            (clips[2], 3, 1),
        ]
        assert conn.execute("SELECT n_labels FROM clips ORDER BY seq").fetchall() == [
            (2,),
            (1,),
            (1,),
        ]


def test_duplicates_in_batch_and_unknown_clip(pg_hub: str) -> None:
    (clip,) = add_clips(pg_hub, 1, want=2)
    one = label("op1", clip)
    ghost = label("op1", sha("missing"))
    with psycopg.connect(pg_hub) as conn:
        status, _ = insert_labels(conn, "k", [ghost, one, one])
        assert status == [UNKNOWN_CLIP, STORED, RETRY]
        assert conn.execute("SELECT uuid FROM labels").fetchall() == [(one.uuid,)]
        assert conn.execute("SELECT n_labels FROM clips").fetchone() == (1,)


def test_counters_and_assignments_move(pg_hub: str) -> None:
    clips = add_clips(pg_hub, 2, want=2)
    with psycopg.connect(pg_hub, autocommit=True) as conn:
        lease, _exp, got = assign_work(conn, "op1", "k", 2, 60.0)
        assert conn.execute("SELECT n_open FROM clips ORDER BY seq").fetchall() == [(1,), (1,)]
        insert_labels(
            conn, "k", [label("op1", clips[0], lease=lease), label("op2", clips[1])]
        )  # op2 had no assignment
        assert conn.execute("SELECT n_labels, n_open FROM clips ORDER BY seq").fetchall() == [
            (1, 0),
            (1, 1),
        ]
        states = dict(
            ((op, clip), state)
            for op, clip, state in conn.execute("SELECT operator, clip, state FROM assignments")
        )
        assert states == {
            ("op1", clips[0]): "labelled",
            ("op1", clips[1]): "open",
            ("op2", clips[1]): "labelled",
        }
        assert [c["sha256"] for c in assign_work(conn, "op2", "k", 2, 60.0)[2]] == [clips[0]]


def test_same_batch_from_two_connections_at_once(pg_hub: str) -> None:
    """A kiosk's resend reaching two hub processes at the same moment: each label once."""
    clips = add_clips(pg_hub, 50, want=3)
    batch = [label(f"op{i % 3}", c) for i, c in enumerate(clips)]
    results: list[list[str]] = [[], []]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(i: int) -> None:
        try:
            with psycopg.connect(pg_hub) as conn:
                start.wait(timeout=30)
                results[i] = insert_labels(conn, f"k{i}", batch)[0]
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted([results[0].count(STORED), results[1].count(STORED)]) == [0, 50]
    with psycopg.connect(pg_hub) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT uuid) FROM labels").fetchone() == (
            50,
            50,
        )
        assert conn.execute("SELECT sum(n_labels) FROM clips").fetchone() == (50,)
