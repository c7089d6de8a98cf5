"""The router answers other kiosks before the clip transfers waiting in its backlog (also
frames read after those transfers), and keeps each kiosk's own order: the peek must recognise
a Fetch, and only a Fetch, on the wire."""

from __future__ import annotations

import zmq

from hub.site.router import LATER_MAX_WAIT, Backlog, _is_fetch, _is_login, transfers_last
from protocol import codec
from protocol import messages as m

UUID = "5f0c6f9e-8f3a-4e86-9a53-3c3c1a1b2c3d"
SHA = "ab" * 32
ONE_OF_EACH = [
    m.Hello(kiosk_id="k", version="1"),
    m.Heartbeat(outbox=3),
    m.Login(operator="fetch", pin="1234"),  # the word alone is not a Fetch
    m.Logout(operator="op1"),
    m.RequestWork(operator="op1", count=5),
    m.Label(
        uuid=UUID, operator="op1", clip=SHA, schema_version=1, values=["fetch"], created_at=1.0
    ),
    m.Retract(uuid=UUID, operator="op1"),
]


def _frames(msg: object, kiosk: bytes = b"kiosk-1") -> list[zmq.Frame]:
    return [zmq.Frame(kiosk), *(zmq.Frame(f) for f in codec.encode_frames(msg))]


def test_only_a_fetch_is_taken_for_one() -> None:
    assert _is_fetch(_frames(m.Fetch(sha256=SHA, offset=0, credit=8)))
    assert _is_fetch(_frames(m.Fetch(sha256=SHA, offset=1 << 40, credit=1, chunk_size=4096)))
    for msg in ONE_OF_EACH:
        assert not _is_fetch(_frames(msg)), msg
    assert not _is_fetch(_frames(m.LabelBatch(labels=[ONE_OF_EACH[5]])))  # type: ignore[list-item]
    assert not _is_fetch([zmq.Frame(b"kiosk-1")])  # no message at all
    assert not _is_fetch([zmq.Frame(b"kiosk-1"), zmq.Frame(b"")])


def _kinds(batch: list[list[zmq.Frame]]) -> list[str]:
    out = []
    for frames in batch:
        msg = codec.decode(frames[1].bytes, m.KioskToHub)
        out.append(f"{frames[0].bytes.decode()}:{type(msg).__name__}")
    return out


def test_other_kiosks_go_first_and_each_keeps_its_order() -> None:
    fetch = m.Fetch(sha256=SHA)
    work, beat, logout = ONE_OF_EACH[4], ONE_OF_EACH[1], ONE_OF_EACH[3]
    batch = [
        _frames(fetch, b"a"),
        _frames(work, b"b"),
        _frames(beat, b"a"),  # a's beat after a's fetch
        _frames(fetch, b"b"),
        _frames(logout, b"c"),
        _frames(work, b"b"),
    ]
    assert _kinds(transfers_last(batch)) == [
        "a:Heartbeat",  # beats go first (see test_beats_go_first_unless_a_greeting_waits)
        "b:RequestWork",
        "c:Logout",  # nothing of theirs waits behind a transfer
        "a:Fetch",
        "b:Fetch",
        "b:RequestWork",  # own order kept
    ]
    plain = [_frames(work, b"a"), _frames(logout, b"b")]
    assert transfers_last(plain) == plain


def test_frames_read_later_go_before_waiting_transfers() -> None:
    """The router reads the socket between transaction slices: a RequestWork read while
    other kiosks' Fetches wait is handled before them, not after all of them."""
    fetch, work, beat = m.Fetch(sha256=SHA), ONE_OF_EACH[4], ONE_OF_EACH[1]
    backlog = Backlog()
    for kiosk in (b"a", b"b", b"c"):
        backlog.add(_frames(fetch, kiosk))
    assert _kinds([backlog.pop()]) == ["a:Fetch"]  # a slice has begun on the transfers
    backlog.add(_frames(work, b"d"))  # read between slices
    backlog.add(_frames(beat, b"b"))  # b's beat passes b's own fetch
    backlog.add(_frames(work, b"b"))  # b's work waits behind it
    assert _kinds([backlog.pop() for _ in range(len(backlog))]) == [
        "b:Heartbeat",
        "d:RequestWork",
        "b:Fetch",
        "c:Fetch",
        "b:RequestWork",
    ]
    assert not backlog and backlog.bytes == 0


def test_a_stream_of_other_work_does_not_starve_transfers() -> None:
    """Each slice begins with the oldest waiting transfer, unless its kiosk has earlier
    frames still waiting (own order first)."""
    fetch, work = m.Fetch(sha256=SHA), ONE_OF_EACH[4]
    backlog = Backlog()
    backlog.add(_frames(work, b"a"))
    backlog.add(_frames(fetch, b"a"))
    backlog.add(_frames(work, b"b"))
    # a's fetch may not pass a's own RequestWork
    assert _kinds([backlog.pop(transfer_first=True)]) == ["a:RequestWork"]
    assert _kinds([backlog.pop(transfer_first=True)]) == ["a:Fetch"]
    assert _kinds([backlog.pop(transfer_first=True)]) == ["b:RequestWork"]


def test_transfers_waiting_long_take_turns_with_other_work() -> None:
    """Under a steady stream of other work, a frame queued behind its kiosk's own Fetch
    still gets through: after LATER_MAX_WAIT the two queues alternate."""
    fetch, logout, work = m.Fetch(sha256=SHA), ONE_OF_EACH[3], ONE_OF_EACH[4]
    backlog = Backlog()
    backlog.add(_frames(fetch, b"a"), now=0.0)
    backlog.add(_frames(logout, b"a"), now=0.0)
    backlog.add(_frames(fetch, b"c"), now=0.0)
    for i in range(6):
        backlog.add(_frames(work, f"b{i}".encode()), now=0.0)
    fresh = [backlog.pop(now=0.01) for _ in range(2)]
    assert _kinds(fresh) == ["b0:RequestWork", "b1:RequestWork"]  # not waited long yet
    aged = [backlog.pop(now=LATER_MAX_WAIT + 0.01) for _ in range(6)]
    assert _kinds(aged) == [
        "a:Fetch",
        "b2:RequestWork",
        "a:Logout",
        "b3:RequestWork",
        "c:Fetch",
        "b4:RequestWork",
    ]


def test_the_backlog_is_bounded() -> None:
    one = _frames(ONE_OF_EACH[4], b"a")
    size = one[1].buffer.nbytes
    backlog = Backlog(max_frames=3, max_bytes=10 * size)
    while backlog.room():
        backlog.add(_frames(ONE_OF_EACH[4], b"a"))
    assert len(backlog) == 3
    backlog = Backlog(max_frames=100, max_bytes=2 * size)
    while backlog.room():
        backlog.add(_frames(ONE_OF_EACH[4], b"a"))
    assert len(backlog) == 2 and backlog.bytes == 2 * size


def test_pin_checks_wait_behind_other_kiosks() -> None:
    """The kiosks of a hub process that died come to another one all at once, each with a
    Hello and then a Login (one scrypt each): other kiosks' beats and work, and those kiosks'
    Hellos, are not kept behind the PIN checks; each kiosk's own order is kept."""
    hello, login, beat, work = (
        ONE_OF_EACH[0], m.Login(operator="op1", pin="1234"), ONE_OF_EACH[1], ONE_OF_EACH[4],
    )  # fmt: skip
    assert _is_login(_frames(login)) and not _is_fetch(_frames(login))
    assert not any(_is_login(_frames(msg)) for msg in ONE_OF_EACH if not isinstance(msg, m.Login))
    batch = [
        _frames(login, b"a"),
        _frames(work, b"a"),  # after a's own Login
        _frames(hello, b"b"),
        _frames(login, b"b"),
        _frames(beat, b"c"),
    ]
    assert _kinds(transfers_last(batch)) == [
        "c:Heartbeat",
        "b:Hello",
        "a:Login",
        "a:RequestWork",
        "b:Login",
    ]


def test_beats_go_first_unless_a_greeting_waits() -> None:
    """A kiosk's Heartbeat is answered before the work waiting in the backlog (its own long
    label batches included), so a hub that has fallen behind still answers every beat within
    one slice; a beat whose kiosk's Hello or Login still waits keeps its place behind it (it
    would be refused before the Hello, and would claim no operator before the Login)."""
    hello, login, beat, work = (
        ONE_OF_EACH[0], m.Login(operator="op1", pin="1234"), ONE_OF_EACH[1], ONE_OF_EACH[4],
    )  # fmt: skip
    batch = m.LabelBatch(labels=[ONE_OF_EACH[5]])  # type: ignore[list-item]
    backlog = Backlog()
    for frames in (
        _frames(batch, b"a"),
        _frames(batch, b"a"),
        _frames(hello, b"b"),
        _frames(beat, b"b"),  # behind b's Hello
        _frames(work, b"c"),
        _frames(beat, b"a"),  # before a's batches
        _frames(login, b"d"),
        _frames(beat, b"d"),  # behind d's Login
    ):
        backlog.add(frames)
    assert _kinds([backlog.pop() for _ in range(3)]) == [
        "a:Heartbeat",
        "a:LabelBatch",
        "a:LabelBatch",
    ]
    assert _kinds([backlog.pop()]) == ["b:Hello"]
    backlog.add(_frames(beat, b"b"))  # b's Hello is handled: its next beat goes first
    assert _kinds([backlog.pop() for _ in range(len(backlog))]) == [
        "b:Heartbeat",
        "b:Heartbeat",
        "c:RequestWork",
        "d:Login",
        "d:Heartbeat",
    ]
    assert not backlog and backlog.bytes == 0


def test_a_frame_that_only_looks_like_a_beat_keeps_its_place() -> None:
    """An undecodable frame whose first bytes are a Heartbeat's gets its error reply in its
    own turn (a client may match error replies to its frames by order)."""
    work = ONE_OF_EACH[4]
    broken = codec.encode(m.Heartbeat(outbox=3))[:-3]
    backlog = Backlog()
    backlog.add(_frames(work, b"a"))
    backlog.add([zmq.Frame(b"a"), zmq.Frame(broken)])
    backlog.add(_frames(work, b"a"))
    popped = [backlog.pop() for _ in range(3)]
    assert [f[1].bytes for f in popped] == [codec.encode(work), broken, codec.encode(work)]
