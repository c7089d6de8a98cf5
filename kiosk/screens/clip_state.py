"""What happens to one clip on the labelling screen, as pure logic (no Textual, no mpv).

How much was watched, the operator's choices so far (multi-choice toggles, A–B segments),
and the telemetry that goes with the label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from protocol import messages as m

#: A position step larger than this (seconds) between two observations is a jump, not viewing.
MAX_STEP_S = 1.5
#: Observations this soon after a seek are not trusted (mpv seeks asynchronously).
SEEK_SETTLE_S = 0.3
#: "Watched to the end" forgives this much (the last frame's time is below the duration).
END_SLACK_S = 0.3


@dataclass
class ClipSession:
    clip: m.ClipRef
    lease: str | None
    duration: float
    shown_mono: float
    shown_wall: float
    first_key_s: float | None = None
    replays: int = 0
    seeks: int = 0
    pauses: int = 0
    frame_steps: int = 0
    speed: float = 1.0
    speeds: list[float] = field(default_factory=list)
    max_position: float = 0.0
    covered: list[tuple[float, float]] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)
    segments: list[m.Segment] = field(default_factory=list)
    mark_a: float | None = None
    mark_b: float | None = None
    refused: int = 0
    away_s: float = 0.0  # on a break (or the summary) while this clip waited
    _last_pos: float | None = None
    _settle_until: float = 0.0

    # ---- viewing -----------------------------------------------------------------------

    def observe(self, pos: float, now: float, duration: float = 0.0) -> None:
        """A playback position seen at monotonic time `now`; steady viewing counts as watched."""
        if duration > 0 and not self.duration:
            self.duration = duration
        self.max_position = max(self.max_position, pos)
        if now < self._settle_until:
            self._last_pos = None
            return
        last = self._last_pos
        self._last_pos = pos
        if last is None:
            return
        step = pos - last
        if 0 < step <= MAX_STEP_S:
            self._cover(last, pos)

    def _cover(self, start: float, end: float) -> None:
        spans = sorted([*self.covered, (start, end)])
        merged: list[tuple[float, float]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1] + 0.05:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        self.covered = merged

    def watched_s(self) -> float:
        return sum(b - a for a, b in self.covered)

    def watched_fraction(self) -> float:
        if self.duration <= 0:
            return 0.0
        return min(1.0, self.watched_s() / self.duration)

    def watched_enough(self, fraction: float) -> bool:
        if fraction <= 0:
            return True
        if self.duration <= 0:
            return False
        return self.watched_s() >= fraction * self.duration - END_SLACK_S

    def still_to_watch_s(self, fraction: float) -> float:
        return max(0.0, fraction * self.duration - END_SLACK_S - self.watched_s())

    def seeked(self, now: float) -> None:
        self.seeks += 1
        self._last_pos = None
        self._settle_until = now + SEEK_SETTLE_S

    def replayed(self, now: float) -> None:
        self.replays += 1
        self._last_pos = None
        self._settle_until = now + SEEK_SETTLE_S

    def stepped(self) -> None:
        self.frame_steps += 1

    def set_speed(self, speed: float) -> None:
        self.speed = speed
        if speed not in self.speeds:
            self.speeds.append(speed)

    def key_pressed(self, now: float) -> None:
        if self.first_key_s is None:
            self.first_key_s = round(now - self.shown_mono, 3)

    def shown_s(self, now: float) -> float:
        """Seconds the clip was on screen (time away on a break does not count)."""
        return max(0.0, now - self.shown_mono - self.away_s)

    def was_away(self, seconds: float) -> None:
        self.away_s += max(0.0, seconds)
        self._last_pos = None

    # ---- choices -----------------------------------------------------------------------

    def toggle(self, value: str) -> bool:
        """Multi choice: select or unselect `value`; returns whether it is now selected."""
        if value in self.selected:
            self.selected.remove(value)
            return False
        self.selected.append(value)
        return True

    def mark_start(self, pos: float) -> None:
        self.mark_a, self.mark_b = pos, None

    def mark_end(self, pos: float) -> bool:
        """B: end of the marked stretch. False if there is no A to end."""
        if self.mark_a is None:
            return False
        self.mark_b = pos
        return True

    def pending_segment(self) -> tuple[float, float] | None:
        if self.mark_a is None or self.mark_b is None:
            return None
        start, end = sorted((self.mark_a, self.mark_b))
        return round(start, 3), round(end, 3)

    def assign_segment(self, value: str) -> m.Segment | None:
        """Give the marked A–B stretch the label `value`; None if nothing is marked."""
        span = self.pending_segment()
        if span is None:
            return None
        segment = m.Segment(span[0], span[1], value)
        self.segments.append(segment)
        self.mark_a = self.mark_b = None
        return segment

    def drop_last_segment(self) -> bool:
        if self.mark_a is not None:
            self.mark_a = self.mark_b = None
            return True
        if self.segments:
            self.segments.pop()
            return True
        return False

    def values(self, order: list[str]) -> list[str]:
        """Chosen values (toggles and segment labels), in the project's label order."""
        chosen = set(self.selected) | {s.label for s in self.segments}
        return [v for v in order if v in chosen]

    # ---- the label ---------------------------------------------------------------------

    def telemetry(self, now: float, greyscale: bool, blur: bool) -> dict[str, Any]:
        return {
            "shown_at": round(self.shown_wall, 3),
            "first_key_s": self.first_key_s,
            "time_to_label_s": round(self.shown_s(now), 3),
            "watched_fraction": round(self.watched_fraction(), 3) if self.duration else None,
            "max_position_s": round(self.max_position, 3),
            "replays": self.replays,
            "seeks": self.seeks,
            "pauses": self.pauses,
            "frame_steps": self.frame_steps,
            "speed": self.speed,
            "speeds": sorted(set(self.speeds) | {self.speed}),
            "refused": self.refused,
            "away_s": round(self.away_s, 3),
            "greyscale": greyscale,
            "blur": blur,
        }
