"""The kiosk's Textual app: wires the engine, the hub link and the player to the screens."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.app import App
from textual.binding import Binding

from .engine import KioskEngine
from .i18n import Translator
from .link import HubLink
from .messages import EngineEvent
from .player import Player
from .screens.label import LabelScreen
from .screens.login import LoginScreen


class KioskApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "Annotatiestraat"
    BINDINGS = [
        Binding("ctrl+c", "quit", "quit", priority=True, show=False),
        Binding("ctrl+q", "quit", "quit", priority=True, show=False),
    ]

    def __init__(
        self,
        engine: KioskEngine,
        player: Player,
        link: HubLink | None = None,
        language: str = "nl",
        hint: str = "",
    ) -> None:
        super().__init__()
        self.hint = hint
        self.engine = engine
        self.player = player
        self.link = link
        self.t = Translator(language)
        self.done_this_shift = 0
        self._link_task: asyncio.Task[None] | None = None

    def on_mount(self) -> None:
        self.engine.listeners.append(self._engine_event)
        if self.link is not None:
            self.engine.attach(self.link)
            self._link_task = asyncio.create_task(self.link.run())
        self.set_interval(1.0, self.engine.tick)
        self.push_screen(LoginScreen())

    def _engine_event(self, event: str, data: dict[str, Any]) -> None:
        self.post_message(EngineEvent(event, data))

    def on_engine_event(self, message: EngineEvent) -> None:
        screen = self.screen
        if message.event == "ready" and isinstance(screen, LabelScreen) and screen.current is None:
            screen.show_next()

    def start_labelling(self) -> None:
        self.switch_screen(LabelScreen())

    def logout(self) -> None:
        self.engine.logout()
        self.switch_screen(LoginScreen())

    async def on_unmount(self) -> None:
        if self._link_task is not None:
            self._link_task.cancel()
        try:
            self.player.close()
        except Exception:
            pass
