"""Labelling: the clip plays, label keys from the project's schema, the next clip follows at once.

single choice: one key = label and next clip.  multi choice: label keys toggle, Enter confirms.
segments (and multi): A and B mark a stretch while the clip plays, then a label key names it;
several per clip; Enter submits. The clip after this one is picked, verified and preloaded
(paused on its first frame, `Player.preload`) while this one plays, so a key press only
unpauses it.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from rich.markup import escape
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from protocol import messages as m

from ..engine import KioskEngine
from ..player import PlaybackError, Player
from ..wellbeing import interleave
from ..widgets.keys import KeyPanel
from ..widgets.status import StatusLine
from ..widgets.video import VideoView
from .base import KioskScreen
from .break_screen import BreakScreen
from .clip_state import ClipSession

log = logging.getLogger(__name__)

SPEEDS = [0.5, 0.75, 1.0, 1.25, 1.5, 2.0]
SEEK_S = 2.0
#: Positions are read this often (watch-to-the-end rule, the info line).
POLL_S = 0.25
#: The next clip is chosen and verified this long after the current one starts.
PREPARE_AFTER_S = 0.1

#: Playback and other keys (Textual key names; keypad keys arrive as these names too).
CONTROL_KEYS: dict[str, str] = {
    "r": "replay",
    "asterisk": "replay",
    "multiply": "replay",
    "space": "pause",
    "slash": "pause",
    "divide": "pause",
    "left": "back",
    "right": "forward",
    "left_square_bracket": "slower",
    "minus": "slower",
    "subtract": "slower",
    "right_square_bracket": "faster",
    "plus": "faster",
    "add": "faster",
    "full_stop": "frame",
    "decimal": "frame",
    "comma": "frame_back",
    "s": "skip",
    "backspace": "undo",
    "g": "greyscale",
    "v": "blur",
    "x": "affected",
    "p": "take_break",
    "l": "language",
    "q": "end_shift",
    "a": "mark_a",
    "b": "mark_b",
    "delete": "drop_segment",
    "escape": "clear",
    "enter": "confirm",
}


class LabelScreen(KioskScreen[None]):
    def __init__(self) -> None:
        super().__init__()
        self.session: ClipSession | None = None
        self.upcoming: tuple[m.ClipRef, str] | None = None
        #: the first calm clip in the queue, ready in case this one turns out disturbing
        self.upcoming_neutral: tuple[m.ClipRef, str] | None = None
        self.last_disturbing = False  # the clip just labelled or skipped
        self._affected: str | None = None  # the clip "this affected me" was pressed on
        self.speed_index = SPEEDS.index(1.0)
        self.greyscale = False
        self.blurred = False
        self.on_break = False
        self._break_kind = ""  # of the break on screen (its result says "end" if it ends the shift)
        self._away_since: float | None = None
        self._warned = False  # about the exposure budget, once a shift
        self._feedback: tuple[str, dict[str, Any], str] = ("", {}, "")

    # ---- shortcuts ---------------------------------------------------------------------

    @property
    def engine(self) -> KioskEngine:
        return self.app.engine

    @property
    def player(self) -> Player:
        return self.app.player

    @property
    def schema(self) -> m.ProjectSchema | None:
        return self.engine.schema

    @property
    def kind(self) -> str:
        return self.schema.kind if self.schema else "single"

    @property
    def current(self) -> tuple[m.ClipRef, str | None] | None:
        """(clip, lease) on screen, or None between clips."""
        return (self.session.clip, self.session.lease) if self.session else None

    def now(self) -> float:
        return self.app.clock()

    # ---- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        labels = self.schema.labels if self.schema else []
        source = self.player.frame_source()
        yield StatusLine(id="status")
        with Horizontal(id="label-main"):
            with Vertical(id="video-pane"):
                if source is not None:
                    yield VideoView(source, id="video")
                else:
                    yield Static("", id="video", classes="video-placeholder")
                yield Static("", id="video-info")
            with VerticalScroll(id="side", can_focus=False):
                yield Static("", id="clip-name")
                yield Static("", id="kind-hint")
                yield KeyPanel(labels, id="keys")
                yield Static("", id="choices")
                yield Static("", id="feedback")
        yield Static("", id="help")

    def on_mount(self) -> None:
        windowed = bool(getattr(self.player, "windowed", False))
        self.query_one("#label-main").set_class(windowed, "-windowed")
        schema = self.schema
        if schema:
            self.greyscale, self.blurred = schema.greyscale, schema.blur
            self.player.set_muted(schema.muted)
        self.refresh_texts()
        self.show_next()
        self.set_interval(POLL_S, self.poll)
        self.set_interval(1.0, self.wellbeing_tick)

    def refresh_texts(self) -> None:
        t = self.app.t
        self.query_one(KeyPanel).refresh_texts()
        hint = t(f"kind_{self.kind}")
        if self.schema and self.schema.watch_fraction > 0:
            hint += "\n" + t("watch_rule", percent=round(self.schema.watch_fraction * 100))
        self.query_one("#kind-hint", Static).update(hint)
        segments = self.kind in ("multi", "segments")
        help_text = t("keys_help") + ("\n" + t("keys_segments") if segments else "")
        self.query_one("#help", Static).update(help_text)
        if getattr(self.app, "window_layout", "side") == "fullscreen":
            app = self.app
            self.player.set_overlay(
                self._overlay_text(),
                large=getattr(app, "large_text", False),
                high_contrast=getattr(app, "high_contrast", False),
            )
        video = self.query_one("#video")
        if isinstance(video, Static):
            windowed = getattr(self.player, "windowed", False)
            text = t("video_window") if windowed else t("video_none")
            note = self.app.video_note()
            video.update(escape(text + ("\n\n" + note if note else "")))
        self._render_clip()
        self._render_choices()
        self._render_info()
        key, kwargs, level = self._feedback
        self._show_feedback(key, kwargs, level)

    def _overlay_text(self) -> str:
        """The label keys, drawn over a full-screen video window (one line)."""
        t = self.app.t
        labels = self.schema.labels if self.schema else []
        keys = "   ".join(f"[{lab.key}] {t.label(lab.nl, lab.en)}" for lab in labels)
        return f"{keys}   ·   {t('keys_overlay')}"

    def _render_clip(self) -> None:
        t = self.app.t
        if self.session is None:
            text = t("waiting_for_work")
        else:
            clip = self.session.clip
            text = f"{t('clip')}: [b]{clip.name or clip.sha256[:12]}[/b]"
            if clip.suggestion is not None:  # review mode only: confirm or correct the model
                labels = self.engine.schema.labels if self.engine.schema else []
                name = next(
                    (t.label(x.nl, x.en) for x in labels if x.value == clip.suggestion),
                    clip.suggestion,
                )
                text += "\n" + t("review_suggestion", label=escape(name))
        self.query_one("#clip-name", Static).update(text)

    def _render_choices(self) -> None:
        t = self.app.t
        session = self.session
        panel = self.query_one(KeyPanel)
        if session is None or self.kind == "single":
            panel.set_selected(set())
            self.query_one("#choices", Static).update("")
            return
        panel.set_selected(set(session.selected))
        names = {
            lab.value: t.label(lab.nl, lab.en)
            for lab in (self.schema.labels if self.schema else [])
        }
        lines = []
        if session.selected:
            lines.append(f"{t('chosen')}: " + ", ".join(names.get(v, v) for v in session.selected))
        for seg in session.segments:
            lines.append(f"  {seg.start:.1f}–{seg.end:.1f} s  {names.get(seg.label, seg.label)}")
        span = session.pending_segment()
        if span is not None:
            lines.append(t("segment_pending", start=span[0], end=span[1]))
        elif session.mark_a is not None:
            lines.append(t("segment_started", start=session.mark_a))
        self.query_one("#choices", Static).update("\n".join(lines))

    def _render_info(self) -> None:
        t = self.app.t
        session = self.session
        if session is None:
            self.query_one("#video-info", Static).update("")
            return
        try:
            pos, length, paused = (
                self.player.position(),
                self.player.duration(),
                self.player.is_paused(),
            )
        except Exception:
            return
        length = length or session.duration
        parts = [
            f"{'❚❚' if paused else '▶'} {pos:4.1f} / {length:.1f} s",
            f"{SPEEDS[self.speed_index]:g}×",
            f"{t('watched')} {round(session.watched_fraction() * 100)} %",
        ]
        if self.greyscale:
            parts.append(t("greyscale_on"))
        if self.blurred:
            parts.append(t("blur_on"))
        self.query_one("#video-info", Static).update("  ·  ".join(parts))

    def feedback(self, key: str, level: str = "ok", **kwargs: Any) -> None:
        self._feedback = (key, kwargs, level)
        self._show_feedback(key, kwargs, level)

    def _show_feedback(self, key: str, kwargs: dict[str, Any], level: str) -> None:
        widget = self.query_one("#feedback", Static)
        widget.update(self.app.t(key, **kwargs) if key else "")
        widget.set_class(level == "warning", "-warning")
        widget.display = bool(key)

    def training_feedback(self, answer: str, correct: bool) -> None:
        """Training mode: after the label, the right answer (as the engine reports it)."""
        t = self.app.t
        labels = self.schema.labels if self.schema else []
        name = next((t.label(lab.nl, lab.en) for lab in labels if lab.value == answer), answer)
        key = "training_right" if correct else "training_wrong"
        self.feedback(key, "ok" if correct else "warning", answer=name)

    def look_changed(self) -> None:
        self.refresh_texts()

    # ---- clip flow ---------------------------------------------------------------------

    def work_arrived(self) -> None:
        if self.session is None and not self.on_break and self.app.screen is self:
            self.show_next()
        elif self.upcoming is None:
            self._prepare_next()

    def _take_upcoming(self) -> tuple[m.ClipRef, str] | None:
        """The clip prepared while the last one played (a calm one after a disturbing clip,
        when the project interleaves). Only this screen labels or skips clips, and undo drops
        the prepared ones, so they are still pending; one stat() checks that the file was not
        evicted meanwhile."""
        nxt, calm = self.upcoming, self.upcoming_neutral
        self.upcoming = self.upcoming_neutral = None
        if self._calm_next() and calm is not None:
            nxt = calm
        if nxt is None or nxt[0].sha256 in self._on_screen():
            return None
        return nxt if self.engine.cache.has(nxt[0].sha256) else None

    # ---- neutral clips after disturbing ones ---------------------------------------------

    def _interleaving(self) -> bool:
        return bool(self.schema and self.schema.interleave_neutral)

    def _calm_next(self) -> bool:
        return self._interleaving() and self.last_disturbing

    def _was_disturbing(self, clip: m.ClipRef, values: list[str]) -> bool:
        """Flagged by the hub (gold answer, consensus), by the operator ("this affected me"),
        or labelled with a value the project does not count as calm."""
        if clip.tone == "disturbing" or self._affected == clip.sha256:
            return True
        neutral = set(self.schema.neutral_labels) if self.schema else set()
        return any(value not in neutral for value in values)

    def _next_neutral(self, skip: set[str]) -> tuple[m.ClipRef, str] | None:
        """The first queued clip the hub knows to be calm whose verified file is here."""
        here = [
            p
            for p in self.engine.pending()
            if p[0].sha256 not in skip and self.engine.cache.has(p[0].sha256)
        ]
        if not here:
            return None
        nxt = here[interleave(here, True, lambda p: p[0].tone == "neutral")]
        if nxt[0].tone != "neutral" or not self.engine.cache.ready(nxt[0].sha256):
            return None
        return nxt

    def show_next(self) -> None:
        skip = self._on_screen()
        nxt = self._take_upcoming()
        if nxt is None and self._calm_next():
            nxt = self._next_neutral(skip)
        nxt = nxt or self.engine.next_ready(skip=skip)
        if nxt is None:
            if self.session is not None:
                self._clear_clip()
            else:
                self._render_clip()
            return
        self.start_clip(*nxt)

    def _on_screen(self) -> set[str]:
        return {self.session.clip.sha256} if self.session else set()

    def start_clip(self, clip: m.ClipRef, lease: str | None) -> None:
        player = self.player
        player.set_filters(self.greyscale, self.blurred)
        try:
            player.play(self.engine.cache.path(clip.sha256))
        except PlaybackError as exc:
            self._unplayable(clip, str(exc))
            return
        now = self.now()
        self.session = ClipSession(
            clip=clip, lease=lease, duration=clip.duration, shown_mono=now, shown_wall=time.time()
        )
        self.session.set_speed(SPEEDS[self.speed_index])
        self._render_clip()
        self._render_choices()
        self._render_info()
        self.set_timer(PREPARE_AFTER_S, self._prepare_next)

    def _prepare_next(self) -> None:
        """Pick and verify the clip after this one while this one plays."""
        if self.session is None or self.upcoming is not None:
            return
        skip = self._on_screen()
        self.upcoming = self.engine.next_ready(skip=skip)
        if self._interleaving():
            # ready too, so that a key after a disturbing clip still goes straight to loadfile
            calm = self._next_neutral(skip)
            self.upcoming_neutral = None if calm == self.upcoming else calm
        # one clip can wait preloaded: the calm one if this clip is known to be disturbing
        ahead = self.upcoming
        if self.upcoming_neutral is not None and self.session.clip.tone == "disturbing":
            ahead = self.upcoming_neutral
        if ahead is not None:
            self.player.preload(self.engine.cache.path(ahead[0].sha256))

    def _unplayable(self, clip: m.ClipRef, reason: str) -> None:
        """mpv cannot play this clip's file: say so, skip it (no label), go on to the next."""
        log.warning("clip %s cannot be played: %s", clip.sha256[:12], reason)
        self.engine.skip(clip)
        if self.session is not None and self.session.clip.sha256 == clip.sha256:
            self.session = None
        self.upcoming = self.upcoming_neutral = None
        self.show_next()
        self.feedback("video_error", "warning", name=clip.name or clip.sha256[:12])

    def poll(self) -> None:
        if self.session is None:
            if not self.on_break and self.app.screen is self:
                self.show_next()
            return
        failure = self.player.failure()
        if failure is not None:
            self._unplayable(self.session.clip, failure)
            return
        try:
            pos, length = self.player.position(), self.player.duration()
        except Exception:
            return
        self.session.observe(pos, self.now(), length)
        self._render_info()

    def finish_clip(self) -> None:
        """After a label or a skip: a due break, the budget, or straight on to the next clip."""
        shift = self.app.shift
        now = self.now()
        if shift is not None and shift.exposure.reached():
            self._clear_clip()
            self.app.end_shift("budget")
            return
        if shift is not None and shift.break_due(now):
            self._clear_clip()
            self.start_break("enforced")
            return
        self.show_next()
        self.query_one(StatusLine).refresh_status()
        if shift is not None and shift.exposure.warn() and not self._warned:
            self._warned = True
            self.feedback(
                "exposure_warning", "warning", minutes=round(shift.exposure.remaining_min())
            )

    def _clear_clip(self) -> None:
        """No clip on screen (no work, a break, the end of viewing for today)."""
        self.session = None
        self.player.stop()
        video = self.query_one("#video")
        if isinstance(video, VideoView):
            video.clear()
        self._render_clip()
        self._render_choices()
        self._render_info()

    def submit(self, values: list[str], segments: list[m.Segment]) -> None:
        session = self.session
        assert session is not None
        now = self.now()
        self.poll()
        telemetry = session.telemetry(now, self.greyscale, self.blurred)
        self.engine.submit(
            session.clip,
            session.lease,
            values,
            segments=segments,
            telemetry=telemetry,
            review=session.clip.suggestion is not None,  # made with the model's label shown
        )
        self.last_disturbing = self._was_disturbing(session.clip, values)
        correct = None if session.clip.answer is None else values == [session.clip.answer]
        shift = self.app.shift
        if shift is not None:
            shift.labelled(session.shown_s(now), correct)
        self.feedback("labelled")
        self.finish_clip()

    # ---- keys --------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        key = event.key
        session = self.session
        if session is not None:
            session.key_pressed(self.now())
        label = self._label_for(event)
        if label is not None:
            event.stop()
            if session is not None:
                self.choose(label.value)
            return
        action = CONTROL_KEYS.get(key)
        if action is not None:
            event.stop()
            getattr(self, f"action_{action}")()

    def _label_for(self, event: events.Key) -> m.LabelDef | None:
        if self.schema is None:
            return None
        for label in self.schema.labels:
            if event.key in (label.key, f"kp_{label.key}") or event.character == label.key:
                return label
        return None

    def _watch_ok(self) -> bool:
        session = self.session
        fraction = self.schema.watch_fraction if self.schema else 0.0
        if session is None or session.watched_enough(fraction):
            return True
        session.refused += 1
        seconds = math.ceil(session.still_to_watch_s(fraction))
        self.feedback("watch_first", "warning", seconds=max(1, seconds))
        return False

    def choose(self, value: str) -> None:
        session = self.session
        assert session is not None
        if self.kind == "single":
            if self._watch_ok():
                self.submit([value], [])
            return
        if session.pending_segment() is not None:
            segment = session.assign_segment(value)
            assert segment is not None
            if self.kind == "multi" and value not in session.selected:
                session.toggle(value)
            self.feedback("segment_added", start=segment.start, end=segment.end)
        elif self.kind == "segments":
            self.feedback("mark_first", "warning")
        else:
            session.toggle(value)
            self.feedback("")
        self._render_choices()

    def action_confirm(self) -> None:
        session = self.session
        if session is None or self.kind == "single":
            return
        if session.mark_a is not None:
            self.feedback("segment_unfinished", "warning")
            return
        order = [lab.value for lab in self.schema.labels] if self.schema else []
        values = session.values(order)
        if self.kind == "multi" and not values:
            self.feedback("choose_one", "warning")
            return
        if self._watch_ok():
            self.submit(values, list(session.segments))

    def action_mark_a(self) -> None:
        if self.session is None or self.kind == "single":
            return
        pos = round(self.player.position(), 3)
        self.session.mark_start(pos)
        self.feedback("")
        self._render_choices()

    def action_mark_b(self) -> None:
        if self.session is None or self.kind == "single":
            return
        if not self.session.mark_end(round(self.player.position(), 3)):
            self.feedback("mark_a_first", "warning")
            return
        self.feedback("")
        self._render_choices()

    def action_drop_segment(self) -> None:
        if self.session is not None and self.session.drop_last_segment():
            self._render_choices()

    def action_clear(self) -> None:
        session = self.session
        if session is not None:
            session.mark_a = session.mark_b = None
            session.selected.clear()
            self._render_choices()

    def action_replay(self) -> None:
        if self.session is not None:
            self.player.replay()
            self.session.replayed(self.now())

    def action_pause(self) -> None:
        if self.session is not None:
            self.player.toggle_pause()
            self.session.pauses += 1
            self._render_info()

    def action_back(self) -> None:
        self._seek(-SEEK_S)

    def action_forward(self) -> None:
        self._seek(SEEK_S)

    def _seek(self, seconds: float) -> None:
        if self.session is not None:
            self.player.seek(seconds)
            self.session.seeked(self.now())

    def action_slower(self) -> None:
        self._speed(-1)

    def action_faster(self) -> None:
        self._speed(1)

    def _speed(self, step: int) -> None:
        self.speed_index = max(0, min(len(SPEEDS) - 1, self.speed_index + step))
        speed = SPEEDS[self.speed_index]
        self.player.set_speed(speed)
        if self.session is not None:
            self.session.set_speed(speed)
        self._render_info()

    def action_frame(self) -> None:
        if self.session is not None:
            self.player.frame_step()
            self.session.stepped()

    def action_frame_back(self) -> None:
        if self.session is not None:
            self.player.frame_back_step()
            self.session.stepped()
            self.session.seeked(self.now())
            self.session.seeks -= 1  # a step back is not a seek; it just breaks steady viewing

    def action_skip(self) -> None:
        session = self.session
        if session is None:
            return
        self.engine.skip(session.clip)
        self.last_disturbing = self._was_disturbing(session.clip, [])
        shift = self.app.shift
        if shift is not None:
            shift.skipped_clip(session.shown_s(self.now()))
        self.feedback("skipped")
        self.finish_clip()

    def action_undo(self) -> None:
        label = self.engine.undo()
        if label is None:
            self.feedback("nothing_to_undo", "warning")
            return
        shift = self.app.shift
        if shift is not None:
            shift.undid()
        self.query_one(StatusLine).refresh_status()
        self.upcoming = self.upcoming_neutral = None
        again = next((p for p in self.engine.pending() if p[0].sha256 == label.clip), None)
        self.feedback("undone")
        if again is not None and self.engine.cache.has(label.clip):
            self.start_clip(*again)
        else:
            self.session = None
            self.show_next()

    def action_greyscale(self) -> None:
        self.greyscale = not self.greyscale
        self.player.set_filters(self.greyscale, self.blurred)
        self._render_info()

    def action_blur(self) -> None:
        self.blurred = not self.blurred
        self.player.set_filters(self.greyscale, self.blurred)
        self._render_info()

    def action_affected(self) -> None:
        """'This affected me': pause, tell staff (queued like a label), offer a break."""
        if self.session is None:
            return
        self.player.pause(True)
        self.engine.alert(self.session.clip)
        self._affected = self.session.clip.sha256
        shift = self.app.shift
        if shift is not None:
            shift.alerts += 1
        self.start_break("offered")

    def action_take_break(self) -> None:
        self.player.pause(True)
        self.start_break("voluntary")

    def action_language(self) -> None:
        self.app.action_language()

    def action_end_shift(self) -> None:
        self.player.pause(True)
        self._away()
        self.app.end_shift()

    # ---- wellbeing ---------------------------------------------------------------------

    def wellbeing_tick(self) -> None:
        """An enforced break waits for the clip's end, but not past the grace period."""
        shift = self.app.shift
        if shift is None or self.on_break or self.app.screen is not self:
            return
        now = self.now()
        if self.session is None and shift.break_due(now):
            self.start_break("enforced")
        elif shift.break_overdue(now):
            self.player.pause(True)
            self.start_break("enforced")

    def start_break(self, kind: str) -> None:
        shift = self.app.shift
        schema = self.schema
        length_s = (schema.break_min if schema else 10.0) * 60.0
        self.on_break = True
        self._break_kind = kind
        self._away()
        if shift is not None:
            shift.pause(self.now())
        self.app.push_screen(BreakScreen(kind, length_s), self._break_over)

    def _away(self) -> None:
        if self._away_since is None:
            self._away_since = self.now()

    def _back(self) -> None:
        """Time away from the clip (a break, the summary) is not time spent watching it."""
        if self._away_since is not None:
            if self.session is not None:
                self.session.was_away(self.now() - self._away_since)
            self._away_since = None

    def on_screen_resume(self) -> None:
        self.player.set_hidden(False)
        self._back()
        self.query_one(StatusLine).refresh_status()

    def on_screen_suspend(self) -> None:
        """A break or the summary on top: the video window goes (it would cover them)."""
        self.player.set_hidden(True)

    def on_unmount(self) -> None:
        self.player.set_hidden(False)
        self.player.set_overlay("")

    def _break_over(self, result: tuple[str, float] | None) -> None:
        self.on_break = False
        self._back()
        kind, seconds = result or ("", 0.0)
        shift = self.app.shift
        if shift is not None and seconds > 0:
            shift.record_break(kind, seconds)
        if seconds > 0:  # staff see it on the dashboard and the statement
            self.engine.break_taken(time.time() - seconds, seconds, self._break_kind or kind)
        if kind == "end":
            self._away()
            self.app.end_shift()
            return
        if shift is not None:
            shift.resume(self.now())
        self.query_one(StatusLine).refresh_status()
        if self.session is None:
            self.feedback("")
            self.show_next()
        elif kind in ("offered", "offered_declined"):
            self.feedback("paused_after_alert")
        else:
            self.player.pause(False)
            self.feedback("")
