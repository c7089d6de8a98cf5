"""A logout made offline, over the real wire: a hub process, a kiosk as a CurveZMQ DEALER.
The operator logs in, the kiosk loses its link, the operator logs out meanwhile; when the
kiosk is back it sends the logout with its own time, the hub acknowledges it (again when it
is sent again) and the operator's hours stop at the logout, not at the reconnect."""

from __future__ import annotations

import time
import uuid

import pytest
import zmq

from hub.store.dashboard import work_intervals
from protocol import messages as m
from protocol.constants import CAP_LOGOUT_AT, CAP_RESUME
from tests.conftest import PIN, HubProc
from tests.e2e.test_resume_wire import OLD_CAPS, Kiosk

NEW_CAPS = [*OLD_CAPS, CAP_RESUME, CAP_LOGOUT_AT]


def test_an_offline_logout_ends_the_hours_at_its_own_time(wire_hub: HubProc) -> None:
    keys = zmq.curve_keypair()
    kiosk = Kiosk(wire_hub, "k-away", keys)
    welcome = kiosk.answer(m.Hello(kiosk_id="k-away", version="t", capabilities=NEW_CAPS))
    assert isinstance(welcome, m.Welcome)
    assert welcome.capabilities == [CAP_RESUME, CAP_LOGOUT_AT]
    assert kiosk.answer(m.Login(operator="op1", pin=PIN)).ok
    logged_in = time.time()
    kiosk.close()  # the link goes; the operator works on, then logs out, offline
    time.sleep(0.5)
    logged_out = time.time()
    time.sleep(1.5)  # offline a while longer

    kiosk = Kiosk(wire_hub, "k-away", keys)  # the link is back: the outbox goes out
    kiosk.answer(m.Hello(kiosk_id="k-away", version="t", capabilities=NEW_CAPS))
    logout = m.Logout(operator="op1", uuid=str(uuid.uuid4()), at=logged_out)
    for _ in range(2):  # the second time as after a lost acknowledgement: the same answer
        assert kiosk.answer(logout) == m.Ack(uuids=[logout.uuid])
    kiosk.close()

    store = wire_hub.store()
    try:
        assert store.open_session("k-away", "op1") is None
        hours = work_intervals(store, logged_in - 60, time.time() + 60, time.time(), "op1")
    finally:
        store.close()
    (span,) = hours["op1"]
    assert span[0] == pytest.approx(logged_in, abs=1.0)
    assert span[1] == pytest.approx(logged_out, abs=0.01), "hours did not stop at the logout"
