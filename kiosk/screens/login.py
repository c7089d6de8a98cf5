"""PIN login: operator id + PIN. Works at any kiosk, online or (from the cached roster) offline."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from ..widgets.status import StatusLine


class LoginScreen(Screen):
    def compose(self) -> ComposeResult:
        t = self.app.t  # type: ignore[attr-defined]
        yield StatusLine(id="status")
        with Vertical(id="login-box"):
            yield Static(t("app_title"), id="title")
            yield Label(t("operator_id"), id="operator-label")
            yield Input(id="operator", max_length=32)
            yield Label(t("pin"), id="pin-label")
            yield Input(id="pin", password=True, max_length=8)
            yield Button(t("login_button"), id="login", variant="primary")
            yield Static("", id="login-message")
            if self.app.hint:  # type: ignore[attr-defined]
                yield Static(self.app.hint, id="hint")  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        self.query_one("#operator", Input).focus()

    @on(Input.Submitted, "#operator")
    def _to_pin(self) -> None:
        self.query_one("#pin", Input).focus()

    @on(Input.Submitted, "#pin")
    @on(Button.Pressed, "#login")
    def _submit(self) -> None:
        operator = self.query_one("#operator", Input).value.strip()
        pin = self.query_one("#pin", Input).value.strip()
        if operator and pin:
            self.query_one("#login-message", Static).update(self.app.t("login_busy"))  # type: ignore[attr-defined]
            self._login(operator, pin)

    @work(exclusive=True)
    async def _login(self, operator: str, pin: str) -> None:
        app = self.app
        ok, reason = await app.engine.login(operator, pin)  # type: ignore[attr-defined]
        if ok:
            self.query_one("#pin", Input).value = ""
            app.start_labelling()  # type: ignore[attr-defined]
            return
        key = {"locked": "login_locked", "no_hub": "login_no_hub"}.get(reason, "login_bad_pin")
        self.query_one("#login-message", Static).update(app.t(key))  # type: ignore[attr-defined]
        pin_input = self.query_one("#pin", Input)
        pin_input.value = ""
        pin_input.focus()
