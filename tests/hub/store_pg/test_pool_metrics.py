"""The hub's /metrics carries its PostgreSQL connection pools' figures (psycopg-pool's
`get_stats()`), read by prometheus-client's own parser."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from psycopg.conninfo import conninfo_to_dict

from hub.metrics import HubMetrics
from hub.store import Store
from tests.pg import PgServer


def pool_samples(metrics: HubMetrics, url: str) -> dict[tuple[str, str], float]:
    """(sample name, settings label) -> value, for the pools on the database of `url`."""
    name = conninfo_to_dict(url)["dbname"]
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, s.labels["settings"]): s.value
        for family in text_string_to_metric_families(text)
        if family.name.startswith("straat_db_pool")
        for s in family.samples
        if s.labels.get("database", "").endswith(f"/{name}")
    }


def test_pool_figures_in_metrics_count_a_reconnect(
    pg_server: PgServer, pg_url: str, tmp_path: Path
) -> None:
    store = Store(pg_url)
    reader = store.reader()
    try:
        metrics = HubMetrics(pg_url, tmp_path)
        assert reader.meta("x") is None
        before = pool_samples(metrics, pg_url)
        assert before[("straat_db_pool_connections", "none")] >= 1  # the writer's
        read_only = "SET default_transaction_read_only = on"
        assert before[("straat_db_pool_connections", read_only)] == 1  # the reader's
        assert before[("straat_db_pool_broken_total", "none")] == 0
        pg_server.restart()
        store.set_meta("after", "1")  # its BEGIN finds the connection dead: a new one
        after = pool_samples(metrics, pg_url)
        assert after[("straat_db_pool_broken_total", "none")] == 1
        made = ("straat_db_pool_connects_total", "none")
        assert after[made] > before[made]
    finally:
        reader.close()
        store.close()
