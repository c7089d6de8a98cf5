"""A stand-in for `HubLink` in engine tests: records what the kiosk sends."""

from __future__ import annotations

import msgspec


class FakeLink:
    online = True

    def __init__(self) -> None:
        self.sent: list[msgspec.Struct] = []

    def send(self, msg: msgspec.Struct) -> bool:
        self.sent.append(msg)
        return True

    def take(self) -> list[msgspec.Struct]:
        """What was sent since the last call."""
        out, self.sent = self.sent, []
        return out
