"""Labelling: the clip plays, one key per label, the next clip follows at once."""

from __future__ import annotations

import time
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from protocol import messages as m

from ..widgets.status import StatusLine

SPEEDS = [0.5, 0.75, 1.0, 1.25, 1.5, 2.0]


class LabelScreen(Screen):
    def __init__(self) -> None:
        super().__init__()
        self.current: tuple[m.ClipRef, str] | None = None
        self.telemetry: dict[str, Any] = {}
        self.speed_index = SPEEDS.index(1.0)
        self.greyscale = False
        self.blur = False

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Vertical(id="label-box"):
            yield Static("", id="clip-name")
            yield Static("", id="video")
            yield Static("", id="keys")
            yield Static("", id="feedback")
            yield Static("", id="help")

    def on_mount(self) -> None:
        schema = self.app.engine.schema  # type: ignore[attr-defined]
        if schema:
            self.greyscale, self.blur = schema.greyscale, schema.blur
        self.render_texts()
        self.show_next()
        self.set_interval(0.5, self._poll)

    # ---- drawing -----------------------------------------------------------------------

    def render_texts(self) -> None:
        t = self.app.t  # type: ignore[attr-defined]
        schema = self.app.engine.schema  # type: ignore[attr-defined]
        lines = [f"[b]{t('keys_labels')}[/b]"]
        if schema:
            for label in schema.labels:
                lines.append(f"  [reverse] {label.key} [/reverse]  {t.label(label.nl, label.en)}")
        self.query_one("#keys", Static).update("\n".join(lines))
        self.query_one("#help", Static).update(t("keys_help"))
        player = self.app.player  # type: ignore[attr-defined]
        if getattr(player, "vo", "") == "null":
            self.query_one("#video", Static).update(t("video_null"))
        self._render_clip()

    def _render_clip(self) -> None:
        t = self.app.t  # type: ignore[attr-defined]
        if self.current is None:
            text = t("waiting_for_work")
        else:
            clip = self.current[0]
            text = f"{t('clip')}: [b]{clip.name or clip.sha256[:12]}[/b]"
        self.query_one("#clip-name", Static).update(text)

    def feedback(self, key: str) -> None:
        self.query_one("#feedback", Static).update(self.app.t(key))  # type: ignore[attr-defined]

    # ---- flow --------------------------------------------------------------------------

    def _poll(self) -> None:
        if self.current is None:
            self.show_next()
        else:
            self._track_position()

    def show_next(self) -> None:
        engine = self.app.engine  # type: ignore[attr-defined]
        nxt = engine.next_ready()
        self.current = nxt
        if nxt is not None:
            clip, _lease = nxt
            player = self.app.player  # type: ignore[attr-defined]
            player.set_filters(self.greyscale, self.blur)
            player.play(engine.cache.path(clip.sha256))
            self.telemetry = {
                "shown_at": time.time(),
                "first_key_s": None,
                "replays": 0,
                "seeks": 0,
                "speed": SPEEDS[self.speed_index],
                "max_position": 0.0,
            }
        self._render_clip()

    def _track_position(self) -> None:
        try:
            pos = self.app.player.position()  # type: ignore[attr-defined]
        except Exception:
            return
        self.telemetry["max_position"] = max(self.telemetry.get("max_position", 0.0), pos)

    def _final_telemetry(self) -> dict[str, Any]:
        self._track_position()
        tel = dict(self.telemetry)
        shown = tel.pop("shown_at", time.time())
        tel["time_to_label_s"] = round(time.time() - shown, 3)
        duration = self.current[0].duration if self.current else 0.0
        tel["watched_fraction"] = (
            round(min(1.0, tel.pop("max_position", 0.0) / duration), 3) if duration else None
        )
        tel["greyscale"], tel["blur"] = self.greyscale, self.blur
        return tel

    def on_key(self, event: events.Key) -> None:
        if self.current is not None and self.telemetry.get("first_key_s") is None:
            self.telemetry["first_key_s"] = round(time.time() - self.telemetry["shown_at"], 3)
        schema = self.app.engine.schema  # type: ignore[attr-defined]
        key = event.key
        if schema and self.current is not None:
            for label in schema.labels:
                if key == label.key or key == f"kp_{label.key}":
                    event.stop()
                    self.choose(label.value)
                    return
        handler = {
            "r": self.action_replay,
            "space": self.action_pause,
            "left": lambda: self.action_seek(-2),
            "right": lambda: self.action_seek(2),
            "left_square_bracket": lambda: self.action_speed(-1),
            "right_square_bracket": lambda: self.action_speed(1),
            "full_stop": self.action_frame,
            "s": self.action_skip,
            "backspace": self.action_undo,
            "g": self.action_greyscale,
            "b": self.action_blur,
            "x": self.action_affected,
            "l": self.action_language,
            "q": self.action_logout,
        }.get(key)
        if handler is not None:
            event.stop()
            handler()

    def choose(self, value: str) -> None:
        assert self.current is not None
        clip, lease = self.current
        engine = self.app.engine  # type: ignore[attr-defined]
        engine.submit(clip, lease, [value], telemetry=self._final_telemetry())
        self.app.done_this_shift += 1  # type: ignore[attr-defined]
        self.feedback("labelled")
        self.show_next()

    # ---- actions -----------------------------------------------------------------------

    def action_replay(self) -> None:
        self.app.player.replay()  # type: ignore[attr-defined]
        self.telemetry["replays"] = self.telemetry.get("replays", 0) + 1

    def action_pause(self) -> None:
        self.app.player.toggle_pause()  # type: ignore[attr-defined]

    def action_seek(self, seconds: float) -> None:
        self.app.player.seek(seconds)  # type: ignore[attr-defined]
        self.telemetry["seeks"] = self.telemetry.get("seeks", 0) + 1

    def action_speed(self, step: int) -> None:
        self.speed_index = max(0, min(len(SPEEDS) - 1, self.speed_index + step))
        self.app.player.set_speed(SPEEDS[self.speed_index])  # type: ignore[attr-defined]
        self.telemetry["speed"] = SPEEDS[self.speed_index]

    def action_frame(self) -> None:
        self.app.player.frame_step()  # type: ignore[attr-defined]

    def action_skip(self) -> None:
        if self.current is not None:
            self.app.engine.skip(self.current[0])  # type: ignore[attr-defined]
            self.feedback("skipped")
            self.show_next()

    def action_undo(self) -> None:
        engine = self.app.engine  # type: ignore[attr-defined]
        label = engine.undo()
        if label is None:
            self.feedback("nothing_to_undo")
            return
        self.app.done_this_shift -= 1  # type: ignore[attr-defined]
        self.feedback("undone")
        self.show_next()

    def action_greyscale(self) -> None:
        self.greyscale = not self.greyscale
        self.app.player.set_filters(self.greyscale, self.blur)  # type: ignore[attr-defined]

    def action_blur(self) -> None:
        self.blur = not self.blur
        self.app.player.set_filters(self.greyscale, self.blur)  # type: ignore[attr-defined]

    def action_affected(self) -> None:
        if self.current is not None:
            self.app.engine.alert(self.current[0])  # type: ignore[attr-defined]
            self.app.player.toggle_pause()  # type: ignore[attr-defined]
            self.feedback("alert_sent")

    def action_language(self) -> None:
        self.app.t.toggle()  # type: ignore[attr-defined]
        self.render_texts()

    def action_logout(self) -> None:
        self.app.logout()  # type: ignore[attr-defined]
