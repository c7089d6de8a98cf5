"""The status line: operator, online/offline/syncing, outbox, clips done."""

from __future__ import annotations

from textual.widgets import Static


class StatusLine(Static):
    def on_mount(self) -> None:
        self.refresh_status()
        self.set_interval(1.0, self.refresh_status)

    def refresh_status(self) -> None:
        app = self.app
        engine = app.engine  # type: ignore[attr-defined]
        t = app.t  # type: ignore[attr-defined]
        status = engine.status
        parts = [f"● {t('status_' + status)}", f"{t('outbox')}: {engine.store.outbox_count()}"]
        if engine.operator:
            parts.insert(0, f"{t('operator')}: {engine.operator_name or engine.operator}")
            parts.append(f"{t('done')}: {app.done_this_shift}")  # type: ignore[attr-defined]
        self.update("  │  ".join(parts))
        self.set_class(status == "offline", "-offline")
        self.set_class(status == "syncing", "-syncing")
