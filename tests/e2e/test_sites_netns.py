"""One program, two sites: PostgreSQL on one test host, a site hub on each of two others
(network namespaces on a bridge, tests/netns.py), each site's kiosks in its hub's own
namespace (they reach their hub on loopback, so cutting a site's cable cuts only its hub's
link to the database). Site north's link is cut mid-run and mended: its kiosks go on with
what they prefetched, its hub says so once in its log and on /healthz and its dashboard,
and afterwards nothing is lost, doubled, repeated for an operator or over-assigned, across
both sites."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.store import Store
from hub.store.audit import audit
from protocol.pins import hash_pin
from tests import waiting
from tests.conftest import PIN, HubProc
from tests.faults import KioskProc, check, seed_clips, write_project
from tests.netns import Host, Lan, netns_available

reason = netns_available()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.netns,
    pytest.mark.skipif(reason is not None, reason=reason or ""),
]

#: Clips of 1 s (tests/faults.seed_clips): a kiosk leases up to its two minutes of prefetch,
#: ~120 clips, so 4 kiosks hold ~480 slots of the 1,200 and an operator can always get more.
CLIPS, WANT, PREFETCH = 400, 3, 10


def site_hub(tmp_path: Path, host: Host, site: str, url: str, project: Path) -> HubProc:
    data = tmp_path / site
    # the same clips' media at each site (the same seed; the scratch SQLite file is not used)
    seed_clips(data, CLIPS, 3000, want=WANT, db=str(tmp_path / f"{site}-scratch.db"))
    hub = HubProc(data=data, project=project, db_url=url)
    hub.prefix = host.exec_prefix()
    hub.extra = ["--open-pairing", "--no-zeroconf", "--site", site]
    return hub.start()


def kiosk(tmp_path: Path, hub: HubProc, host: Host, name: str, operator: str, count: int):
    return KioskProc(
        name,
        tmp_path / name,
        [*hub.kiosk_args(), "--operator", operator, "--pin", PIN, "--interval", "0.15",
         "--prefetch", str(PREFETCH), "--count", str(count), "--drain", "120"],
        netns=host.ns,
    )  # fmt: skip


def get(host: Host, url: str) -> tuple[int, str]:
    """GET `url` from inside `host`'s namespace: (status, body)."""
    script = (
        "import sys, urllib.request, urllib.error\n"
        "try:\n"
        "    r = urllib.request.urlopen(sys.argv[1], timeout=20); print(r.status); "
        "print(r.read().decode())\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code); print(e.read().decode())\n"
    )
    out = subprocess.run(
        [*host.exec_prefix(), sys.executable, "-c", script, url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    status, _, body = out.partition("\n")
    return int(status), body


def lines(hub: HubProc, text: str) -> list[str]:
    return [line for line in hub.log if text in line]


@pytest.mark.parametrize("cut", ["cable", "silent"])
def test_two_sites_one_database_and_a_site_cut_off(tmp_path: Path, cut: str) -> None:
    """`cable`: north's cable pulled (its kernel sees the carrier go: connections fail at
    once); `silent`: north's frames vanish further on, its link stays up (found by the
    connections' TCP timeouts and keepalives)."""
    from tests.pg import running_server

    with Lan() as lan:
        db_host = lan.add_host("db", 5)
        north, south = lan.add_host("north", 1), lan.add_host("south", 2)
        with running_server(listen=db_host.ip, netns=db_host.ns) as server:
            tcp = server.create_database(tcp=True)
            local = server.url(tcp.rsplit("/", 1)[1])  # the same database, on the socket
            store = Store(local)
            for i in range(1, 5):  # added once, for the whole program
                store.add_operator(f"op{i}", f"Operator {i}", hash_pin(PIN))
            store.close()
            seed_clips(tmp_path / "seed", CLIPS, 3000, want=WANT, db=local)
            project = write_project(tmp_path / "project.toml", redundancy=WANT)
            # no adaptive overlap: every clip wants WANT votes from start to end, so that the
            # audit's "held by more than it wants" is exact (an early stop lowers `want` under
            # leases already handed out)
            text = project.read_text().replace("max_votes = 5", f"max_votes = {WANT}")
            project.write_text(
                text.replace("confidence = 0.9", f"min_votes = {WANT}\nconfidence = 0.9")
            )
            hubs = {
                "north": site_hub(tmp_path, north, "north", tcp, project),
                "south": site_hub(tmp_path, south, "south", tcp, project),
            }
            kiosks = [
                kiosk(tmp_path, hubs["north"], north, "n1", "op1", 40),
                kiosk(tmp_path, hubs["north"], north, "n2", "op2", 40),
                kiosk(tmp_path, hubs["south"], south, "s1", "op3", 40),
                kiosk(tmp_path, hubs["south"], south, "s2", "op4", 40),
            ]
            try:
                for k in kiosks:
                    k.start()
                for k in kiosks:
                    k.wait_event("labelled", 5, timeout=90)
                # north's hub loses the database; its kiosks keep their hub
                (lan.cut if cut == "cable" else lan.isolate)("north")
                cut_t = time.monotonic()
                cut_at = [k.count("labelled") for k in kiosks[:2]]
                waiting.wait_until(
                    lambda: lines(hubs["north"], "database unreachable since"),
                    30,
                    "north's hub to notice",
                    lambda: "".join(hubs["north"].log[-20:]),
                )
                print(f"{cut}: north's hub noticed after {time.monotonic() - cut_t:.1f} s")
                for k, n in zip(kiosks[:2], cut_at, strict=True):  # from what they prefetched
                    k.wait_event("labelled", n + 3, timeout=60)
                status, body = get(north, f"http://127.0.0.1:{hubs['north'].web_port}/healthz")
                assert status == 503 and "database unreachable since" in body, body
                status, page = get(north, f"http://127.0.0.1:{hubs['north'].web_port}/kiosks")
                assert status == 503 and 'id="db-down"' in page, page[:500]
                status, body = get(south, f"http://127.0.0.1:{hubs['south'].web_port}/healthz")
                assert "database" not in body, body  # the other site works on
                south_at_cut = [k.count("labelled") for k in kiosks[2:]]
                for k, n in zip(kiosks[2:], south_at_cut, strict=True):
                    if n < 40:
                        k.wait_event("labelled", min(40, n + 3), timeout=60)
                time.sleep(2)  # the cut lasts some heartbeats more (kiosks resend meanwhile)
                (lan.mend if cut == "cable" else lan.rejoin)("north")
                for k in kiosks:
                    assert k.wait(timeout=180) == 0, k.tail(30)
                assert all(h.proc is not None and h.proc.poll() is None for h in hubs.values())
                # an operator added once logs in at the other site too
                guest = kiosk(tmp_path, hubs["south"], south, "s3", "op1", 3).start()
                kiosks.append(guest)
                guest.wait_event("labelled", 3, timeout=60)
                assert guest.wait(timeout=60) == 0, guest.tail(30)
            finally:
                for k in kiosks:
                    k.kill(signal.SIGKILL)
                for h in hubs.values():
                    h.kill(signal.SIGTERM)
            verdict = check(local, [k.data for k in kiosks])
            found = audit(local)
            print(cut, verdict.line(1), json.dumps(found))
            print("".join(lines(hubs["north"], "hub.database")))
            assert verdict.ok and verdict.labels == 4 * 40 + 3, verdict
            assert found["over_assigned"] == 0 and found["repeated_for_operator"] == 0, found
            assert found["counter_mismatch"] == 0, found
            # the loss and the return, once each in north's log; south never lost it
            north_log = "".join(hubs["north"].log)
            assert len(lines(hubs["north"], "database unreachable since")) == 1, north_log
            assert len(lines(hubs["north"], "database reachable again")) == 1, north_log
            assert not lines(hubs["south"], "database unreachable"), "".join(hubs["south"].log)
            assert "Traceback" not in north_log, north_log
            store = Store(local, readonly=True)
            try:
                by_site = {
                    (site, kiosk_id): n
                    for site, kiosk_id, n in store.conn.execute(
                        "SELECT site, kiosk, count(*) FROM labels GROUP BY site, kiosk"
                    )
                }
                sites = dict(
                    store.conn.execute("SELECT id, site FROM kiosks ORDER BY id").fetchall()
                )
            finally:
                store.close()
            assert by_site == {
                ("north", "n1"): 40,
                ("north", "n2"): 40,
                ("south", "s1"): 40,
                ("south", "s2"): 40,
                ("south", "s3"): 3,
            }, by_site
            assert sites == {"n1": "north", "n2": "north", "s1": "south", "s2": "south",
                             "s3": "south"}  # fmt: skip
            assert hubs["north"].hub_id.endswith("-north") and hubs["south"].hub_id.endswith(
                "-south"
            )
