"""Whether the hub can reach its database now, and since when not (PostgreSQL over a link).

The router marks the database lost when a statement finds the connection gone, and back when
a probe connects again; the dashboard, `/healthz` and housekeeping read it. The loss and the
return are logged once each, not once per message dropped meanwhile.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

log = logging.getLogger("hub.database")


@dataclass
class DatabaseState:
    #: wall-clock time the database was found unreachable (None: reachable)
    down_since: float | None = None
    #: the first error that showed it, as the store worded it
    reason: str = ""
    #: how many times it was lost since the hub started
    losses: int = 0

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def lost(self, reason: str, now: float | None = None) -> bool:
        """The database cannot be used; True (and one log line) when it could until now."""
        if self.down_since is not None:
            return False
        self.down_since = time.time() if now is None else now
        self.reason, self.losses = reason, self.losses + 1
        log.warning(
            "database unreachable since %s: %s; kiosk messages wait at the kiosks until it is back",
            utc(self.down_since),
            reason,
        )
        return True

    def back(self, now: float | None = None) -> bool:
        """The database answers again; True (and one log line) when it was lost."""
        if self.down_since is None:
            return False
        now = time.time() if now is None else now
        log.warning(
            "database reachable again after %.1f s (unreachable since %s)",
            now - self.down_since,
            utc(self.down_since),
        )
        self.down_since, self.reason = None, ""
        return True

    def describe(self) -> str:
        """'database unreachable since …' (empty when it is reachable)."""
        if self.down_since is None:
            return ""
        return f"database unreachable since {utc(self.down_since)}: {self.reason}"


def utc(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))
