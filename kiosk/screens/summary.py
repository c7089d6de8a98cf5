"""End of shift: clips done, time worked, breaks (and own gold accuracy when there is some)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.widgets import Static

from ..widgets.status import StatusLine, clock_text
from .base import KioskScreen


class SummaryScreen(KioskScreen[None]):
    BINDINGS = [
        Binding("enter", "logout", show=False),
        Binding("escape", "back", show=False),
        Binding("l", "language", show=False),
    ]

    def __init__(self, reason: str = "") -> None:
        super().__init__()
        self.reason = reason  # "" (operator ended the shift) or "budget"

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Center():
            with Vertical(id="summary-box"):
                yield Static("", id="summary-title")
                yield Static("", id="summary-reason")
                yield Static("", id="summary-figures")
                yield Static("", id="summary-hint")

    def on_mount(self) -> None:
        self.refresh_texts()

    def look_changed(self) -> None:
        self.refresh_texts()

    def figures(self) -> list[tuple[str, str]]:
        """(label key, value) rows shown on the screen."""
        app = self.app
        shift = app.shift
        if shift is None:
            return []
        now = app.clock()
        t = app.t
        rows = [
            ("sum_clips", str(shift.clips_done)),
            ("sum_skipped", str(shift.skipped)),
            ("sum_worked", clock_text(shift.worked_s(now))),
            (
                "sum_breaks",
                t(
                    "sum_breaks_value",
                    count=len(shift.breaks),
                    time=clock_text(shift.break_seconds()),
                ),
            ),
            (
                "sum_exposure",
                t(
                    "sum_exposure_value",
                    used=round(shift.exposure.used_min()),
                    budget=round(shift.exposure.budget_min),
                ),
            ),
        ]
        accuracy = shift.gold_accuracy()
        if accuracy is not None:
            rows.append(("sum_gold", f"{round(accuracy * 100)} % ({shift.gold_seen})"))
        return rows

    def refresh_texts(self) -> None:
        t = self.app.t
        name = self.app.engine.operator_name or self.app.engine.operator or ""
        self.query_one("#summary-title", Static).update(t("summary_title", name=name))
        reason = self.query_one("#summary-reason", Static)
        reason.update(t("summary_budget") if self.reason == "budget" else "")
        reason.display = self.reason == "budget"
        rows = self.figures()
        width = max((len(t(key)) for key, _ in rows), default=0)
        lines = [f"{t(key) + ':':<{width + 2}} [b]{value}[/b]" for key, value in rows]
        self.query_one("#summary-figures", Static).update("\n".join(lines))
        hint = "summary_hint_budget" if self.reason == "budget" else "summary_hint"
        self.query_one("#summary-hint", Static).update(t(hint))

    def action_logout(self) -> None:
        self.app.logout()

    def action_back(self) -> None:
        if self.reason == "budget":
            return  # the day's viewing is over
        shift = self.app.shift
        if shift is not None:
            shift.resume(self.app.clock())
        self.app.pop_screen()

    def action_language(self) -> None:
        self.app.action_language()
