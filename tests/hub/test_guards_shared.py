"""Guards against guessing with several hub processes on one database, each process with its
own `HubService` on its own connection: a kiosk's lock-out counts the wrong PINs typed at all
of them (a kiosk moving between processes, or trying them in turn, gets no more tries), an
operator's wrong PINs counted at once at two processes both count, and the wrong pairing
codes that withdraw every open code add up over every machine's pairing socket. On both
engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import service as svc
from hub.service import HubService
from protocol import messages as m
from protocol.pins import hash_pin
from tests.waiting import wait_until

from .conftest import make_service, open_store

#: wrong PINs are spread over this many operators, so that none reaches its own lock-out
OPERATORS = 5


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "hub.db")
    return request.getfixturevalue("pg_url")


def _processes(location: str, tmp_path: Path) -> list[HubService]:
    first = open_store(location)
    for i in range(1, OPERATORS + 1):
        first.add_operator(f"op{i}", f"Operator {i}", hash_pin("1234", n=2**10))
    first.pair_kiosk("k1")
    first.pair_kiosk("k2")
    services = [
        make_service(first, tmp_path / "media"),
        make_service(open_store(location), tmp_path / "media"),
    ]
    for s in services:
        for kiosk in ("k1", "k2"):
            assert isinstance(s.handle(kiosk, m.Hello(kiosk_id=kiosk, version="t"))[0], m.Welcome)
    return services


def _login(service: HubService, kiosk: str, operator: str, pin: str) -> m.LoginResult:
    with service.store.transaction():  # as the router runs a slice of messages
        (result,) = service.handle(kiosk, m.Login(operator=operator, pin=pin))
    assert isinstance(result, m.LoginResult)
    return result


def test_wrong_pins_at_a_kiosk_count_at_every_process(location: str, tmp_path: Path) -> None:
    services = _processes(location, tmp_path)
    # wrong PINs for several operators in turn, alternating between the two processes
    for i in range(svc.KIOSK_LOCK_AFTER):
        assert _login(services[i % 2], "k1", f"op{i % OPERATORS + 1}", "9999").reason == "bad_pin"
    for s in services:  # locked at both, even with the right PIN
        assert _login(s, "k1", "op1", "1234").reason == "locked"
    for s in services:  # another kiosk is not
        assert _login(s, "k2", "op2", "1234").ok


def test_a_good_pin_starts_the_count_again_at_every_process(location: str, tmp_path: Path) -> None:
    services = _processes(location, tmp_path)
    for i in range(svc.KIOSK_LOCK_AFTER - 1):
        _login(services[i % 2], "k1", f"op{i % OPERATORS + 1}", "9999")
    assert _login(services[0], "k1", "op1", "1234").ok  # clears op1's own count too
    for i in range(svc.KIOSK_LOCK_AFTER - 1):
        assert _login(services[1], "k1", f"op{i % OPERATORS + 1}", "8888").reason == "bad_pin"


def test_wrong_pins_counted_at_two_processes_at_once_both_count(pg_url: str) -> None:
    """An operator's wrong PINs at two processes whose transactions overlap (PostgreSQL's
    read committed): the second waits for the first and counts on from its count."""
    import threading

    first, second = open_store(pg_url), open_store(pg_url)
    first.add_operator("op1", "One", hash_pin("1234", n=2**10))
    done = threading.Event()
    with first.transaction():
        first.record_login("op1", False)

        def other() -> None:
            second.record_login("op1", False)
            done.set()

        thread = threading.Thread(target=other)
        thread.start()
        wait_until(  # it waits for the first's row
            lambda: (
                first.conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                ).fetchone()[0]
                == 1
            ),
            10,
            "the second process waiting for the row",
        )
        assert not done.is_set()
    thread.join(10)
    assert done.is_set()
    failed = first.conn.execute("SELECT failed FROM operators WHERE id = 'op1'").fetchone()[0]
    assert failed == 2


def test_wrong_pairing_codes_at_every_machine_withdraw_the_open_codes(
    location: str, tmp_path: Path
) -> None:
    from hub.pairing import BURN_AFTER

    services = _processes(location, tmp_path)
    code = services[0].store.create_pair_code()
    for i in range(BURN_AFTER):  # a wrong code each from many sources, at both machines
        hello = m.Hello(kiosk_id=f"x{i}", version="t", pair_code=f"{i:06d}x")
        (reply,) = services[i % 2].pair(f"x{i}", hello, f"KEY{i}", source=f"10.0.{i}.1")
        assert reply.code == "unpaired"
    # the open code was withdrawn: it pairs no kiosk, at either machine
    for s in services:
        hello = m.Hello(kiosk_id="k9", version="t", pair_code=code)
        assert s.pair("k9", hello, "KEY9", source="10.1.0.1")[0].code == "unpaired"
