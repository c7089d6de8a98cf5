"""The hub's Prometheus metrics (prometheus-client), served by `straat-hub serve
--metrics-port PORT` (off by default) on a port of their own, apart from the dashboard.

Read from the database at each scrape (on a read-only connection of the scraping thread):
labels received (a counter: `rate()` gives labels/s), the backlog, kiosks online and each
kiosk's outbox depth (its last heartbeat's count of labels not yet acknowledged). Measured in
the process: how long an assignment takes the router (a histogram), how long a consensus
refresh takes, the data folder's free disk space, and on PostgreSQL the connection pools'
figures (connections, idle, waiting, reconnects, errors).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .store import Store, dashboard
from .store import metrics as reads
from .store.location import is_postgres

#: Seconds; an assignment is a few SQLite statements, normally well under 10 ms.
ASSIGN_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
#: Seconds; Dawid-Skene over every label, from well under a second to a minute.
CONSENSUS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class StoreCollector(Collector):
    """Metrics read from the hub's database at each scrape."""

    def __init__(self, db: Path | str) -> None:
        self.db = str(db)  # a SQLite path or a PostgreSQL URL (the read replica, if any)

    def collect(self) -> Iterator[Metric]:
        # a SQLite file that is gone: opening it would make an empty one; /healthz reports it
        if not is_postgres(self.db) and not Path(self.db).is_file():
            return
        store = Store(self.db, readonly=True)
        try:
            received = reads.labels_received(store)
            clips, votes = reads.backlog(store)
            kiosks = dashboard.kiosks(store)
        finally:
            store.close()
        yield CounterMetricFamily(
            "straat_labels", "Labels received from kiosks (retracted ones too)", value=received
        )
        yield GaugeMetricFamily("straat_backlog_clips", "Clips still wanting votes", value=clips)
        yield GaugeMetricFamily("straat_backlog_votes", "Votes the clips still want", value=votes)
        yield GaugeMetricFamily(
            "straat_kiosks_online",
            "Paired kiosks heard from lately",
            value=sum(k.online for k in kiosks),
        )
        outbox = GaugeMetricFamily(
            "straat_kiosk_outbox",
            "Labels waiting at a kiosk for the hub's acknowledgement (its last heartbeat)",
            labels=["kiosk"],
        )
        for k in kiosks:
            outbox.add_metric([k.id], k.outbox)
        yield outbox


#: psycopg-pool's figures: (`get_stats()` key, metric, help, gauge "g" or counter "c").
POOL_FIGURES = (
    ("pool_size", "straat_db_pool_connections", "Connections the pool holds (in use or idle)", "g"),
    ("pool_available", "straat_db_pool_idle", "Idle connections in the pool", "g"),
    ("requests_waiting", "straat_db_pool_waiting", "Handles waiting for a connection", "g"),
    ("requests_num", "straat_db_pool_requests", "Connections asked of the pool", "c"),
    ("requests_errors", "straat_db_pool_request_errors", "Asks that got no connection", "c"),
    (
        "connections_num",
        "straat_db_pool_connects",
        "Connections the pool made (reconnects too)",
        "c",
    ),
    ("connections_errors", "straat_db_pool_connect_errors", "Failed connection attempts", "c"),
    ("returns_bad", "straat_db_pool_broken", "Broken connections given back and replaced", "c"),
    ("connections_lost", "straat_db_pool_lost", "Idle connections found broken and replaced", "c"),
)


class PoolCollector(Collector):
    """The hub process's PostgreSQL connection pools (psycopg-pool's `get_stats()`), by
    database and session settings."""

    def collect(self) -> Iterator[Metric]:
        from .store.pg.pools import figures

        pools = figures()
        for key, name, doc, kind in POOL_FIGURES:
            family: GaugeMetricFamily | CounterMetricFamily
            if kind == "g":
                family = GaugeMetricFamily(name, doc, labels=["database", "settings"])
            else:
                family = CounterMetricFamily(name, doc, labels=["database", "settings"])
            for database, settings, stats in pools:
                family.add_metric([database, settings or "none"], stats.get(key, 0))
            yield family


class HubMetrics:
    """One hub's metrics in a registry of its own (several hubs may share a test process)."""

    def __init__(self, db: Path | str, data: Path) -> None:
        self.registry = CollectorRegistry()
        self.assign_seconds = Histogram(
            "straat_assign_seconds",
            "Time the hub takes to answer a kiosk's request for work",
            buckets=ASSIGN_BUCKETS,
            registry=self.registry,
        )
        self.consensus_seconds = Histogram(
            "straat_consensus_refresh_seconds",
            "Time of a consensus refresh: the fit in a thread and writing the results",
            buckets=CONSENSUS_BUCKETS,
            registry=self.registry,
        )
        disk = Gauge(
            "straat_disk_free_bytes",
            "Free space on the file system of the hub's data folder",
            registry=self.registry,
        )
        disk.set_function(lambda: shutil.disk_usage(data).free)
        self.registry.register(StoreCollector(db))
        if is_postgres(str(db)):
            self.registry.register(PoolCollector())
