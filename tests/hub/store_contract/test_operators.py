"""Operators: add, roster of the active ones, PIN lock-out with a doubling back-off."""

from __future__ import annotations

import pytest

from hub.store.interface import HubStore
from hub.store.store import LOCKOUT_AFTER, LOCKOUT_BASE_SECONDS

from .helpers import PIN_HASH, add_operators


def test_add_and_roster(store: HubStore) -> None:
    add_operators(store, 3)
    store.add_operator("op2", "Renamed", PIN_HASH)  # again: updated, not doubled
    assert [o["id"] for o in store.operators()] == ["op1", "op2", "op3"]
    row = store.operator("op2")
    assert row is not None and row["name"] == "Renamed"
    assert store.operator("nobody") is None
    assert [r[:2] for r in store.roster()] == [
        ("op1", "Operator op1"),
        ("op2", "Renamed"),
        ("op3", "Operator op3"),
    ]
    assert store.known_operators(["op1", "op3", "ghost"]) == {"op1", "op3"}


def test_lockout_after_failed_pins(store: HubStore) -> None:
    add_operators(store, 1)
    now = 10_000.0
    for _ in range(LOCKOUT_AFTER - 1):
        assert store.record_login("op1", False, now=now) == 0.0
    assert store.record_login("op1", False, now=now) == now + LOCKOUT_BASE_SECONDS
    assert store.record_login("op1", False, now=now) == now + 2 * LOCKOUT_BASE_SECONDS
    row = store.operator("op1")
    assert row is not None and row["locked_until"] == now + 2 * LOCKOUT_BASE_SECONDS
    assert store.record_login("op1", True, now=now) == 0.0  # a good PIN clears it
    assert store.record_login("op1", False, now=now) == 0.0
    row = store.operator("op1")
    assert row is not None and (row["failed"], row["locked_until"]) == (1, 0)


def test_training_and_history(store: HubStore) -> None:
    add_operators(store, 1)
    assert store.operator_history("op1") == (0, 0, [], False)
    store.set_passed_training("op1", at=5.0)
    assert store.operator_history("op1")[3] is True
    store.log_session("op1", "k", "login")  # recorded without error


def test_open_session_is_the_latest_event_of_both_the_kiosk_and_the_operator(
    store: HubStore,
) -> None:
    add_operators(store, 2)
    assert store.open_session("k1", "op1") is None  # never logged in
    store.note_kiosk_login("k1", "op1", at=1000.0)
    store.log_session("op1", "k1", "login")
    began = store.open_session("k1", "op1")
    assert began == 1000.0  # the earlier record: the login's own time (offline logins)
    assert store.open_session("k2", "op1") is None  # another kiosk
    assert store.open_session("k1", "op2") is None  # another operator
    store.log_session("op1", "k1", "logout")
    assert store.open_session("k1", "op1") is None  # ended by a logout
    store.log_session("op1", "k1", "login")
    assert store.open_session("k1", "op1") == 1000.0
    store.note_kiosk_login("k1", "op2")
    store.log_session("op2", "k1", "login")
    assert store.open_session("k1", "op1") is None  # another operator logged in here since
    assert store.open_session("k1", "op2") is not None
    store.log_session("op2", "k2", "login")
    assert store.open_session("k1", "op2") is None  # the operator logged in elsewhere since
    store.log_session("op1", "k3", "login")  # not in kiosk_logins: not a login the hub saw
    assert store.open_session("k3", "op1") is None
    store.note_kiosk_login("k3", "op1", at=2000.0)
    assert store.open_session("k3", "op1") == 2000.0
    assert store.open_session("k3", "op1", since=2000.0) == 2000.0
    assert store.open_session("k3", "op1", since=2000.5) is None  # older than asked for


def test_end_session_logs_the_logout_at_its_own_time_once(store: HubStore) -> None:
    """A logout from a kiosk's outbox ends the open session (`open_session`'s rule) at the
    kiosk's time: not before the login (the hours pair them in time order), not after now,
    NaN taken as now; with no such session open (sent again, or another login ended it)
    nothing is logged."""
    import math
    import time

    from hub.store.dashboard import work_intervals

    add_operators(store, 2)
    assert store.end_session("k1", "op1", 5.0) is None  # never logged in
    store.log_session("op1", "k1", "login")  # not in kiosk_logins: not a login the hub saw
    assert store.end_session("k1", "op1", time.time()) is None
    store.note_kiosk_login("k1", "op1")
    store.log_session("op1", "k1", "login")
    login = time.time()
    assert store.end_session("k2", "op1", login) is None  # not open at that kiosk
    ended = store.end_session("k1", "op1", login + 0.5)
    assert ended is not None and ended <= time.time()
    assert store.open_session("k1", "op1") is None
    assert store.end_session("k1", "op1", login + 0.5) is None  # sent again: nothing
    (span,) = work_intervals(store, login - 60, login + 60, now=login + 3600, operator="op1")["op1"]
    assert span[1] == pytest.approx(ended)  # the hours stop at the logout, not at `now`
    store.log_session("op1", "k1", "login")
    again = store.end_session("k1", "op1", 1.0)  # made before the login: at the login
    assert again is not None and abs(again - time.time()) < 60
    store.log_session("op1", "k1", "login")
    assert store.end_session("k1", "op1", time.time() + 86400) <= time.time()  # type: ignore[operator]
    store.log_session("op1", "k1", "login")
    assert abs(store.end_session("k1", "op1", math.nan) - time.time()) < 60  # type: ignore[operator]
    store.log_session("op1", "k1", "login")
    store.log_session("op2", "k1", "login")
    assert store.end_session("k1", "op1", time.time()) is None  # op2's login ended it
