"""Pure per-clip logic: watched coverage, A–B segments, multi-choice values, telemetry."""

from __future__ import annotations

import pytest

from kiosk.screens.clip_state import ClipSession
from protocol import messages as m

CLIP = m.ClipRef(clip_id="c", sha256="0" * 64, size=1, name="c", duration=4.0)


def session(duration: float = 4.0) -> ClipSession:
    return ClipSession(clip=CLIP, lease="l", duration=duration, shown_mono=10.0, shown_wall=1e9)


def play(s: ClipSession, start: float, end: float, t0: float, step: float = 0.25) -> float:
    pos, now = start, t0
    s.observe(pos, now)
    while pos < end:
        pos, now = min(end, pos + step), now + step
        s.observe(pos, now)
    return now


def test_steady_viewing_counts_jumps_do_not() -> None:
    s = session()
    now = play(s, 0.0, 2.0, 10.0)
    assert s.watched_s() == pytest.approx(2.0)
    s.observe(3.9, now + 0.25)  # a jump forward: not watched
    s.observe(4.0, now + 0.5)
    assert s.watched_s() == pytest.approx(2.1)
    assert not s.watched_enough(1.0)
    assert s.still_to_watch_s(1.0) == pytest.approx(4.0 - 0.3 - 2.1)
    assert s.watched_enough(0.5)
    assert s.watched_enough(0.0)


def test_replays_do_not_count_twice_and_seeks_settle() -> None:
    s = session()
    now = play(s, 0.0, 2.0, 10.0)
    s.replayed(now)
    now = play(s, 0.0, 2.0, now + 0.5)
    assert s.watched_s() == pytest.approx(2.0) and s.replays == 1
    s.seeked(now)
    s.observe(3.0, now + 0.1)  # mpv still settling after the seek
    s.observe(3.5, now + 0.2)
    assert s.watched_s() == pytest.approx(2.0) and s.seeks == 1
    play(s, 2.0, 4.0, now + 1)
    assert s.watched_enough(1.0) and s.watched_fraction() == 1.0


def test_unknown_duration_is_taken_from_the_player() -> None:
    s = session(duration=0.0)
    assert not s.watched_enough(0.5) and s.watched_fraction() == 0.0
    s.observe(0.0, 0.0, duration=2.0)
    assert s.duration == 2.0


def test_segments_marked_a_b_then_named() -> None:
    s = session()
    assert s.assign_segment("riot") is None
    assert not s.mark_end(1.0)
    s.mark_start(2.5)
    assert s.pending_segment() is None
    assert s.mark_end(1.0)
    assert s.pending_segment() == (1.0, 2.5)
    assert s.assign_segment("riot") == m.Segment(1.0, 2.5, "riot")
    s.mark_start(3.0)
    assert s.drop_last_segment()  # drops the unfinished mark first
    assert s.mark_a is None and len(s.segments) == 1
    assert s.drop_last_segment() and s.segments == []
    assert not s.drop_last_segment()


def test_values_follow_the_project_order() -> None:
    s = session()
    s.toggle("shooting")
    s.toggle("riot")
    s.mark_start(0.0)
    s.mark_end(1.0)
    s.assign_segment("fighting")
    assert not s.toggle("riot")
    assert s.values(["fighting", "riot", "shooting"]) == ["fighting", "shooting"]


def test_telemetry() -> None:
    s = session()
    s.key_pressed(11.5)
    s.key_pressed(12.0)
    s.set_speed(1.5)
    s.set_speed(1.0)
    play(s, 0.0, 1.0, 10.0)
    tel = s.telemetry(14.0, greyscale=True, blur=False)
    assert tel["first_key_s"] == 1.5 and tel["time_to_label_s"] == 4.0
    assert tel["watched_fraction"] == 0.25 and tel["speed"] == 1.0
    assert tel["speeds"] == [1.0, 1.5] and tel["greyscale"] is True and tel["blur"] is False
    assert tel["shown_at"] == 1e9
