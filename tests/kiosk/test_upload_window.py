"""The outbox drains in a window (kiosk/upload.py), and asking for work stays small and calm:
on a slow link neither may queue seconds of upload in front of the kiosk's acknowledgements
(the reconnect storm of the netns mid-sync test). Pure logic and the engine with a fake link;
tests/e2e/test_faults_netns.py runs it over a real 32 kbit/s link."""

from __future__ import annotations

import time
import uuid as uuidlib
from pathlib import Path

import msgspec
import pytest

from kiosk import engine as engine_mod
from kiosk.cache import ClipCache
from kiosk.engine import SYNC_BATCH, KioskEngine
from kiosk.upload import FIRST_WINDOW, LATE_DELAY, MIN_WINDOW, UploadWindow
from protocol import messages as m
from tests.kiosk.conftest import open_kiosk_store
from tests.kiosk.fake_link import FakeLink

# ---- the window alone ------------------------------------------------------------------


def test_quick_acknowledgements_double_the_window_per_round() -> None:
    w = UploadWindow()
    assert w.window == FIRST_WINDOW
    for round_ in range(3):
        size = w.window
        w.sent(["a", "b"], size, now=round_)
        assert w.room() == 0
        w.acked(["a", "b"], now=round_ + 0.01)
        assert w.window == 2 * size
    assert w.in_flight == 0


def test_late_acknowledgements_halve_it_once_per_window_never_below_the_minimum() -> None:
    w = UploadWindow(window=16 * 1024)
    w.sent(["a"], 8 * 1024, now=0.0)
    w.sent(["b"], 8 * 1024, now=0.0)
    w.acked(["a"], now=LATE_DELAY + 1)  # queued: halve
    assert w.window == 8 * 1024
    w.acked(["b"], now=LATE_DELAY + 2)  # same congestion (sent before the cut): no second halving
    assert w.window == 8 * 1024
    for i in range(10):
        w.sent([str(i)], 100, now=10.0 * (i + 1))
        w.acked([str(i)], now=10.0 * (i + 1) + LATE_DELAY + 1)
    assert w.window == MIN_WINDOW


def test_one_batch_always_goes_when_nothing_is_in_flight() -> None:
    w = UploadWindow(window=MIN_WINDOW)
    assert w.room() == MIN_WINDOW  # a larger batch still goes, alone
    w.sent(["a"], 10 * MIN_WINDOW, now=0.0)
    assert w.room() == 0
    w.forget(["a"])  # refused by the hub: not waited for, not timed
    assert w.in_flight == 0 and w.window == MIN_WINDOW


def test_a_new_connection_starts_small_and_forgets_what_was_in_flight() -> None:
    w = UploadWindow(window=256 * 1024)
    w.sent(["a"], 1000, now=0.0)
    w.reset()
    assert w.in_flight == 0 and w.oldest_sent_at() is None
    assert w.window == FIRST_WINDOW
    w.acked(["a"], now=1.0)  # an acknowledgement from the old connection: harmless
    assert w.in_flight == 0


# ---- the engine's drain ------------------------------------------------------------------


def make_engine(tmp_path: Path) -> tuple[KioskEngine, FakeLink]:
    store = open_kiosk_store(tmp_path / "k.db")
    engine = KioskEngine("k1", store, ClipCache(tmp_path / "clips", store))
    link = FakeLink()
    link.online = False
    engine.attach(link)
    return engine, link


def label(n: int, operator: str = "op1") -> m.Label:
    return m.Label(
        uuid=str(uuidlib.uuid4()),
        operator=operator,
        clip=f"{n:064x}",
        schema_version=1,
        values=["yes"],
        telemetry={"shown_ms": 1234, "first_key_ms": 456, "watched": 1.0, "replays": 0},
        created_at=time.time(),
    )


def labels_in(msgs: list[msgspec.Struct]) -> list[str]:
    return [lab.uuid for msg in msgs if isinstance(msg, m.LabelBatch) for lab in msg.labels]


def test_a_long_outbox_drains_in_a_window_each_label_once_in_order(tmp_path: Path) -> None:
    engine, link = make_engine(tmp_path)
    queued = [label(i) for i in range(300)]  # labelled offline
    for lab in queued:
        engine.store.record_label(lab)
    link.online = True
    engine.on_message(m.Welcome(hub_id="h", project=None, roster=[], server_time=time.time()))
    first = link.take()
    frame = engine.store.outbox_after(0, 1)[0][1]  # bytes of one label
    assert 0 < len(labels_in(first)) <= FIRST_WINDOW // frame + 1, "not the whole outbox at once"
    got = labels_in(first)
    in_flight = got
    while in_flight:  # the hub acknowledges each round at once: the window opens up
        engine.on_message(m.Ack(uuids=in_flight))
        in_flight = labels_in(link.take())
        got += in_flight
    assert got == [lab.uuid for lab in queued]  # all, once each, oldest first
    assert engine.store.outbox_count() == 0
    assert engine._upload.window > FIRST_WINDOW  # quick acknowledgements grew it
    assert max(len(b.labels) for b in first if isinstance(b, m.LabelBatch)) <= SYNC_BATCH


def test_unacknowledged_labels_are_sent_again_from_the_oldest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, link = make_engine(tmp_path)
    queued = [label(i) for i in range(40)]
    for lab in queued:
        engine.store.record_label(lab)
    link.online = True
    engine.on_message(m.Welcome(hub_id="h", project=None, roster=[], server_time=time.time()))
    first = labels_in(link.take())
    engine.sync()
    assert link.take() == [], "nothing more before an acknowledgement or the resend time"
    clock = time.monotonic() + engine_mod.RESEND_AFTER + 1
    monkeypatch.setattr(engine_mod.time, "monotonic", lambda: clock)
    engine.sync()
    again = labels_in(link.take())
    assert again and again == first[: len(again)], "the oldest unacknowledged go again"


def test_a_retraction_goes_after_the_label_it_takes_back(tmp_path: Path) -> None:
    engine, link = make_engine(tmp_path)
    queued = [label(i) for i in range(30)]
    for lab in queued:
        engine.store.record_label(lab)
    retract = m.Retract(uuid=queued[-1].uuid, operator="op1")
    engine.store.record_message(m.retract_id(retract.uuid), "retract", retract)
    link.online = True
    engine.on_message(m.Welcome(hub_id="h", project=None, roster=[], server_time=time.time()))
    order: list[str] = []
    msgs = link.take()
    while msgs:
        for msg in msgs:
            if isinstance(msg, m.LabelBatch):
                order += [lab.uuid for lab in msg.labels]
            elif isinstance(msg, m.Retract):
                order.append(m.retract_id(msg.uuid))
        engine.on_message(m.Ack(uuids=order[-60:]))
        msgs = link.take()
    assert order.index(m.retract_id(queued[-1].uuid)) > order.index(queued[-1].uuid)
    assert len(order) == len(set(order)) == 31


# ---- asking for work ------------------------------------------------------------------


def logged_in(tmp_path: Path) -> tuple[KioskEngine, FakeLink]:
    engine, link = make_engine(tmp_path)
    link.online = True
    engine.operator = "op1"
    engine._hub_logged_in = True
    return engine, link


def assign(clips: list[str]) -> m.Assign:
    return m.Assign(
        operator="op1",
        lease_id=str(uuidlib.uuid4()),
        expires_at=time.time() + 600,
        clips=[m.ClipRef(clip_id=c, sha256=c, size=10, duration=1.0) for c in clips],
    )


def labelled_here(
    engine: KioskEngine, assigned: int, labelled: int
) -> tuple[list[str], list[m.Label]]:
    """`assigned` clips leased to op1, the first `labelled` of them labelled at this kiosk (in
    the outbox, and done in the queue). Returns the clips' hashes and the labels."""
    shas = [f"{i:064x}" for i in range(assigned)]
    engine.store.add_assignment(assign(shas))
    done = [label(i) for i in range(labelled)]
    for lab in done:
        engine.store.record_label(lab)
    return shas, done


def test_an_empty_answer_does_not_bring_an_immediate_new_request(tmp_path: Path) -> None:
    engine, link = logged_in(tmp_path)
    engine.pump()
    assert [type(x) for x in link.take()] == [m.RequestWork]
    engine.on_message(assign([]))  # the hub has nothing for this operator now
    assert not any(isinstance(x, m.RequestWork) for x in link.take()), "a request storm"
    engine.on_message(assign([f"{1:064x}"]))  # clips came: more may be asked for at once
    assert any(isinstance(x, m.RequestWork) for x in link.take())


def test_work_requests_leave_out_clips_the_hub_has_acknowledged_labels_for(
    tmp_path: Path,
) -> None:
    engine, link = logged_in(tmp_path)
    shas, done = labelled_here(engine, assigned=5, labelled=3)
    engine.store.acked([done[0].uuid, done[1].uuid])
    held = set(engine.store.held_clips("op1"))
    # still to label, and labelled but not yet acknowledged; not the two the hub holds
    assert held == {shas[2], shas[3], shas[4]}


def test_with_nothing_left_to_label_work_is_asked_for_after_the_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Labelled everything offline, back online: the labels go first, and the work request
    follows the last acknowledgement, small (the netns mid-sync test saw an 11 KB request
    stall a 32 kbit/s link). It waits at most WORK_WAITS_FOR_LABELS_S."""
    engine, link = logged_in(tmp_path)
    labelled_here(engine, assigned=120, labelled=120)
    assert engine.pending() == []
    engine.sync()
    engine.pump()
    sent = link.take()
    assert labels_in(sent) and not any(isinstance(x, m.RequestWork) for x in sent)
    requests: list[m.RequestWork] = []
    while engine.store.outbox_count():
        engine.on_message(m.Ack(uuids=labels_in(sent)))
        sent = link.take()
        requests += [x for x in sent if isinstance(x, m.RequestWork)]
        assert not requests or not engine.store.outbox_count(), "work asked for before labels"
    [request] = requests
    assert request.exclude == [], "the hub holds every label: nothing to list"

    # a label the hub never acknowledges holds the request back for a bounded time only
    engine.store.record_label(label(500))
    engine._work_requested_at = 0.0
    engine.pump()
    assert not any(isinstance(x, m.RequestWork) for x in link.take())
    later = time.monotonic() + engine_mod.WORK_WAITS_FOR_LABELS_S + 1
    monkeypatch.setattr(engine_mod.time, "monotonic", lambda: later)
    engine.pump()
    assert any(isinstance(x, m.RequestWork) for x in link.take())
