"""The label keys of the project: one row a label, selected ones highlighted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from protocol import messages as m

if TYPE_CHECKING:
    from textual import getters

    from ..app import KioskApp


class KeyPanel(Vertical):
    if TYPE_CHECKING:  # `self.app` is the kiosk's app (engine, translator, clock, shift)
        app = getters.app(KioskApp)

    DEFAULT_CSS = """
    KeyPanel {
        height: auto;
    }
    """

    def __init__(self, labels: list[m.LabelDef], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.labels = labels
        self.selected: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Static("", id="keys-title")
        for index in range(len(self.labels)):
            yield Static("", id=f"key-{index}", classes="key-row")

    def on_mount(self) -> None:
        self.refresh_texts()

    def refresh_texts(self) -> None:
        t = self.app.t
        self.query_one("#keys-title", Static).update(t("keys_labels"))
        for index, label in enumerate(self.labels):
            row = self.query_one(f"#key-{index}", Static)
            mark = "✔ " if label.value in self.selected else "  "
            row.update(f"{mark}[b]{_key_name(label.key)}[/b]  {t.label(label.nl, label.en)}")
            row.set_class(label.value in self.selected, "-selected")

    def set_selected(self, values: set[str]) -> None:
        if values != self.selected:
            self.selected = set(values)
            self.refresh_texts()


def _key_name(key: str) -> str:
    return key.upper() if len(key) == 1 else key
