"""The status line: operator, online/offline/syncing, outbox, clips done, time to next break."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from textual.widgets import Static

if TYPE_CHECKING:
    from textual import getters

    from ..app import KioskApp


def clock_text(seconds: float) -> str:
    """Seconds as m:ss (or h:mm:ss from an hour)."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class StatusLine(Static):
    if TYPE_CHECKING:  # `self.app` is the kiosk's app (engine, translator, clock, shift)
        app = getters.app(KioskApp)

    def on_mount(self) -> None:
        self.refresh_status()
        self.set_interval(1.0, self.refresh_status)

    def refresh_status(self) -> None:
        app = self.app
        engine = app.engine
        t = app.t
        status = engine.status
        parts = [f"● {t('status_' + status)}", f"{t('outbox')}: {engine.store.outbox_count()}"]
        if engine.operator:
            parts.insert(0, f"{t('operator')}: {engine.operator_name or engine.operator}")
            parts.append(f"{t('done')}: {app.done_this_shift}")
            shift = app.shift
            if shift is not None and shift.working:
                left = shift.time_to_break(app.clock())
                if left != float("inf"):
                    parts.append(f"{t('next_break')}: {clock_text(left)}")
        note = app.video_note(short=True)
        if note:  # next to the connection: the line is cut at the terminal's width
            parts.insert(parts.index(f"● {t('status_' + status)}") + 1, escape(note))
        self.update("  │  ".join(parts))
        self.set_class(status == "offline", "-offline")
        self.set_class(status == "syncing", "-syncing")
