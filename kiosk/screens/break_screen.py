"""A break, with a countdown. (`break` is a Python keyword, hence the file name.)

kinds: `enforced` (every N minutes of work: runs to the end, then Enter), `voluntary` (P: Enter
ends it any time), `offered` (after 'this affected me': Enter starts the break, Esc goes back).
Dismissed with (kind, seconds the break lasted); kind `end` when the operator ends the shift.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.widgets import Digits, Static

from ..widgets.status import StatusLine, clock_text
from .base import KioskScreen

KINDS = ("enforced", "voluntary", "offered")


class BreakScreen(KioskScreen[tuple[str, float]]):
    BINDINGS = [
        Binding("enter", "continue", show=False),
        Binding("escape", "back", show=False),
        Binding("q", "end_shift", show=False),
        Binding("l", "language", show=False),
    ]

    def __init__(self, kind: str, length_s: float) -> None:
        if kind not in KINDS:
            raise ValueError(f"break kind must be one of {KINDS}, not {kind!r}")
        super().__init__()
        self.kind = kind
        self.length_s = length_s
        self.started_at: float | None = None

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Center():
            with Vertical(id="break-box"):
                yield Static("", id="break-title")
                yield Static("", id="break-message")
                yield Digits("", id="countdown")
                yield Static("", id="break-hint")

    def on_mount(self) -> None:
        if self.kind != "offered":
            self.start()
        self.refresh_texts()
        self.set_interval(0.25, self.tick)

    def now(self) -> float:
        return self.app.clock()

    @property
    def state(self) -> str:
        if self.started_at is None:
            return "asking"
        return "over" if self.remaining() <= 0 else "running"

    def start(self) -> None:
        self.started_at = self.now()

    def elapsed(self) -> float:
        return 0.0 if self.started_at is None else max(0.0, self.now() - self.started_at)

    def remaining(self) -> float:
        return max(0.0, self.length_s - self.elapsed())

    def tick(self) -> None:
        self.query_one("#countdown", Digits).update(clock_text(self.remaining()))
        self._render_hint()

    def refresh_texts(self) -> None:
        t = self.app.t
        minutes = max(1, round(self.length_s / 60))
        self.query_one("#break-title", Static).update(t(f"break_title_{self.kind}"))
        self.query_one("#break-message", Static).update(
            t(f"break_message_{self.kind}", minutes=minutes)
        )
        self.tick()

    def _render_hint(self) -> None:
        t = self.app.t
        state = self.state
        if state == "asking":
            key = "break_hint_offer"
        elif state == "over":
            key = "break_hint_over"
        elif self.kind == "enforced":
            key = "break_hint_enforced"
        else:
            key = "break_hint_voluntary"
        hint = self.query_one("#break-hint", Static)
        hint.update(t(key) + "\n" + t("break_hint_end"))
        self.query_one("#countdown", Digits).set_class(state == "over", "-over")

    def look_changed(self) -> None:
        self.refresh_texts()

    # ---- keys --------------------------------------------------------------------------

    def action_continue(self) -> None:
        state = self.state
        if state == "asking":
            self.start()
            self.tick()
        elif state == "over" or self.kind != "enforced":
            self.dismiss((self.kind, self.elapsed()))

    def action_back(self) -> None:
        if self.state == "asking":
            self.dismiss((self.kind, 0.0))
        elif self.kind != "enforced" or self.state == "over":
            self.dismiss((self.kind, self.elapsed()))

    def action_end_shift(self) -> None:
        self.dismiss(("end", self.elapsed()))

    def action_language(self) -> None:
        self.app.action_language()
