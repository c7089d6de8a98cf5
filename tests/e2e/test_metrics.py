"""`straat-hub serve --metrics-port 0`: a real hub and a real kiosk; the scrape is read with
Prometheus' own text parser. Without the option there is no metrics port and no /metrics on
the dashboard."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.store.metrics import backlog
from tests.conftest import make_hub
from tests.e2e.test_faults_loopback import kiosk
from tests.faults import seed_clips, write_project

pytestmark = pytest.mark.slow


def scrape(url: str) -> dict[str, list]:
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/plain")
        text = r.read().decode()
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def value(families: dict[str, list], family: str, sample: str, **labels: str) -> float:
    for s in families[family]:
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise AssertionError(f"no {sample}{labels} in {families.get(family)}")


def test_metrics_of_a_labelling_line(tmp_path: Path) -> None:
    hub = make_hub(tmp_path)
    hub.project = write_project(tmp_path / "project.toml")
    seed_clips(hub.data, 6, 2000, want=2)
    hub.extra = ["--open-pairing", "--no-zeroconf", "--metrics-port", "0"]
    hub.start()
    try:
        found = re.search(r"metrics on (http://\S+/metrics)", "".join(hub.log))
        assert found, hub.log
        url = found.group(1)
        before = scrape(url)
        assert value(before, "straat_labels", "straat_labels_total") == 0
        assert value(before, "straat_backlog_clips", "straat_backlog_clips") == 6
        assert value(before, "straat_backlog_votes", "straat_backlog_votes") == 12
        assert value(before, "straat_disk_free_bytes", "straat_disk_free_bytes") > 0

        k = kiosk(tmp_path, hub, "k1", "op1", "--count", "3").start()
        assert k.wait() == 0, k.tail()
        after = scrape(url)
        assert value(after, "straat_labels", "straat_labels_total") == 3
        store = hub.store()
        clips, votes = backlog(store)
        store.close()
        assert value(after, "straat_backlog_clips", "straat_backlog_clips") == clips
        assert value(after, "straat_backlog_votes", "straat_backlog_votes") == votes
        assert value(after, "straat_kiosk_outbox", "straat_kiosk_outbox", kiosk="k1") >= 0
        assert value(after, "straat_assign_seconds", "straat_assign_seconds_count") >= 1
        assert value(
            after, "straat_assign_seconds", "straat_assign_seconds_bucket", le="+Inf"
        ) == value(after, "straat_assign_seconds", "straat_assign_seconds_count")
        assert "straat_kiosks_online" in after
        # the housekeeping pass (every 10 s) fits the consensus over the new labels
        end = time.monotonic() + 30
        while time.monotonic() < end:
            refreshed = scrape(url)
            count = value(
                refreshed,
                "straat_consensus_refresh_seconds",
                "straat_consensus_refresh_seconds_count",
            )
            if count >= 1:
                break
            time.sleep(0.5)
        assert count >= 1
    finally:
        hub.kill()


def test_metrics_are_off_by_default(tmp_path: Path) -> None:
    hub = make_hub(tmp_path)
    hub.extra = ["--no-zeroconf"]
    hub.start()
    try:
        assert not any("metrics on" in line for line in hub.log)
        try:  # the dashboard's port: the login page (what an unknown path gets), no metrics
            with urllib.request.urlopen(
                f"http://127.0.0.1:{hub.web_port}/metrics", timeout=10
            ) as r:
                assert "/login" in r.geturl() and "straat_" not in r.read().decode()
        except urllib.error.HTTPError as e:
            assert e.code == 404
    finally:
        hub.kill()
