"""How `straat-hub serve --workers N` lays out its processes (`hub.site.workers`)."""

from __future__ import annotations

from pathlib import Path

from hub.site.server import HubConfig
from hub.site.workers import worker_configs


def test_ports_and_roles_of_the_workers() -> None:
    base = HubConfig(project=Path("p.toml"), data=Path("d"), bind="tcp://0.0.0.0:5570")
    one, two, three = worker_configs(base, 3)
    assert [w.bind for w in (one, two, three)] == [
        "tcp://0.0.0.0:5570", "tcp://0.0.0.0:5571", "tcp://0.0.0.0:5572",
    ]  # fmt: skip
    assert one.pair_bind == "tcp://127.0.0.1:5573"  # loopback, as for one process
    assert (one.web, one.consensus, one.pairing) == (True, True, True)
    for other in (two, three):  # one web dashboard, one consensus fit, one pairing guard
        assert (other.web, other.consensus, other.pairing) == (False, False, False)
        assert other.metrics_port is None and other.clips == []
    assert [w.worker for w in (one, two, three)] == [0, 1, 2]


def test_any_free_port_each_with_port_0() -> None:
    base = HubConfig(
        project=Path("p.toml"), data=Path("d"), bind="tcp://127.0.0.1:0", interfaces=["10.1.2.3"]
    )
    one, two = worker_configs(base, 2)
    assert one.bind == two.bind == "tcp://127.0.0.1:0"
    assert one.pair_bind == "tcp://10.1.2.3:0"  # the interface staff chose
