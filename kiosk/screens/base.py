"""The base of the kiosk's screens."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from textual.screen import Screen

if TYPE_CHECKING:
    from textual import getters

    from ..app import KioskApp

ResultT = TypeVar("ResultT")


class KioskScreen(Screen[ResultT]):
    """A screen of `KioskApp`, with `self.app` typed as that app."""

    if TYPE_CHECKING:
        app = getters.app(KioskApp)

    def refresh_texts(self) -> None:
        """The language changed (F2): show every text in the new one."""

    def look_changed(self) -> None:
        """Large text or high contrast changed (F3, F4): lay out again where sizes matter."""
