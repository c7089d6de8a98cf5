"""PIN login: operator id + PIN. Works at any kiosk, online or (from the cached roster) offline."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import Button, Input, Label, Static

from ..widgets.status import StatusLine
from .base import KioskScreen


class LoginScreen(KioskScreen[None]):
    #: the translation key of the line under the login button ("" for none)
    _message_key = ""

    def compose(self) -> ComposeResult:
        app = self.app
        t = app.t
        yield StatusLine(id="status")
        with Center():
            with Vertical(id="login-box"):
                yield Static(t("app_title"), id="title")
                yield Static(t("login_title"), id="login-title")
                yield Label(t("operator_id"), id="operator-label")
                yield Input(id="operator", max_length=32)
                yield Label(t("pin"), id="pin-label")
                yield Input(id="pin", password=True, max_length=8)
                yield Button(t("login_button"), id="login", variant="primary")
                yield Static("", id="login-message")
                if app.hint:
                    yield Static(app.hint, id="hint")
        yield Static(t("keys_login"), id="help")

    def on_mount(self) -> None:
        self.query_one("#operator", Input).focus()
        if self.app.engine.hub_error:
            self.show_unpaired()

    def refresh_texts(self) -> None:
        t = self.app.t
        for widget_id, key in [
            ("title", "app_title"),
            ("login-title", "login_title"),
            ("operator-label", "operator_id"),
            ("pin-label", "pin"),
            ("help", "keys_login"),
        ]:
            self.query_one(f"#{widget_id}", Static).update(t(key))
        self.query_one("#login", Button).label = t("login_button")
        key = self._message_key
        self.query_one("#login-message", Static).update(t(key) if key else "")

    def _message(self, key: str) -> None:
        self._message_key = key  # shown again in the other language by refresh_texts
        self.query_one("#login-message", Static).update(self.app.t(key) if key else "")

    def show_unpaired(self) -> None:
        self._message("unpaired")

    @on(Input.Submitted, "#operator")
    def _to_pin(self) -> None:
        self.query_one("#pin", Input).focus()

    @on(Input.Submitted, "#pin")
    @on(Button.Pressed, "#login")
    def _submit(self) -> None:
        operator = self.query_one("#operator", Input).value.strip()
        pin = self.query_one("#pin", Input).value.strip()
        if not operator:
            self.query_one("#operator", Input).focus()
            return
        if not pin:
            self.query_one("#pin", Input).focus()
            return
        self._message("login_busy")
        self._login(operator, pin)

    @work(exclusive=True)
    async def _login(self, operator: str, pin: str) -> None:
        app = self.app
        ok, reason = await app.engine.login(operator, pin)
        if ok:
            self.query_one("#pin", Input).value = ""
            app.start_labelling()
            return
        key = {"locked": "login_locked", "no_hub": "login_no_hub"}.get(reason, "login_bad_pin")
        self._message(key)
        pin_input = self.query_one("#pin", Input)
        pin_input.value = ""
        pin_input.focus()
