"""Kiosk screen tests: a real KioskEngine on a temporary KioskStore (no hub link), the
NullPlayer, and a clock the test moves by hand."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kiosk.app import KioskApp
from kiosk.cache import ClipCache
from kiosk.engine import KioskEngine
from kiosk.player import NullPlayer
from kiosk.store import KioskStore
from protocol import messages as m
from protocol.pins import hash_pin

OPERATOR = "op1"
PIN = "2468"

GEWELD = [
    m.LabelDef(value="gewelddadig", nl="gewelddadig", en="violent", key="1"),
    m.LabelDef(value="niet_gewelddadig", nl="niet gewelddadig", en="not violent", key="2"),
]
TYPES = [
    m.LabelDef(value="fighting", nl="vechtpartij", en="fighting", key="1"),
    m.LabelDef(value="riot", nl="rellen", en="riot", key="2"),
    m.LabelDef(value="shooting", nl="schietpartij", en="shooting", key="3"),
    m.LabelDef(value="none", nl="geen geweld", en="no violence", key="0"),
]


_opened: list[KioskStore] = []


def open_kiosk_store(path: Path) -> KioskStore:
    """`KioskStore(path)`, closed by `_close_kiosk_stores` when the running test ends."""
    store = KioskStore(path)
    _opened.append(store)
    return store


@pytest.fixture(autouse=True)
def _close_kiosk_stores() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().close()


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Kiosk:
    app: KioskApp
    engine: KioskEngine
    store: KioskStore
    player: NullPlayer
    clock: FakeClock
    clips: list[m.ClipRef] = field(default_factory=list)


def schema(kind: str = "single", **kw: object) -> m.ProjectSchema:
    labels = GEWELD if kind == "single" else TYPES
    return m.ProjectSchema(name=f"test-{kind}", version=1, kind=kind, labels=labels, **kw)  # type: ignore[arg-type]


def make_kiosk(
    tmp_path: Path,
    project: m.ProjectSchema,
    clips: int = 5,
    *,
    language: str = "nl",
    frames: bool = False,
    large_text: bool = False,
    high_contrast: bool = False,
    exposure_before_min: float = 0.0,
    answers: dict[int, str] | None = None,
    suggestions: dict[int, str] | None = None,
    tones: dict[int, str] | None = None,
) -> Kiosk:
    store = KioskStore(tmp_path / "kiosk.db")
    cache = ClipCache(tmp_path / "clips", store)
    roster = [m.RosterEntry(operator=OPERATOR, name="Sam", pin_hash=hash_pin(PIN))]
    store.save_welcome(m.Welcome(hub_id="hub-test", project=project, roster=roster))
    refs = []
    for i in range(clips):
        data = f"clip {i} ".encode() * 50
        sha = hashlib.sha256(data).hexdigest()
        cache.path(sha).write_bytes(data)
        store.cache_touch(sha, len(data), complete=True)
        answer = (answers or {}).get(i)
        refs.append(
            m.ClipRef(
                clip_id=sha,
                sha256=sha,
                size=len(data),
                name=f"clip-{i + 1:02d}",
                duration=4.0,
                gold=answer is not None,
                answer=answer,
                suggestion=(suggestions or {}).get(i),
                tone=(tones or {}).get(i, ""),
            )
        )
    store.add_assignment(
        m.Assign(operator=OPERATOR, lease_id="lease-1", expires_at=time.time() + 3600, clips=refs)
    )
    engine = KioskEngine("kiosk-test", store, cache)

    async def login_with_exposure(operator: str, pin: str, _orig=engine.login) -> tuple[bool, str]:
        result = await _orig(operator, pin)
        engine.exposure_at_login_min = exposure_before_min
        return result

    engine.login = login_with_exposure  # type: ignore[method-assign]
    player = NullPlayer(frames=frames)
    clock = FakeClock()
    app = KioskApp(
        engine,
        player,
        language=language,
        large_text=large_text,
        high_contrast=high_contrast,
        clock=clock,
    )
    return Kiosk(app, engine, store, player, clock, refs)


async def login(pilot, operator: str = OPERATOR, pin: str = PIN) -> None:  # noqa: ANN001
    from kiosk.screens.label import LabelScreen

    await pilot.click("#operator")
    await pilot.press(*operator, "enter", *pin, "enter")
    for _ in range(200):
        if isinstance(pilot.app.screen, LabelScreen):
            break
        await pilot.pause(0.01)
    await pilot.pause()


@pytest.fixture
def kiosk_factory(tmp_path: Path) -> Callable[..., Kiosk]:
    made: list[Kiosk] = []

    def factory(project: m.ProjectSchema | None = None, **kw: object) -> Kiosk:
        sub = tmp_path / f"k{len(made)}"
        sub.mkdir()
        kiosk = make_kiosk(sub, project or schema(), **kw)  # type: ignore[arg-type]
        made.append(kiosk)
        return kiosk

    yield factory
    for kiosk in made:
        kiosk.store.close()
