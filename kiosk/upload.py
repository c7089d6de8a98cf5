"""How much of the outbox may be on its way to the hub: a window of bytes in flight.

On a slow link an outbox drained all at once queues many seconds of upload in front of the
kiosk's own TCP acknowledgements; the hub's replies then stall behind them (its
retransmission timer backs off), the kiosk hears nothing for three beats, takes the hub for
gone and reconnects, and sends the whole outbox again: a reconnect storm that never drains.
So the kiosk keeps the bytes in flight (sent, not acknowledged) to a window that grows while
acknowledgements come back quickly and halves when they come late (the upload is queueing
somewhere): delay-based, like TCP Vegas or LEDBAT, on whole label batches, with absolute
delays (a heartbeat is a second; the hub takes a batch in milliseconds on a LAN, so a batch
acknowledged after half a second waited in a queue). Pure logic, no I/O; the clock is
passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Bytes in flight on a new connection, before any acknowledgement has been timed.
FIRST_WINDOW = 4 * 1024
#: The window never shrinks below one small batch, nor grows past this.
MIN_WINDOW = 1024
MAX_WINDOW = 512 * 1024
#: A batch acknowledged within GROW_DELAY seconds of sending grows the window by its size
#: (doubling it per window, like slow start); one acknowledged later than LATE_DELAY halves
#: it (at most once per window's worth of acknowledgements); in between it stays.
GROW_DELAY = 0.25
LATE_DELAY = 0.5


@dataclass
class _Batch:
    uuids: set[str]
    nbytes: int
    sent_at: float


@dataclass
class UploadWindow:
    window: int = FIRST_WINDOW
    _flight: list[_Batch] = field(default_factory=list)
    _in_flight: int = 0
    #: batches sent before this moment do not halve the window again
    _cut_at: float = 0.0

    @property
    def in_flight(self) -> int:
        """Bytes sent and not acknowledged."""
        return self._in_flight

    def oldest_sent_at(self) -> float | None:
        """When the oldest batch still in flight was sent (None: nothing in flight)."""
        return self._flight[0].sent_at if self._flight else None

    def room(self) -> int:
        """Bytes that may be sent now: what is left of the window, and always one batch when
        nothing is in flight (a batch larger than the window still goes, alone)."""
        if not self._flight:
            return max(self.window, 1)
        return max(self.window - self._in_flight, 0)

    def sent(self, uuids: list[str], nbytes: int, now: float) -> None:
        self._flight.append(_Batch(set(uuids), nbytes, now))
        self._in_flight += nbytes

    def acked(self, uuids: list[str], now: float) -> None:
        """The hub acknowledged `uuids`; batches acknowledged in full are timed."""
        for batch in self._take(uuids):
            self._timed(batch, now)

    def _timed(self, batch: _Batch, now: float) -> None:
        delay = now - batch.sent_at
        if delay > LATE_DELAY:
            if batch.sent_at >= self._cut_at:
                self.window = max(MIN_WINDOW, self.window // 2)
                self._cut_at = now
        elif delay < GROW_DELAY:
            self.window = min(MAX_WINDOW, self.window + batch.nbytes)

    def forget(self, uuids: list[str]) -> None:
        """Items no longer waited for (taken back, refused): out of the flight, untimed."""
        self._take(uuids)

    def _take(self, uuids: list[str]) -> list[_Batch]:
        """Take `uuids` out of the flight; returns the batches that are now complete."""
        gone = set(uuids)
        keep: list[_Batch] = []
        complete: list[_Batch] = []
        for batch in self._flight:
            batch.uuids -= gone
            (keep if batch.uuids else complete).append(batch)
        self._flight = keep
        self._in_flight -= sum(batch.nbytes for batch in complete)
        return complete

    def reset(self) -> None:
        """A new connection (or a new start on this one): nothing in flight. The window starts
        where it was left, at most FIRST_WINDOW (the link is likely the same one, and a slow
        one must not be flooded again on each reconnect)."""
        self._flight.clear()
        self._in_flight = 0
        self._cut_at = 0.0
        self.window = min(self.window, FIRST_WINDOW)
