"""A token bucket: the one rate limiter of the hub (kiosk messages, pairing guesses)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TokenBucket:
    """At most `rate` events a second on average, `burst` at once. Pure: the caller passes the
    time, so tests drive it with any clock."""

    rate: float
    burst: float
    tokens: float = -1.0
    at: float = 0.0

    def take(self, now: float) -> bool:
        if self.tokens < 0:
            self.tokens, self.at = self.burst, now
        # a clock that steps back never adds tokens
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
