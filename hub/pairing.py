"""How often the pairing socket listens, and when it stops (pure: no sockets, no store).

A pairing code is short (six digits by default), so what keeps it from being guessed is the
number of guesses an attacker gets while it is open, not its length:

- each source address gets `SOURCE_RATE` guesses a second (`SOURCE_BURST` at once) and all
  sources together `GLOBAL_RATE` (`GLOBAL_BURST`); a guess over the limit is not looked at;
- a source with `SOURCE_LOCK_AFTER` different wrong codes is locked out for `SOURCE_LOCK_SECONDS`,
  doubling with each further wrong code;
- after `BURN_AFTER` wrong codes from anyone (none more than FORGET_SECONDS apart), every
  open code is withdrawn (the service asks the store to expire them) and staff see why: an attacker
  then has at most `BURN_AFTER` guesses per code, 1 in 50 000 for a six-digit code.

The counts live in memory: a restart forgets source lock-outs, never a withdrawn code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .ratelimit import TokenBucket

SOURCE_RATE = 1.0
SOURCE_BURST = 5.0
GLOBAL_RATE = 5.0
GLOBAL_BURST = 20.0
SOURCE_LOCK_AFTER = 5
SOURCE_LOCK_SECONDS = 60.0
BURN_AFTER = 20
#: Wrong codes this long apart do not add up toward withdrawing codes.
FORGET_SECONDS = 3600.0
#: Sources remembered at most (the oldest are forgotten first).
MAX_SOURCES = 10_000


@dataclass
class _Source:
    bucket: TokenBucket = field(default_factory=lambda: TokenBucket(SOURCE_RATE, SOURCE_BURST))
    wrong: int = 0
    locked_until: float = 0.0
    #: the wrong codes this source sent: a kiosk that retries its one code is not guessing
    codes: set[str] = field(default_factory=set)

    def forgive(self) -> None:
        """Wrong codes and lock-out forgotten (a good code, or staff lifting it)."""
        self.wrong, self.locked_until = 0, 0.0
        self.codes.clear()


@dataclass(frozen=True)
class PairingAlarm:
    """What staff see: wrong codes since the last code was made, from how many sources,
    whether open codes were withdrawn, and the sources locked out now."""

    wrong: int  # since start
    sources: int  # addresses they came from
    burned: int
    last_wrong_at: float
    locked_sources: list[str]
    refused: int  # guesses not looked at (over a rate or locked out)


class PairingGuard:
    def __init__(self) -> None:
        self._sources: dict[str, _Source] = {}
        self._global = TokenBucket(GLOBAL_RATE, GLOBAL_BURST)
        self.wrong = 0  # toward withdrawing the open codes (since the last burn)
        self.total_wrong = 0  # since start, for staff
        self.wrong_sources: set[str] = set()
        self.burned = 0  # codes withdrawn since start
        self.last_wrong_at = 0.0
        self.refused = 0

    def _source(self, source: str) -> _Source:
        state = self._sources.get(source)
        if state is None:
            if len(self._sources) >= MAX_SOURCES:
                self._sources.pop(next(iter(self._sources)))
            state = self._sources[source] = _Source()
        return state

    def admit(self, source: str, now: float) -> str:
        """'' when a guess from `source` may be looked at now, else why not ('locked',
        'rate_limited')."""
        state = self._source(source)
        if state.locked_until > now:
            self.refused += 1
            return "locked"
        if not state.bucket.take(now) or not self._global.take(now):
            self.refused += 1
            return "rate_limited"
        return ""

    def wrong_code(self, source: str, now: float, code: str = "") -> bool:
        """Count a wrong code from `source` (the same code again counts once). True when
        open codes must be withdrawn now."""
        state = self._source(source)
        if code in state.codes:
            return False
        if len(state.codes) < SOURCE_LOCK_AFTER * 4:
            state.codes.add(code)
        state.wrong += 1
        if state.wrong >= SOURCE_LOCK_AFTER:
            state.locked_until = now + SOURCE_LOCK_SECONDS * 2 ** (state.wrong - SOURCE_LOCK_AFTER)
        if now - self.last_wrong_at > FORGET_SECONDS:  # a typo now and then adds up to nothing
            self.wrong = 0
        self.wrong += 1
        self.total_wrong += 1
        if len(self.wrong_sources) < MAX_SOURCES:
            self.wrong_sources.add(source)
        self.last_wrong_at = now
        if self.wrong >= BURN_AFTER:
            self.wrong = 0
            self.burned += 1
            return True
        return False

    def paired(self, source: str) -> None:
        """A good code: the source's wrong count starts again."""
        self._source(source).forgive()

    def lift(self, source: str | None = None) -> int:
        """Staff lift the lock-out of one source (or all). Returns how many were lifted."""
        lifted = 0
        for name, state in self._sources.items():
            if (source is None or name == source) and (state.locked_until or state.wrong):
                state.forgive()
                lifted += 1
        return lifted

    def alarm(self, now: float) -> PairingAlarm:
        return PairingAlarm(
            wrong=self.total_wrong,
            sources=len(self.wrong_sources),
            burned=self.burned,
            last_wrong_at=self.last_wrong_at,
            locked_sources=sorted(s for s, st in self._sources.items() if st.locked_until > now),
            refused=self.refused,
        )
