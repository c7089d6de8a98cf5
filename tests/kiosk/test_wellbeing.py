"""Pure wellbeing rules: break schedule, exposure budget, shift counters, neutral interleave."""

from __future__ import annotations

import pytest

from kiosk import wellbeing
from kiosk.wellbeing import BreakSchedule, ExposureBudget, Shift, interleave


def test_break_schedule_due_overdue_and_reset() -> None:
    schedule = BreakSchedule(every_s=600, length_s=120)
    schedule.add_work(599)
    assert not schedule.due() and schedule.time_to_break() == 1
    schedule.add_work(1)
    assert schedule.due() and not schedule.overdue()
    schedule.add_work(wellbeing.BREAK_GRACE_S)
    assert schedule.overdue()
    assert not schedule.took_break(60)  # too short to count
    assert schedule.due()
    assert schedule.took_break(120)
    assert not schedule.due() and schedule.time_to_break() == 600


def test_break_schedule_off_when_zero() -> None:
    schedule = BreakSchedule(every_s=0, length_s=0)
    schedule.add_work(10_000)
    assert not schedule.due() and schedule.time_to_break() == float("inf")


def test_exposure_budget_counts_the_day_across_kiosks() -> None:
    budget = ExposureBudget(budget_min=90, before_min=60)
    assert not budget.warn()
    budget.add(13 * 60)
    assert budget.warn() and not budget.reached()  # 73 of 90 minutes: past 80 %
    assert budget.remaining_min() == pytest.approx(17)
    assert budget.reached(extra_s=17 * 60)
    budget.add(17 * 60)
    assert budget.reached() and budget.remaining_min() == 0


def test_shift_work_clock_pauses_during_breaks() -> None:
    shift = Shift.start(100.0, break_every_min=1, break_min=0.5, budget_min=120)
    assert shift.time_to_break(130.0) == 30
    shift.pause(130.0)
    assert shift.time_to_break(500.0) == 30  # a break or the summary does not count as work
    shift.record_break("voluntary", 370.0)
    shift.resume(500.0)
    assert shift.time_to_break(500.0) == 60
    assert shift.worked_s(520.0) == 50
    assert shift.break_due(560.0)
    assert shift.break_seconds() == 370.0 and shift.breaks == [("voluntary", 370.0)]


def test_shift_counters_and_gold_accuracy() -> None:
    shift = Shift.start(0.0, 50, 10, 120, exposure_before_min=5)
    shift.labelled(6.0)
    shift.labelled(6.0, correct=True)
    shift.labelled(6.0, correct=False)
    shift.skipped_clip(6.0)
    shift.undid()
    assert (shift.clips_done, shift.skipped, shift.undone) == (2, 1, 1)
    assert shift.gold_accuracy() == 0.5
    assert shift.exposure.used_min() == pytest.approx(5.4)
    assert Shift.start(0.0, 50, 10, 120).gold_accuracy() is None


def test_interleave_puts_a_neutral_clip_after_a_disturbing_one() -> None:
    queue = ["a", "b", "calm-1", "c", "calm-2"]
    neutral = str.startswith

    def is_calm(x: str) -> bool:
        return neutral(x, "calm")

    assert interleave(queue, last_was_disturbing=False, is_neutral=is_calm) == 0
    assert interleave(queue, last_was_disturbing=True, is_neutral=is_calm) == 2
    assert interleave(["a", "b"], last_was_disturbing=True, is_neutral=is_calm) == 0
    with pytest.raises(ValueError):
        interleave([], True, is_calm)
