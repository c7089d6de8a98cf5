"""The store's readers (dashboard, metrics, health, accounts, predictions) give the same
answers on SQLite and PostgreSQL for the same data: one scenario, written through the
interface into both, every reader compared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hub.store import Store, accounts, dashboard, health, predictions
from hub.store import metrics as metric_reads
from hub.store.audit import audit_connection
from hub.store.interface import HubStore

from .helpers import N, V, add_clips, add_operators, label

NOW = 1_800_000_000.0  # a fixed clock: day and week starts are the same in both runs


def fill(store: HubStore) -> dict[str, Any]:
    """The same project, clips, operators, kiosks, leases, labels, alerts, breaks, accounts
    and predictions in any store; returns what the scenario made (ids, tokens)."""
    clips = add_clips(store, 6, want=2)
    ops = add_operators(store, 3)
    store.project_version("p", 'name = "p"', json.dumps({"labels": [{"value": V}]}))
    store.set_gold(clips[5], V)
    for k in ("k1", "k2"):
        store.pair_kiosk(k, f"key-{k}")
        store.kiosk_seen(k, version="1.0", operator=ops[0], outbox=3, cache_bytes=10)
        store.log_session(ops[0], k, "login")
    lease, _, got = store.assign(ops[0], "k1", 3, 600.0)
    batch = [
        label(ops[0], got[0]["sha256"], V, lease=lease, seconds=4.0),
        label(ops[0], got[1]["sha256"], N, lease=lease, seconds=9999.0),
        label(ops[1], clips[0], V, seconds=1.5),
        label(ops[2], clips[0], N),
        label(ops[1], clips[5], V),
    ]
    store.add_labels("k1", batch, now=NOW - 100)
    store.retract_label(batch[3].uuid, ops[2])
    store.add_alert("a1", ops[1], clips[0], "k1", NOW - 50)
    store.add_alert("a2", ops[1], clips[1], "k2", NOW - 40)
    store.add_break("b1", ops[0], "k1", NOW - 30, 300.0, True, "scheduled")
    accounts.add_user(store, "lead", "lead", "password-1")
    accounts.add_user(store, "lead", "lead", "password-2")  # a new version
    token = accounts.create_token(store, "staff", "ci")
    sid, _csrf = accounts.create_session(store, accounts.Principal("lead", "lead"))
    for _ in range(3):
        accounts.login_failed(store, "mallory", "10.0.0.9", now=NOW - 10)
    predictions.write_predictions(
        store,
        "m",
        1,
        [(clips[1], V, {V: 0.9, N: 0.1}), (clips[2], N, {V: 0.2, N: 0.8})],
        fingerprint="f1",
        source="a.csv",
        n_rows=2,
        now=NOW - 5,
    )
    predictions.set_priorities(store, {clips[4]: 2.0, clips[3]: 1.0})
    return {"clips": clips, "ops": ops, "token": token, "sid": sid, "batch": batch}


def _who(principal: accounts.Principal | None) -> tuple[str, str] | None:
    return None if principal is None else (principal.name, principal.role)


def answers(store: HubStore, made: dict[str, Any]) -> dict[str, Any]:
    """Every reader's answer, floats rounded (the engines sum in different orders)."""
    clips, ops = made["clips"], made["ops"]
    out: dict[str, Any] = {
        "totals": dashboard.totals(store),
        "counts": dashboard.counts(store, now=NOW),
        "throughput": dashboard.throughput(store, now=NOW, hours=3),
        "by_operator": dashboard.label_counts_by_operator(store, NOW - 1000),
        "open_alerts": dashboard.open_alerts_by_operator(store),
        "distribution": dashboard.label_distribution(store),
        "kiosks": [
            (k.id, k.version, k.operator, k.outbox) for k in dashboard.kiosks(store, now=NOW)
        ],
        "alerts": [(a.uuid, a.operator) for a in dashboard.alerts(store)],
        "stats": [
            (s.id, s.clips_today, s.clips_total, round(s.exposure_min_today, 6), s.alerts_open)
            for s in dashboard.operator_stats(store, now=NOW)
        ],
        "statement": dashboard.statement(store, ops[0], NOW - 86400, NOW + 1, now=NOW),
        "votes": sorted(dashboard.votes(store)),
        "long_format": dashboard.long_format(store, upto=store.last_label_rowid()),
        "gold": dashboard.gold_answers(store),
        "names": dashboard.operator_names(store),
        "first_activity": dashboard.first_activity(store, ops[1]),
        "labels_received": metric_reads.labels_received(store),
        "backlog": metric_reads.backlog(store),
        "health": health.database_readable(store),
        "password": accounts.check_password(store, "lead", "password-2"),
        "old_password": accounts.check_password(store, "lead", "password-1"),
        "token": accounts.check_token(store, made["token"]),
        "session": _who(accounts.get_session(store, made["sid"])),
        "locked": accounts.login_locked(store, "mallory", "10.0.0.9", now=NOW),
        "lockouts": accounts.lockouts(store, now=NOW),
        "tokens": [(t["name"], t["role"]) for t in accounts.tokens(store)],
        "models": [(m.model, m.latest) for m in predictions.models(store)],
        "latest": predictions.latest_predictions(store, "m"),
        "all_predictions": predictions.all_predictions(store),
        "clip_consensus": predictions.clip_consensus(store),
        "priorities": predictions.priorities(store),
        "import": predictions.find_import(store, "m", "f1"),
        "next_version": predictions.next_version(store, "m"),
        "exposure": round(store.exposure_minutes(ops[0], 0.0), 6),
        "votes_of": store.clip_votes_many(clips),
        "history": store.operator_history(ops[1]),
        "labels": [{k: v for k, v in row.items()} for row in store.labels(include_retracted=True)],
        "refusals": store.refusals(),
        "audit": audit_connection(store.conn, now=NOW),
    }
    out["lifted"] = accounts.lift_lockouts(store, source="10.0.0.9")
    out["ended"] = accounts.end_sessions(store, "lead")
    out["revoked"] = accounts.revoke_token(store, "ci")
    return out


def test_same_answers_on_sqlite_and_postgresql(tmp_path: Path, pg_url: str) -> None:
    results = []
    for location in (tmp_path / "hub.db", pg_url):
        store = Store(location, site="north")
        try:
            made = fill(store)
            results.append((made, answers(store, made)))
        finally:
            store.close()
    (made_a, a), (made_b, b) = results
    # ids made at random (uuids, tokens) differ; put the first run's in the second's answers
    assert made_a["clips"] == made_b["clips"]
    for key in a:
        if key == "labels":
            uuids = {x.uuid: y.uuid for x, y in zip(made_a["batch"], made_b["batch"], strict=True)}
            a[key] = [{**r, "uuid": uuids[r["uuid"]], "lease_id": None} for r in a[key]]
            b[key] = [{**r, "lease_id": None} for r in b[key]]
        assert a[key] == b[key], key
    assert a["counts"].labels == 4 and a["counts"].alerts_open == 2
    assert a["distribution"] == {V: 3, N: 1}
    assert a["locked"] is False and a["lifted"] == 3 and a["revoked"] == 1
    assert a["old_password"] is None and a["password"] is not None


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_long_format_upto_leaves_out_later_labels(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    location = tmp_path / "hub.db" if backend == "sqlite" else request.getfixturevalue("pg_url")
    store = Store(location)
    try:
        clips = add_clips(store, 2, want=3)
        store.add_labels("k", [label("op1", clips[0])])
        upto = store.last_label_rowid()
        store.add_labels("k", [label("op2", clips[1])])
        assert dashboard.long_format(store, upto=upto)[0] == [clips[0]]
        assert sorted(dashboard.long_format(store)[0]) == sorted(clips)
    finally:
        store.close()
