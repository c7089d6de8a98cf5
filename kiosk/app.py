"""The kiosk's Textual app: wires the engine, the hub link and the player to the screens."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.theme import Theme

from .display import OutputChoice, textual_key
from .engine import KioskEngine
from .engine_events import EngineEvent
from .i18n import Translator
from .link import HubLink
from .messages import (
    ClipReady,
    HubProblem,
    Paired,
    QueueGrew,
    TrainingFeedback,
    WindowKey,
    engine_message,
)
from .player import Player
from .screens.base import KioskScreen
from .screens.label import LabelScreen
from .screens.login import LoginScreen
from .screens.summary import SummaryScreen
from .stdin_guard import shield_stdin
from .wellbeing import Shift

HIGH_CONTRAST = Theme(
    name="kiosk-high-contrast",
    primary="#ffff00",
    secondary="#00ffff",
    accent="#ffff00",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#000000",
    success="#00ff00",
    warning="#ffff00",
    error="#ff4040",
    dark=True,
)
DEFAULT_THEME = "textual-dark"


class KioskApp(App[None]):
    CSS_PATH = ["app.tcss", "themes.tcss"]
    TITLE = "Annotatiestraat"
    BINDINGS = [
        Binding("ctrl+c", "quit", "quit", priority=True, show=False),
        Binding("ctrl+q", "quit", "quit", priority=True, show=False),
        Binding("f2", "language", "language", show=False),
        Binding("f3", "large_text", "large text", show=False),
        Binding("f4", "high_contrast", "high contrast", show=False),
    ]

    def __init__(
        self,
        engine: KioskEngine,
        player: Player,
        link: HubLink | None = None,
        language: str = "nl",
        hint: str = "",
        *,
        large_text: bool = False,
        high_contrast: bool = False,
        clock: Callable[[], float] = time.monotonic,
        video_choice: OutputChoice | None = None,
        window_layout: str = "side",
    ) -> None:
        super().__init__()
        self.video_choice = video_choice
        self.window_layout = window_layout
        self.hint = hint
        self.engine = engine
        self.player = player
        self.link = link
        self.t = Translator(language)
        self.clock = clock
        self.shift: Shift | None = None
        self.large_text = large_text
        self.high_contrast = high_contrast
        self.register_theme(HIGH_CONTRAST)

    def run(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - App.run's return
        """In a real terminal: first move stdin out of reach of libraries that close fd 0
        (`kiosk.stdin_guard`); tests' `run_test()` does not come here."""
        shield_stdin()
        return super().run(*args, **kwargs)

    @property
    def done_this_shift(self) -> int:
        return self.shift.clips_done if self.shift else 0

    def on_mount(self) -> None:
        self._apply_look()
        on_window_key = getattr(self.player, "on_window_key", None)
        if on_window_key is not None:
            on_window_key(lambda name: self.post_message(WindowKey(name)))
        self.engine.listeners.append(self._engine_event)
        if self.link is not None:
            self.engine.attach(self.link)
            # the link reports through the engine, whose events come back as messages; a
            # link that fails leaves the kiosk offline, labelling from its cache
            self.run_worker(self.link.run(), name="hub link", exit_on_error=False)
        self.set_interval(1.0, self.engine.tick)
        self.push_screen(LoginScreen())

    def _engine_event(self, event: EngineEvent) -> None:
        """The engine does not know Textual: its events become messages here."""
        self.post_message(engine_message(event))

    def on_window_key(self, message: WindowKey) -> None:
        """A key pressed in the video window acts as the same key pressed in the terminal."""
        key = textual_key(message.name)
        if key is not None:
            event = events.Key(*key)
            event.set_sender(self)
            self.post_message(event)

    def video_note(self, short: bool = False) -> str:
        """The video output fallen back to, and why ("" if none); `short` for the status
        line: the output's name only."""
        choice = self.video_choice
        if choice is None or not choice.fell_back:
            return ""
        if short:
            return self.t("video_fallback_short", output=choice.output.name)
        output = "video_output_window" if choice.output.windowed else "video_output_terminal"
        return self.t("video_fallback", output=self.t(output), reason=choice.reason())

    # ---- engine events ------------------------------------------------------------------

    def on_clip_ready(self, _message: ClipReady) -> None:
        self._work_arrived()

    def on_queue_grew(self, _message: QueueGrew) -> None:
        self._work_arrived()

    def _work_arrived(self) -> None:
        if isinstance(self.screen, LabelScreen):
            self.screen.work_arrived()

    def on_training_feedback(self, message: TrainingFeedback) -> None:
        if isinstance(self.screen, LabelScreen):
            self.screen.training_feedback(message.event.answer, message.event.correct)

    def on_hub_problem(self, message: HubProblem) -> None:
        problem = message.event
        if problem.code == "hub_key_mismatch":  # a hub that is not ours: never talked to
            self.notify(
                self.t("hub_key_mismatch", detail=problem.detail), severity="error", timeout=10
            )
        elif isinstance(self.screen, LoginScreen):
            self.screen.show_unpaired()

    def on_paired(self, message: Paired) -> None:
        self.notify(self.t("paired", fingerprint=message.event.fingerprint), timeout=30)

    # ---- shift -------------------------------------------------------------------------

    def start_labelling(self) -> None:
        schema = self.engine.schema
        self.shift = Shift.start(
            self.clock(),
            break_every_min=schema.break_every_min if schema else 50.0,
            break_min=schema.break_min if schema else 10.0,
            budget_min=schema.exposure_budget_min if schema else 120.0,
            exposure_before_min=self.engine.exposure_at_login_min,
        )
        self.switch_screen(LabelScreen())

    def end_shift(self, reason: str = "") -> None:
        """The summary screen on top of labelling (Esc goes back unless the budget is spent)."""
        if self.shift is not None:
            self.shift.pause(self.clock())
        self.push_screen(SummaryScreen(reason))

    def logout(self) -> None:
        try:
            self.player.stop()
        except Exception:
            pass
        self.engine.logout()
        self.shift = None
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(LoginScreen())

    # ---- language and looks ------------------------------------------------------------

    def action_language(self) -> None:
        self.t.toggle()
        for screen in self.screen_stack:
            if isinstance(screen, KioskScreen):
                screen.refresh_texts()

    def action_large_text(self) -> None:
        self.large_text = not self.large_text
        self._apply_look()

    def action_high_contrast(self) -> None:
        self.high_contrast = not self.high_contrast
        self._apply_look()

    def _apply_look(self) -> None:
        self.set_class(self.large_text, "-large-text")
        self.set_class(self.high_contrast, "-high-contrast")
        self.theme = HIGH_CONTRAST.name if self.high_contrast else DEFAULT_THEME
        for screen in self.screen_stack:
            if isinstance(screen, KioskScreen):
                screen.look_changed()

    async def on_unmount(self) -> None:
        self.workers.cancel_all()
        on_window_key = getattr(self.player, "on_window_key", None)
        if on_window_key is not None:
            on_window_key(None)
        try:
            self.player.close()
        except Exception:
            pass
