"""Several machines for one site: two separate `straat-hub serve` processes, each on its own
test host (network namespaces on a bridge) with its own data folder holding a copy of the
site's key pair and media, both on one PostgreSQL server on a third host. Kiosks on hosts of
their own find both processes by zeroconf, pin the site's key and spread over them; one
process is killed with SIGKILL and nobody restarts it: its kiosks move to the other one with
one reconnect each. Afterwards nothing is lost, doubled, repeated for an operator or
over-assigned."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PIN, HubProc
from tests.e2e.test_hub_workers import (
    KIOSKS,
    _invariants,
    _kill_one_and_check,
    _site,
    kiosk_ids,
    resumed_without_pin,
)
from tests.faults import KioskProc
from tests.netns import Host, Lan, netns_available
from tests.pg import running_server
from tests.waiting import wait_until

reason = netns_available()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.netns,
    pytest.mark.skipif(reason is not None, reason=reason or ""),
]

PORT = 5570


def _held(host: Host) -> int:
    """Established connections to the kiosk port on a hub host."""
    out = subprocess.run(
        [*host.exec_prefix(), "ss", "-Htn", "state", "established", f"( sport = :{PORT} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return len([line for line in out.splitlines() if line.strip()])


def _fitters(url: str) -> list[str]:
    """The addresses of the sessions holding an advisory lock on the database (the hub
    process that fits consensus: hub/store/fitter.py)."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT host(a.client_addr) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()"
        ).fetchall()
    return [r[0] for r in rows]


def test_kiosks_move_to_the_other_machine_when_one_hub_is_killed(tmp_path: Path) -> None:
    with Lan() as lan:
        db_host = lan.add_host("db", 5)
        hosts = [lan.add_host("hua", 1), lan.add_host("hub", 2)]
        with running_server(listen=db_host.ip, netns=db_host.ns) as server:
            tcp_url = server.create_database(tcp=True)  # what the hub hosts use
            url = server.url(tcp_url.rsplit("/", 1)[1])  # the same database, for the test
            first = _site(tmp_path, db_url=url)  # operators and clips, media in its folder
            first.db_url = tcp_url
            first.prefix, first.host, first.port = hosts[0].exec_prefix(), hosts[0].ip, PORT
            first.extra = ["--open-pairing"]
            first.start()
            # the second machine: its own data folder with the site's key and media copied
            second_data = tmp_path / "second"
            second_data.mkdir()
            shutil.copy2(first.data / "hub.key", second_data / "hub.key")
            shutil.copytree(first.data / "media", second_data / "media")
            second = HubProc(
                data=second_data,
                project=first.project,
                extra=["--open-pairing"],
                prefix=hosts[1].exec_prefix(),
                host=hosts[1].ip,
                port=PORT,
                db_url=tcp_url,
            ).start()
            hubs = {0: first, 1: second}
            kiosks: list[KioskProc] = []
            try:
                assert second.public_key == first.public_key
                assert second.hub_id == first.hub_id  # one site: the id is in the database
                names = kiosk_ids([f"tcp://{h.ip}:{PORT}" for h in hosts])
                for i, name in enumerate(names, start=1):
                    host = lan.add_host(name, 10 + i)
                    kiosks.append(
                        KioskProc(
                            name,
                            tmp_path / name,
                            [
                                f"--hub-key={first.public_key}", "--interface", host.ip,
                                "--operator", f"op{i}", "--pin", PIN, "--interval", "0.05",
                            ],
                            netns=host.ns,
                        ).start()
                    )  # fmt: skip
                held = _kill_one_and_check(
                    kiosks,
                    {i: PORT for i in hubs},
                    lambda i: hubs[i].kill(signal.SIGKILL),
                    connections=lambda i: _held(hosts[i]),
                )
                # one consensus fitter for the site: the survivor holds the lock now (it
                # had it, or took it over from the killed one)
                survivor = hosts[1 - max(held, key=lambda i: held[i])].ip
                wait_until(
                    lambda: _fitters(url) == [survivor],
                    30,
                    "the survivor fitting consensus",
                    lambda: str(_fitters(url)),
                )
            finally:
                for k in kiosks:
                    k.kill(signal.SIGKILL)
                for h in hubs.values() if "hubs" in locals() else [first]:
                    h.kill(signal.SIGTERM)
            first.db_url = url
            _invariants(first, kiosks)
            resumed_without_pin(first, kiosks)
            assert len(kiosks) == KIOSKS
