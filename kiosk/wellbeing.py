"""Wellbeing rules of a shift, as pure logic (no I/O, no clock of its own: times are passed in).

* `BreakSchedule`: a break every `every_s` seconds of work, lasting `length_s`.
* `ExposureBudget`: minutes of clips an operator may see per day, counted across kiosks
  (what the hub reported at login plus this shift).
* `Shift`: the counters the summary screen shows, built on both.
* `interleave`: put a neutral clip after a disturbing one, when the project wants that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

#: An enforced break waits for the end of the current clip, but no longer than this.
BREAK_GRACE_S = 60.0
#: Warn when this share of the exposure budget is used.
EXPOSURE_WARN_AT = 0.8


@dataclass
class BreakSchedule:
    every_s: float
    length_s: float
    worked_s: float = 0.0  # work since the last break that counted

    def add_work(self, seconds: float) -> None:
        self.worked_s += max(0.0, seconds)

    def time_to_break(self) -> float:
        return max(0.0, self.every_s - self.worked_s) if self.every_s > 0 else float("inf")

    def due(self) -> bool:
        return self.every_s > 0 and self.worked_s >= self.every_s

    def overdue(self, grace_s: float | None = None) -> bool:
        grace = BREAK_GRACE_S if grace_s is None else grace_s
        return self.every_s > 0 and self.worked_s >= self.every_s + grace

    def took_break(self, seconds: float) -> bool:
        """A break of at least the set length restarts the clock. Returns whether it did."""
        if seconds >= self.length_s:
            self.worked_s = 0.0
            return True
        return False


@dataclass
class ExposureBudget:
    budget_min: float
    before_min: float = 0.0  # today, at any kiosk, before this login (from the hub)
    shift_s: float = 0.0

    def add(self, seconds: float) -> None:
        self.shift_s += max(0.0, seconds)

    def used_min(self, extra_s: float = 0.0) -> float:
        return self.before_min + (self.shift_s + extra_s) / 60.0

    def remaining_min(self, extra_s: float = 0.0) -> float:
        return max(0.0, self.budget_min - self.used_min(extra_s))

    def reached(self, extra_s: float = 0.0) -> bool:
        return self.budget_min > 0 and self.used_min(extra_s) >= self.budget_min

    def warn(self, extra_s: float = 0.0) -> bool:
        return self.budget_min > 0 and self.used_min(extra_s) >= EXPOSURE_WARN_AT * self.budget_min


@dataclass
class Shift:
    """One operator's session at this kiosk, from login to the summary screen."""

    started_at: float
    schedule: BreakSchedule
    exposure: ExposureBudget
    clips_done: int = 0
    skipped: int = 0
    undone: int = 0
    alerts: int = 0
    breaks: list[tuple[str, float]] = field(default_factory=list)  # (kind, seconds)
    gold_seen: int = 0
    gold_right: int = 0
    _working_since: float | None = None
    _worked_s: float = 0.0

    @classmethod
    def start(
        cls,
        now: float,
        break_every_min: float,
        break_min: float,
        budget_min: float,
        exposure_before_min: float = 0.0,
    ) -> Shift:
        shift = cls(
            started_at=now,
            schedule=BreakSchedule(break_every_min * 60.0, break_min * 60.0),
            exposure=ExposureBudget(budget_min, exposure_before_min),
        )
        shift.resume(now)
        return shift

    # ---- working time ------------------------------------------------------------------

    @property
    def working(self) -> bool:
        return self._working_since is not None

    def resume(self, now: float) -> None:
        if self._working_since is None:
            self._working_since = now

    def pause(self, now: float) -> None:
        """Stop the work clock (a break, the summary). Work so far counts toward the next break."""
        self.tick(now)
        self._working_since = None

    def tick(self, now: float) -> None:
        """Move the work clock on to `now`."""
        if self._working_since is not None:
            elapsed = max(0.0, now - self._working_since)
            self._worked_s += elapsed
            self.schedule.add_work(elapsed)
            self._working_since = now

    def worked_s(self, now: float) -> float:
        extra = max(0.0, now - self._working_since) if self._working_since is not None else 0.0
        return self._worked_s + extra

    def time_to_break(self, now: float) -> float:
        self.tick(now)
        return self.schedule.time_to_break()

    def break_due(self, now: float) -> bool:
        self.tick(now)
        return self.schedule.due()

    def break_overdue(self, now: float) -> bool:
        self.tick(now)
        return self.schedule.overdue()

    # ---- events ------------------------------------------------------------------------

    def record_break(self, kind: str, seconds: float) -> None:
        self.breaks.append((kind, seconds))
        self.schedule.took_break(seconds)

    def break_seconds(self) -> float:
        return sum(seconds for _kind, seconds in self.breaks)

    def labelled(self, shown_s: float, correct: bool | None = None) -> None:
        self.clips_done += 1
        self.exposure.add(shown_s)
        if correct is not None:
            self.gold_seen += 1
            self.gold_right += int(correct)

    def skipped_clip(self, shown_s: float) -> None:
        self.skipped += 1
        self.exposure.add(shown_s)

    def undid(self) -> None:
        self.undone += 1
        self.clips_done = max(0, self.clips_done - 1)

    def gold_accuracy(self) -> float | None:
        return self.gold_right / self.gold_seen if self.gold_seen else None


def interleave(
    pending: Sequence[T],
    last_was_disturbing: bool,
    is_neutral: Callable[[T], bool],
) -> int:
    """Index in `pending` of the clip to show next.

    After a disturbing clip, the first neutral clip comes next (if there is one); otherwise the
    queue order holds. Which clips count as neutral is the project's call (e.g. gold items
    known to be calm, or clips with a calm consensus).
    """
    if not pending:
        raise ValueError("nothing pending")
    if last_was_disturbing:
        for index, item in enumerate(pending):
            if is_neutral(item):
                return index
    return 0
