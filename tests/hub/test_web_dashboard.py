"""`hub.store.dashboard`: kiosk states, hours worked, counts, statement — on a real SQLite store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from hub.store import Store
from hub.store import dashboard as d
from protocol.constants import HEARTBEAT_INTERVAL
from tests.labelling import add_label


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "hub.db")
    for i in range(4):
        s.add_clip(f"{i:064x}", 100, 2.0, f"clip-{i}", want=2)
    s.add_operator("op1", "One", "x")
    s.add_operator("op2", "Two", "x")
    yield s
    s.close()


def clip(i: int) -> str:
    return f"{i:064x}"


def label(store: Store, uuid: str, op: str, i: int, value: str, at: float, shown: float = 5.0):
    add_label(
        store,
        uuid=uuid,
        operator=op,
        clip=clip(i),
        kiosk="k1",
        schema_version=1,
        values=[value],
        segments=[],
        telemetry={"time_to_label_s": shown},
        created_at=at,
    )


def event(store: Store, op: str, kiosk: str, kind: str, at: float) -> None:
    store.conn.execute(
        "INSERT INTO sessions_log (operator, kiosk, kind, at) VALUES (?, ?, ?, ?)",
        (op, kiosk, kind, at),
    )


# ---- pure interval arithmetic --------------------------------------------------------------


def test_merge_and_clipped_total() -> None:
    assert d.merge([(5, 7), (1, 3), (2, 4), (7, 8), (9, 9)]) == [(1, 4), (5, 8)]
    assert d.clipped_total([(0, 10), (5, 15), (20, 30)], 8, 25) == 7 + 5


def test_label_stretches_split_at_long_gaps() -> None:
    times = [(100.0, 10.0), (130.0, 10.0), (130.0 + d.WORK_GAP + 60, 5.0)]
    assert d.label_stretches(times) == [
        (90.0, 130.0),
        (130.0 + d.WORK_GAP + 55, 130.0 + d.WORK_GAP + 60),
    ]


def test_sessions_close_at_logout_at_the_next_login_or_at_the_last_sign_of_life() -> None:
    events = [
        ("k1", "a", "login", 0.0),
        ("k1", "a", "logout", 100.0),
        ("k1", "b", "login", 200.0),
        ("k1", "c", "login", 250.0),  # b never logged out: c's login ends b's session
        ("k2", "a", "login", 300.0),
        ("k2", "a", "login", 310.0),  # a re-login after a reconnect continues the session
    ]
    got = d.session_intervals(events, {("k1", "c"): 400.0, ("k2", "a"): 500.0})
    assert got["a"] == [(0.0, 100.0), (300.0, 310.0), (310.0, 500.0)]
    assert got["b"] == [(200.0, 250.0)]
    assert got["c"] == [(250.0, 400.0)]
    assert sum(b - a for a, b in d.merge(got["a"])) == 300.0


def test_week_starts_on_monday_midnight() -> None:
    now = datetime(2025, 3, 13, 15, 30).timestamp()  # a Thursday
    assert datetime.fromtimestamp(d.week_start(now)) == datetime(2025, 3, 10)
    assert datetime.fromtimestamp(d.day_start(now)) == datetime(2025, 3, 13)


# ---- kiosks --------------------------------------------------------------------------------


def test_kiosk_online_within_three_heartbeats_and_who_works_there(store: Store) -> None:
    store.pair_kiosk("k1")
    store.pair_kiosk("k2")
    store.pair_kiosk("gone")
    store.unpair_kiosk("gone")
    store.kiosk_seen("k1", version="0.1.0", outbox=3, cache_bytes=2048, operator="op1")
    store.log_session("op1", "k1", "login")
    store.kiosk_seen("k2", operator="op2")
    store.log_session("op2", "k2", "login")
    store.log_session("op2", "k2", "logout")  # the heartbeat column keeps op2; the log says no
    now = time.time()
    states = {k.id: k for k in d.kiosks(store, now)}
    assert set(states) == {"k1", "k2"}
    k1 = states["k1"]
    assert k1.online and k1.operator == "op1" and k1.outbox == 3 and k1.cache_bytes == 2048
    assert k1.version == "0.1.0"
    assert states["k2"].online and states["k2"].operator is None
    later = now + d.ONLINE_BEATS * HEARTBEAT_INTERVAL + 0.5
    assert not any(k.online for k in d.kiosks(store, later))
    assert all(k.operator is None for k in d.kiosks(store, later))


def test_open_pair_codes_hide_used_and_expired(store: Store) -> None:
    fresh = store.create_pair_code()
    used = store.create_pair_code()
    store.use_pair_code(used, "k9")
    store.create_pair_code(ttl=-1)
    assert [c.code for c in d.open_pair_codes(store)] == [fresh]


def test_unpair_unknown_kiosk_is_not_found(store: Store) -> None:
    with pytest.raises(d.NotFound):
        d.unpair(store, "nope")
    store.pair_kiosk("k1")
    d.unpair(store, "k1")
    assert not store.is_paired("k1")


# ---- counts --------------------------------------------------------------------------------


def test_counts_throughput_and_distribution(store: Store) -> None:
    now = time.time()
    label(store, "u1", "op1", 0, "a", now - 10)
    label(store, "u2", "op2", 0, "b", now - 5)
    label(store, "u3", "op1", 1, "a", now - 1)
    store.retract_label("u3", "op1")
    store.add_alert("al1", "op1", clip(0), "k1", now)
    c = d.counts(store, now)
    assert (c.clips, c.done, c.backlog, c.votes_needed, c.labels) == (4, 1, 3, 6, 2)
    assert c.labels_last_hour == 2 and c.alerts_open == 1 and c.operators_active == 2
    hours = d.throughput(store, now)
    assert len(hours) == 24 and hours[-1][1] == 2 and sum(n for _, n in hours) == 2
    assert d.label_distribution(store) == {"a": 1, "b": 1}


# ---- operators -----------------------------------------------------------------------------


def test_hours_from_sessions_and_from_labels_made_offline(store: Store) -> None:
    now = datetime.now().replace(hour=12, minute=0, second=0, microsecond=0).timestamp()
    # op1: a one-hour session with a logout
    event(store, "op1", "k1", "login", now - 3 * 3600)
    event(store, "op1", "k1", "logout", now - 2 * 3600)
    # op2: no session at all (kiosk offline), labels 2 minutes apart for 20 minutes
    for n in range(11):
        label(store, f"v{n}", "op2", n % 4, "a", now - 1800 + n * 120, shown=30)
    hours = d.hours_worked(store, d.day_start(now), now + 1, now)
    assert hours["op1"] == pytest.approx(1.0)
    assert hours["op2"] == pytest.approx((20 * 60 + 30) / 3600)


def test_operator_stats(store: Store) -> None:
    now = datetime.now().replace(hour=12, minute=0, second=0, microsecond=0).timestamp()
    label(store, "u1", "op1", 0, "a", now - 60, shown=90)
    label(store, "u2", "op1", 1, "a", now - 30, shown=30)
    store.add_alert("al1", "op1", clip(0), "k1", now)
    store.add_alert("al2", "op1", clip(1), "k1", now)
    d.acknowledge_alert(store, "al2")
    store.set_operator_active("op2", False)
    stats = {s.id: s for s in d.operator_stats(store, now, {"op1": {"agreement": 0.75}})}
    one, two = stats["op1"], stats["op2"]
    assert one.clips_today == one.clips_week == one.clips_total == 2
    assert one.exposure_min_today == 2.0
    assert one.alerts_open == 1 and one.alerts_total == 2
    assert one.agreement == 0.75 and one.gold_accuracy is None
    assert one.breaks_today is None  # no kiosk reports breaks yet: shown as —
    assert not two.active and two.clips_total == 0 and two.hours_today == 0


def test_breaks_reported_by_kiosks_per_operator_today(store: Store) -> None:
    now = datetime.now().replace(hour=12, minute=0, second=0, microsecond=0).timestamp()
    assert {s.breaks_today for s in d.operator_stats(store, now)} == {None}
    assert store.add_break("b1", "op1", "k1", now - 3600, 600.0, True, "enforced")
    assert not store.add_break("b1", "op1", "k1", now - 3600, 600.0, True, "enforced")  # resend
    store.add_break("b2", "op1", "k2", now - 600, 300.0, False, "voluntary")
    store.add_break("b0", "op1", "k1", now - 86400 * 2, 900.0, True, "enforced")  # not today
    stats = {s.id: s for s in d.operator_stats(store, now)}
    one, two = stats["op1"], stats["op2"]
    assert (one.breaks_today, one.break_min_today, one.enforced_breaks_today) == (2, 15.0, 1)
    # a hub that hears breaks shows 0, not "not reported", for someone without one
    assert (two.breaks_today, two.break_min_today) == (0, 0.0)


def test_statement_lists_the_breaks_of_the_period(store: Store) -> None:
    day1 = datetime(2025, 3, 10, 9, 0).timestamp()
    event(store, "op1", "k1", "login", day1)
    event(store, "op1", "k1", "logout", day1 + 4 * 3600)
    store.add_break("b1", "op1", "k1", day1 + 3000, 600.0, True, "enforced")
    store.add_break("b2", "op1", "k1", day1 + 9000, 90.0, False, "offered")
    store.add_break("b3", "op1", "k1", day1 + 86400, 60.0, False, "voluntary")  # next day
    store.add_break("b4", "op2", "k2", day1 + 3000, 60.0, False, "voluntary")  # someone else
    start, end = datetime(2025, 3, 10).timestamp(), datetime(2025, 3, 11).timestamp()
    st = d.statement(store, "op1", start, end, end)
    assert st.breaks == 2 and st.break_min == 11.5
    assert st.break_list == [
        (day1 + 3000, 10.0, True, "enforced"),
        (day1 + 9000, 1.5, False, "offered"),
    ]


def test_operator_writes(store: Store) -> None:
    with pytest.raises(d.Conflict):
        d.add_new_operator(store, "op1", "Again", "h")
    d.add_new_operator(store, "op3", "Three", "h3")
    assert store.operator("op3")["pin_hash"] == "h3"
    store.record_login("op3", False)
    d.set_pin(store, "op3", "new")
    op = store.operator("op3")
    assert op["pin_hash"] == "new" and op["failed"] == 0
    d.set_active(store, "op3", False)
    assert "op3" not in [r[0] for r in store.roster()]
    with pytest.raises(d.NotFound):
        d.set_pin(store, "nobody", "x")
    with pytest.raises(d.NotFound):
        d.set_active(store, "nobody", True)


def test_acknowledge_alert_once(store: Store) -> None:
    store.add_alert("al1", "op1", clip(0), "k1", time.time())
    assert d.acknowledge_alert(store, "al1") is True
    assert d.acknowledge_alert(store, "al1") is False
    assert d.alerts(store, open_only=True) == []
    (row,) = d.alerts(store)
    assert row.operator_name == "One" and row.clip_name == "clip-0"
    with pytest.raises(d.NotFound):
        d.acknowledge_alert(store, "nope")


def test_statement_over_two_days(store: Store) -> None:
    day1 = datetime(2025, 3, 10, 9, 0).timestamp()
    day2 = datetime(2025, 3, 11, 9, 0).timestamp()
    for start in (day1, day2):
        event(store, "op1", "k1", "login", start)
        event(store, "op1", "k1", "logout", start + 2 * 3600)
    for n in range(3):
        label(store, f"u{n}", "op1", n, "a", day1 + 600 + n * 60)
    label(store, "w1", "op1", 3, "a", day2 + 600)
    start, end = datetime(2025, 3, 10).timestamp(), datetime(2025, 3, 12).timestamp()
    st = d.statement(store, "op1", start, end, end, {"agreement": 0.9, "gold_accuracy": 1.0})
    assert st.hours == 4.0 and st.days_worked == 2 and st.clips == 4 and st.sessions == 2
    assert st.kiosks == ["k1"] and st.clips_per_hour == 1.0
    assert st.by_day == [("2025-03-10", 2.0, 3), ("2025-03-11", 2.0, 1)]
    assert st.agreement == 0.9 and st.gold_accuracy == 1.0
    assert d.first_activity(store, "op1") == day1
    only_day2 = d.statement(store, "op1", datetime(2025, 3, 11).timestamp(), end, end)
    assert only_day2.hours == 2.0 and only_day2.clips == 1
    with pytest.raises(d.NotFound):
        d.statement(store, "nobody", start, end)


def test_labels_version_changes_with_labels_and_gold(store: Store) -> None:
    v0 = d.labels_version(store)
    label(store, "u1", "op1", 0, "a", time.time())
    v1 = d.labels_version(store)
    store.set_gold(clip(0), "a")
    v2 = d.labels_version(store)
    store.retract_label("u1", "op1")
    assert len({v0, v1, v2, d.labels_version(store)}) == 4
