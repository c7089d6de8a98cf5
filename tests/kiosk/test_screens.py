"""Every screen and key path, in-process: real KioskEngine + KioskStore (no hub), NullPlayer,
a hand-moved clock."""

from __future__ import annotations

import asyncio
import time

import pytest

from kiosk import wellbeing
from kiosk.screens.break_screen import BreakScreen
from kiosk.screens.label import LabelScreen
from kiosk.screens.login import LoginScreen
from kiosk.screens.summary import SummaryScreen
from kiosk.widgets.video import VideoView
from protocol import messages as m
from tests.kiosk.conftest import Kiosk, login, schema

SIZE = (100, 32)


def text(app, selector: str) -> str:  # noqa: ANN001
    return str(app.screen.query_one(selector).render())


def labels(kiosk: Kiosk) -> list[m.Label]:
    return [x for x in kiosk.store.outbox() if isinstance(x, m.Label)]


async def settle(pilot, done, timeout: float = 5.0) -> None:  # noqa: ANN001
    """Let the app run until `done()`: its timers fire late on a busy machine."""
    end = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < end, "the app did not get there in time"
        await pilot.pause(0.05)


def prepared(kiosk: Kiosk) -> bool:
    """The next clip is picked and waits preloaded in the player."""
    screen = kiosk.app.screen
    upcoming = getattr(screen, "upcoming", None)
    preloads = kiosk.player.preloads
    return bool(upcoming and preloads) and preloads[-1] == kiosk.engine.cache.path(
        upcoming[0].sha256
    )


def watch(kiosk: Kiosk, until: float, step: float = 0.25) -> None:
    """Pretend the clip plays from the player's position to `until`, polled as the screen does."""
    screen = kiosk.app.screen
    assert isinstance(screen, LabelScreen)
    screen.poll()
    while kiosk.player.pos < until:
        kiosk.player.pos = min(until, kiosk.player.pos + step)
        kiosk.clock.advance(step)
        screen.poll()


# ---- login ---------------------------------------------------------------------------------


async def test_login_with_a_wrong_pin_stays_and_says_so(kiosk_factory) -> None:
    kiosk = kiosk_factory()
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await pilot.click("#operator")
        await pilot.press(*"op1", "enter", *"0000", "enter")
        for _ in range(100):
            if "klopt niet" in text(kiosk.app, "#login-message"):
                break
            await pilot.pause(0.02)
        assert "klopt niet" in text(kiosk.app, "#login-message")
        assert isinstance(kiosk.app.screen, LoginScreen)
        assert kiosk.engine.operator is None


async def test_login_starts_a_shift_on_the_labelling_screen(kiosk_factory) -> None:
    kiosk = kiosk_factory()
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        assert isinstance(kiosk.app.screen, LabelScreen)
        assert kiosk.app.shift is not None
        status = text(kiosk.app, "#status")
        assert "Sam" in status and "offline" in status and "pauze over: 50:00" in status
        assert "clip-01" in text(kiosk.app, "#clip-name")


# ---- single choice -------------------------------------------------------------------------


async def test_one_key_labels_and_the_prepared_clip_plays_at_once(kiosk_factory) -> None:
    kiosk = kiosk_factory()
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = kiosk.app.screen
        first = screen.session.clip
        await settle(pilot, lambda: prepared(kiosk))
        assert screen.upcoming is not None  # picked and verified while clip 1 plays
        upcoming = screen.upcoming[0]
        watch(kiosk, 1.0)
        await pilot.press("1")
        [label] = labels(kiosk)
        assert label.clip == first.sha256 and label.values == ["gewelddadig"]
        assert label.lease_id == "lease-1"
        tel = label.telemetry
        for key in ("shown_at", "first_key_s", "time_to_label_s", "watched_fraction", "replays"):
            assert key in tel
        assert tel["speed"] == 1.0 and tel["greyscale"] is False and tel["blur"] is False
        assert tel["watched_fraction"] == 0.25
        assert screen.session.clip == upcoming
        assert kiosk.player.played[-1] == kiosk.engine.cache.path(upcoming.sha256)
        assert kiosk.app.done_this_shift == 1
        assert "Opgeslagen" in text(kiosk.app, "#feedback")


async def test_the_next_clip_is_preloaded_and_is_what_the_key_plays(kiosk_factory) -> None:
    """Never wait: while a clip plays, the one after it waits preloaded in the player, and
    the label key plays exactly that one; the time shown starts at the key."""
    kiosk = kiosk_factory()
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = kiosk.app.screen
        await settle(pilot, lambda: prepared(kiosk))
        upcoming = screen.upcoming[0]
        path = kiosk.engine.cache.path(upcoming.sha256)
        assert kiosk.player.preloads[-1] == path
        kiosk.clock.advance(3.0)
        await pilot.press("1")
        assert kiosk.player.played[-1] == path and screen.session.clip == upcoming
        assert screen.session.shown_mono == kiosk.clock.now  # shown from the key, not the preload
        await settle(pilot, lambda: prepared(kiosk))
        assert kiosk.player.preloads[-1] == kiosk.engine.cache.path(screen.upcoming[0].sha256)
        assert kiosk.player.preloads[-1] != path


async def test_a_clip_mpv_cannot_play_is_skipped_with_a_message(kiosk_factory) -> None:
    kiosk = kiosk_factory()
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = kiosk.app.screen
        await settle(pilot, lambda: prepared(kiosk))
        broken = screen.upcoming[0]
        kiosk.player.broken.add(kiosk.engine.cache.path(broken.sha256))
        await pilot.press("1")
        assert screen.session is not None and screen.session.clip != broken
        assert kiosk.engine.cache.path(broken.sha256) not in kiosk.player.played
        assert "kan niet worden afgespeeld" in text(kiosk.app, "#feedback")
        assert broken.sha256 not in {c.sha256 for c, _ in kiosk.engine.pending()}
        assert [x.clip for x in labels(kiosk)] == [kiosk.clips[0].sha256]  # no label for it
        # not preloaded (loadfile), found broken while on screen: the same
        now = screen.session.clip
        kiosk.player.broken.add(kiosk.engine.cache.path(now.sha256))
        screen.poll()
        await pilot.pause()
        assert screen.session is not None and screen.session.clip != now
        assert now.sha256 not in {c.sha256 for c, _ in kiosk.engine.pending()}


async def test_watch_fraction_refuses_a_label_until_watched(kiosk_factory) -> None:
    kiosk = kiosk_factory(schema("single", watch_fraction=1.0))
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("1")
        assert labels(kiosk) == []
        assert "nog 4" in text(kiosk.app, "#feedback")
        await pilot.press("right", "right")  # seeking to the end is not watching
        kiosk.clock.advance(1)
        kiosk.app.screen.poll()
        await pilot.press("1")
        assert labels(kiosk) == []
        await pilot.press("r")  # replay from the start and watch it through
        kiosk.clock.advance(1)
        watch(kiosk, 4.0)
        await pilot.press("1")
        [label] = labels(kiosk)
        assert label.telemetry["watched_fraction"] == 1.0
        assert label.telemetry["refused"] == 2
        assert label.telemetry["seeks"] == 2 and label.telemetry["replays"] == 1


# ---- multi choice and segments -------------------------------------------------------------


async def test_multi_choice_toggles_and_enter_confirms(kiosk_factory) -> None:
    kiosk = kiosk_factory(schema("multi"))
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("enter")
        assert "minstens één" in text(kiosk.app, "#feedback")
        await pilot.press("1", "2", "3", "1")  # 1 on, 2 on, 3 on, 1 off
        assert kiosk.app.screen.session.selected == ["riot", "shooting"]
        assert "✔" in text(kiosk.app, "#key-1") and "✔" not in text(kiosk.app, "#key-0")
        await pilot.press("enter")
        [label] = labels(kiosk)
        assert label.values == ["riot", "shooting"] and label.segments == []
        assert kiosk.app.screen.session.selected == []


async def test_multi_choice_with_an_a_b_segment(kiosk_factory) -> None:
    kiosk = kiosk_factory(schema("multi"))
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        kiosk.player.pos = 0.5
        await pilot.press("a")
        kiosk.player.pos = 2.0
        await pilot.press("b", "3")  # names the stretch and selects the value
        await pilot.press("0", "enter")
        [label] = labels(kiosk)
        assert label.values == ["shooting", "none"]
        assert label.segments == [m.Segment(0.5, 2.0, "shooting")]


async def test_segments_a_b_then_label_several_per_clip(kiosk_factory) -> None:
    kiosk = kiosk_factory(schema("segments"))
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        player, screen = kiosk.player, kiosk.app.screen
        await pilot.press("1")
        assert "Markeer eerst" in text(kiosk.app, "#feedback")
        await pilot.press("b")
        assert "eerst A" in text(kiosk.app, "#feedback")
        player.pos = 0.5
        await pilot.press("a")
        assert "Begin (A) op 0.5" in text(kiosk.app, "#choices")
        await pilot.press("enter")  # an unfinished stretch is not submitted
        assert labels(kiosk) == []
        player.pos = 1.25
        await pilot.press("b")
        assert "0.5–1.2" in text(kiosk.app, "#choices")
        await pilot.press("2")
        player.pos = 3.0
        await pilot.press("a")
        player.pos = 2.0  # B before A: the stretch is put the right way round
        await pilot.press("b", "3")
        player.pos = 3.5
        await pilot.press("a", "b", "1", "delete")  # a third one, taken back
        assert [s.label for s in screen.session.segments] == ["riot", "shooting"]
        await pilot.press("enter")
        [label] = labels(kiosk)
        assert label.values == ["riot", "shooting"]
        assert label.segments == [m.Segment(0.5, 1.25, "riot"), m.Segment(2.0, 3.0, "shooting")]
        assert screen.session.clip.name == "clip-02"


# ---- undo, skip ----------------------------------------------------------------------------


async def test_backspace_undoes_the_last_label_and_shows_that_clip_again(kiosk_factory) -> None:
    kiosk = kiosk_factory()
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = kiosk.app.screen
        await pilot.press("1")
        assert screen.session.clip.name == "clip-02"
        await pilot.press("backspace")
        assert labels(kiosk) == []
        assert screen.session.clip.name == "clip-01"
        assert "Ongedaan" in text(kiosk.app, "#feedback")
        assert kiosk.app.done_this_shift == 0 and kiosk.app.shift.undone == 1
        await pilot.press("backspace")
        assert "Niets om ongedaan" in text(kiosk.app, "#feedback")
        await pilot.press("2", "1")  # relabel clip 1, then clip 2: the queue order holds
        assert [(x.values[0]) for x in labels(kiosk)] == ["niet_gewelddadig", "gewelddadig"]
        assert [x.clip for x in labels(kiosk)] == [c.sha256 for c in kiosk.clips[:2]]


async def test_skip_moves_on_without_a_label(kiosk_factory) -> None:
    kiosk = kiosk_factory()
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("s")
        assert labels(kiosk) == []
        assert kiosk.app.screen.session.clip.name == "clip-02"
        assert kiosk.app.shift.skipped == 1 and kiosk.app.done_this_shift == 0
        pending = [c.name for c, _ in kiosk.engine.pending()]
        assert "clip-01" not in pending


async def test_no_more_work_says_so_and_stops_the_player(kiosk_factory) -> None:
    kiosk = kiosk_factory(clips=1)
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("1")
        assert kiosk.app.screen.session is None
        assert "klaargezet" in text(kiosk.app, "#clip-name")
        assert kiosk.player.paused


# ---- playback and keypad -------------------------------------------------------------------


async def test_playback_keys_and_their_telemetry(kiosk_factory) -> None:
    kiosk = kiosk_factory()
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        player = kiosk.player
        await pilot.press("space")
        assert player.paused
        await pilot.press("space", "right", "right", "left")
        assert not player.paused and player.pos == 2.0
        await pilot.press("r")
        assert player.pos == 0.0
        await pilot.press("right_square_bracket", "right_square_bracket", "left_square_bracket")
        assert player.speed == 1.25
        await pilot.press("full_stop")
        assert player.pos == pytest.approx(0.04) and player.paused
        await pilot.press("g", "v")
        assert player.filters == (True, True)
        assert "grijs" in text(kiosk.app, "#video-info")
        await pilot.press("1")
        tel = labels(kiosk)[0].telemetry
        assert (tel["seeks"], tel["replays"], tel["frame_steps"], tel["pauses"]) == (3, 1, 1, 2)
        assert tel["speed"] == 1.25 and tel["speeds"] == [1.0, 1.25, 1.5]
        assert tel["greyscale"] is True and tel["blur"] is True
        assert player.filters == (True, True)  # the operator's choice holds for the next clip


async def test_numeric_keypad_layout(kiosk_factory) -> None:
    """Keypad digits arrive as digits; + − * / . Enter as these names (kitty: add, subtract…)."""
    kiosk = kiosk_factory(schema("multi"))
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        player = kiosk.player
        await pilot.press("plus", "add")
        assert player.speed == 1.5
        await pilot.press("minus", "subtract", "minus")
        assert player.speed == 0.75
        await pilot.press("slash")
        assert player.paused
        await pilot.press("divide", "right")
        assert not player.paused
        await pilot.press("asterisk")
        assert player.pos == 0.0
        await pilot.press("decimal")
        assert player.pos == pytest.approx(0.04)
        await pilot.press("2", "enter")
        assert labels(kiosk)[0].values == ["riot"]


async def test_project_filters_are_the_default(kiosk_factory) -> None:
    kiosk = kiosk_factory(schema("single", greyscale=True, blur=True))
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        assert kiosk.player.filters == (True, True)
        await pilot.press("v")
        assert kiosk.player.filters == (True, False)


async def test_sound_follows_the_project_muted_by_default(kiosk_factory) -> None:
    kiosk = kiosk_factory()
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        assert kiosk.player.muted is True
    loud = kiosk_factory(schema("single", muted=False))
    async with loud.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        assert loud.player.muted is False


# ---- wellbeing -----------------------------------------------------------------------------


async def test_this_affected_me_pauses_alerts_staff_and_offers_a_break(kiosk_factory) -> None:
    kiosk = kiosk_factory()
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        clip = kiosk.app.screen.session.clip
        await pilot.press("x")
        assert kiosk.player.paused
        [alert] = [x for x in kiosk.store.outbox() if isinstance(x, m.Alert)]
        assert alert.clip == clip.sha256 and alert.operator == "op1"
        assert isinstance(kiosk.app.screen, BreakScreen) and kiosk.app.screen.kind == "offered"
        assert "Enter = pauze nemen" in text(kiosk.app, "#break-hint")
        await pilot.press("escape")  # no break now, thanks
        assert isinstance(kiosk.app.screen, LabelScreen)
        assert kiosk.player.paused and "spatie = verder" in text(kiosk.app, "#feedback")
        await pilot.press("x", "enter")  # this time, take the break
        screen = kiosk.app.screen
        assert screen.state == "running"
        kiosk.clock.advance(120)
        await pilot.press("enter")  # a chosen break may end early
        assert isinstance(kiosk.app.screen, LabelScreen)
        assert kiosk.app.shift.alerts == 2
        assert kiosk.app.shift.breaks == [("offered", 120.0)]  # declining is not a break
        [taken] = [x for x in kiosk.store.outbox() if isinstance(x, m.BreakTaken)]
        assert (taken.kind, taken.seconds, taken.enforced) == ("offered", 120.0, False)
        await pilot.press("s")  # skip the clip that did it, without penalty
        assert kiosk.app.screen.session.clip != clip


async def test_enforced_break_after_n_minutes_with_a_countdown(kiosk_factory) -> None:
    kiosk = kiosk_factory(schema("single", break_every_min=1.0, break_min=0.5))
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        kiosk.clock.advance(30)
        await pilot.press("1")
        assert isinstance(kiosk.app.screen, LabelScreen)
        assert "pauze over: 0:30" in text(kiosk.app, "#status")
        kiosk.clock.advance(31)
        await pilot.press("1")  # the break starts at the end of this clip
        screen = kiosk.app.screen
        assert isinstance(screen, BreakScreen) and screen.kind == "enforced"
        assert kiosk.player.paused
        screen.tick()
        assert text(kiosk.app, "#countdown") != ""
        await pilot.press("enter", "escape")  # an enforced break cannot be cut short
        assert kiosk.app.screen is screen
        kiosk.clock.advance(30)
        screen.tick()
        assert "voorbij" in text(kiosk.app, "#break-hint")
        await pilot.press("enter")
        label_screen = kiosk.app.screen
        assert isinstance(label_screen, LabelScreen)
        assert label_screen.session.clip.name == "clip-03"
        assert kiosk.app.shift.breaks == [("enforced", 30.0)]
        # reported to the hub through the outbox (staff dashboard, statements)
        [taken] = [x for x in kiosk.store.outbox() if isinstance(x, m.BreakTaken)]
        assert (taken.operator, taken.seconds, taken.enforced) == ("op1", 30.0, True)
        assert abs(taken.started_at - (time.time() - 30.0)) < 5
        assert "pauze over: 1:00" in text(kiosk.app, "#status")


async def test_an_overdue_break_interrupts_the_clip(kiosk_factory, monkeypatch) -> None:
    monkeypatch.setattr(wellbeing, "BREAK_GRACE_S", 5.0)
    kiosk = kiosk_factory(schema("single", break_every_min=1.0, break_min=0.5))
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = kiosk.app.screen
        kiosk.clock.advance(61)
        screen.wellbeing_tick()  # due, but the clip is still on: wait a little
        assert kiosk.app.screen is screen
        kiosk.clock.advance(4)
        screen.wellbeing_tick()
        await pilot.pause()
        assert isinstance(kiosk.app.screen, BreakScreen)
        assert kiosk.player.paused
        kiosk.clock.advance(30)
        await pilot.press("enter")
        assert kiosk.app.screen is screen and screen.session.clip.name == "clip-01"
        assert not kiosk.player.paused  # the interrupted clip goes on


async def test_voluntary_break_and_end_of_shift_from_a_break(kiosk_factory) -> None:
    kiosk = kiosk_factory()
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("p")
        assert isinstance(kiosk.app.screen, BreakScreen) and kiosk.app.screen.kind == "voluntary"
        kiosk.clock.advance(45)
        await pilot.press("q")
        assert isinstance(kiosk.app.screen, SummaryScreen)
        assert kiosk.app.shift.breaks == [("end", 45.0)]
        [taken] = [x for x in kiosk.store.outbox() if isinstance(x, m.BreakTaken)]
        assert (taken.kind, taken.seconds, taken.enforced) == ("voluntary", 45.0, False)


async def test_exposure_budget_reached_ends_viewing_for_the_day(kiosk_factory) -> None:
    kiosk = kiosk_factory(schema("single", exposure_budget_min=10.0), exposure_before_min=9.9)
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        kiosk.clock.advance(3)
        await pilot.press("1")
        assert "Nog 0 minuten" in text(kiosk.app, "#feedback")  # warned at 80 %
        kiosk.clock.advance(5)
        await pilot.press("1")
        screen = kiosk.app.screen
        assert isinstance(screen, SummaryScreen) and screen.reason == "budget"
        assert "kijktijd voor vandaag bereikt" in text(kiosk.app, "#summary-reason")
        await pilot.press("escape")  # no way back to the clips today
        assert kiosk.app.screen is screen
        await pilot.press("enter")
        assert isinstance(kiosk.app.screen, LoginScreen)
        assert kiosk.engine.operator is None and kiosk.app.shift is None


async def test_training_clips_show_the_answer_and_count_toward_gold_accuracy(
    kiosk_factory,
) -> None:
    kiosk = kiosk_factory(answers={0: "gewelddadig", 1: "niet_gewelddadig"})
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("1")
        await pilot.pause()
        assert "goed!" in text(kiosk.app, "#feedback")
        await pilot.press("1")
        await pilot.pause()
        assert "juiste antwoord was: niet gewelddadig" in text(kiosk.app, "#feedback")
        await pilot.press("q")
        assert "Controleclips goed" in text(kiosk.app, "#summary-figures")
        assert "50 % (2)" in text(kiosk.app, "#summary-figures")


# ---- summary, language, looks --------------------------------------------------------------


async def test_summary_shows_the_shift_and_logs_out(kiosk_factory) -> None:
    kiosk = kiosk_factory()
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        kiosk.clock.advance(90)
        await pilot.press("1", "s", "q")
        assert isinstance(kiosk.app.screen, SummaryScreen)
        figures = text(kiosk.app, "#summary-figures")
        assert "Clips gelabeld" in figures and "1:30" in figures
        assert "Goed gewerkt, Sam" in text(kiosk.app, "#summary-title")
        await pilot.press("escape")
        assert isinstance(kiosk.app.screen, LabelScreen)
        await pilot.press("q", "enter")
        assert isinstance(kiosk.app.screen, LoginScreen)
        await login(pilot)  # a new shift starts from zero
        assert kiosk.app.done_this_shift == 0
        assert kiosk.app.screen.session.clip.name == "clip-03"


async def test_language_toggles_everywhere(kiosk_factory) -> None:
    kiosk = kiosk_factory()
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        assert "Your ID" in text(kiosk.app, "#operator-label")
        await pilot.press("f2")
        assert "Je nummer" in text(kiosk.app, "#operator-label")
        await login(pilot)
        await pilot.press("l")
        assert "One key" in text(kiosk.app, "#kind-hint")
        assert "violent" in text(kiosk.app, "#key-0")
        await settle(pilot, lambda: "to send" in text(kiosk.app, "#status"))
        await pilot.press("p")
        assert "Break" in text(kiosk.app, "#break-title")
        await pilot.press("l")
        assert "Pauze" in text(kiosk.app, "#break-title")
        await pilot.press("enter")
        assert "Eén toets" in text(kiosk.app, "#kind-hint")


async def test_large_text_and_high_contrast_by_key_and_by_config(kiosk_factory) -> None:
    kiosk = kiosk_factory()
    async with kiosk.app.run_test(size=SIZE) as pilot:
        app = kiosk.app
        assert not app.has_class("-large-text")
        await pilot.press("f3", "f4")
        assert app.has_class("-large-text") and app.has_class("-high-contrast")
        assert app.theme == "kiosk-high-contrast"
        await login(pilot)
        assert app.screen.query_one("#key-0").outer_size.height == 3  # a big target
        await pilot.press("f4")
        assert app.theme == "textual-dark"
    configured = kiosk_factory(large_text=True, high_contrast=True)
    async with configured.app.run_test(size=SIZE):
        assert configured.app.has_class("-large-text")
        assert configured.app.theme == "kiosk-high-contrast"


async def test_video_widget_draws_half_block_cells(kiosk_factory) -> None:
    kiosk = kiosk_factory(frames=True)
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        video = kiosk.app.screen.query_one(VideoView)
        for _ in range(100):
            if video.frames_drawn:
                break
            await asyncio.sleep(0.02)
        await pilot.pause()
        assert video.frames_drawn >= 1
        line = video.render_line(3)
        assert "▀" in line.text
        colours = {seg.style.color.triplet for seg in line if seg.style and seg.style.color}
        assert len(colours) > 5  # a gradient, left to right


async def test_review_mode_shows_the_models_label_and_marks_the_label(kiosk_factory) -> None:
    kiosk = kiosk_factory(suggestions={0: "gewelddadig"})
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        assert "het model zegt" in text(kiosk.app, "#clip-name")
        kiosk.clock.advance(5)
        await pilot.press("2")  # corrects the model
        await pilot.pause(0.05)
        assert "het model zegt" not in text(kiosk.app, "#clip-name")  # clip 2: no suggestion
        kiosk.clock.advance(5)
        await pilot.press("1")
        await pilot.pause(0.05)
    labels = kiosk.store.outbox()
    assert [(x.values, x.review) for x in labels] == [
        (["niet_gewelddadig"], True),
        (["gewelddadig"], False),
    ]


# ---- neutral clips after disturbing ones ---------------------------------------------------

CALM = {"interleave_neutral": True, "neutral_labels": ["niet_gewelddadig"]}


def shown(kiosk: Kiosk) -> str:
    return kiosk.app.screen.session.clip.name


async def test_a_calm_clip_follows_a_disturbing_one_when_the_project_interleaves(
    kiosk_factory,
) -> None:
    # clip-02 the hub knows is disturbing, clip-04 and clip-05 calm, the rest not known yet
    tones = {1: "disturbing", 3: "neutral", 4: "neutral"}
    kiosk = kiosk_factory(schema("single", **CALM), tones=tones)
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await settle(pilot, lambda: kiosk.app.screen.upcoming is not None)
        screen = kiosk.app.screen
        assert shown(kiosk) == "clip-01"
        # both the next clip and the calm one are verified while this one plays
        assert screen.upcoming[0].name == "clip-02"
        assert screen.upcoming_neutral[0].name == "clip-04"
        await pilot.press("2")  # calm by the operator's own label: the queue order holds
        assert shown(kiosk) == "clip-02"
        await settle(pilot, lambda: kiosk.app.screen.upcoming is not None)
        await pilot.press("2")  # the hub flagged it: a calm clip next, whatever the label
        assert shown(kiosk) == "clip-04"
        await settle(pilot, lambda: kiosk.app.screen.upcoming is not None)
        await pilot.press("2")
        assert shown(kiosk) == "clip-03"
        await settle(pilot, lambda: kiosk.app.screen.upcoming is not None)
        await pilot.press("x", "escape")  # "this affected me", no break now
        assert shown(kiosk) == "clip-03"
        await pilot.press("space", "2")
        assert shown(kiosk) == "clip-05"  # the affected operator gets the calm one
        assert kiosk.player.played[-1] == kiosk.engine.cache.path(kiosk.clips[4].sha256)


async def test_without_interleaving_or_a_calm_clip_the_queue_order_holds(kiosk_factory) -> None:
    tones = {2: "neutral"}
    kiosk = kiosk_factory(schema("single"), tones=tones)  # the project does not interleave
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await settle(pilot, lambda: kiosk.app.screen.upcoming is not None)
        assert kiosk.app.screen.upcoming_neutral is None  # nothing extra prepared
        await pilot.press("1")  # violent
        assert shown(kiosk) == "clip-02"
    kiosk = kiosk_factory(schema("single", **CALM))  # interleaves, but no clip known calm
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("1")
        assert shown(kiosk) == "clip-02"
        await pilot.press("1", "1")
        assert shown(kiosk) == "clip-04"


async def test_a_calm_clip_not_prepared_yet_is_still_found(kiosk_factory) -> None:
    kiosk = kiosk_factory(schema("single", **CALM), tones={2: "neutral"})
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        kiosk.app.screen.upcoming = kiosk.app.screen.upcoming_neutral = None
        await pilot.press("1")  # before anything was prepared
        assert shown(kiosk) == "clip-03"
