"""`DatabaseState`: a loss and a return are each logged once, however many callers find them."""

from __future__ import annotations

import logging

import pytest

from hub.database_state import DatabaseState


def test_lost_and_back_once_each(caplog: pytest.LogCaptureFixture) -> None:
    state = DatabaseState()
    caplog.set_level(logging.INFO, logger="hub.database")
    assert not state.down and state.describe() == "" and not state.back(now=5.0)
    assert state.lost("link down", now=0.0) is True
    assert state.lost("again", now=1.0) is False  # the router, housekeeping, a page…
    assert state.down and state.reason == "link down"
    assert state.describe() == "database unreachable since 1970-01-01 00:00:00 UTC: link down"
    assert state.back(now=3.5) is True and state.back(now=4.0) is False
    assert not state.down and state.losses == 1
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert messages[0].startswith("database unreachable since 1970-01-01 00:00:00 UTC: link down")
    assert messages[1] == (
        "database reachable again after 3.5 s (unreachable since 1970-01-01 00:00:00 UTC)"
    )
    assert state.lost("second outage", now=10.0) and state.losses == 2
