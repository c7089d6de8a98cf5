"""Playback through python-mpv (libmpv). `NullPlayer` is the in-process fake for screen tests.

Where there is a display mpv opens its own window (`vo=gpu`). Where there is none (SSH, a bare
terminal, the demo) the kiosk draws the video inside the terminal and needs frames:

* `vo=libmpv` (the default without a display): mpv's software render API draws each frame,
  already scaled to the terminal's cell grid, into a buffer of ours (`SwRenderSource`). A
  render costs ≈ 0.1 ms and runs on our own thread, so it never holds up mpv's core (a
  clip switch is as fast as with `vo=null`). python-mpv 1.0.8 does not know the `sw_*`
  render parameters, so they are passed through ctypes here.
* `vo=null` (the tests): `screenshot-raw` with a scale filter (`ScreenshotSource`). Each grab
  waits for the next decoded frame inside mpv's core (≈ 40 ms at 25 frames/s) and
  competes with `loadfile` there, so it is the fallback, not the default.

Never wait: with `vo=libmpv` or `vo=null` the player keeps a second mpv instance (a "deck")
on which the label screen preloads the next clip, paused on its first frame, while the
current one plays. The key press then only swaps decks and unpauses (`play()` of the
preloaded path): key → playing ≈ 1 ms instead of `loadfile`'s ≈ 13 ms (benchmarks/
RESULTS-kiosk.md). Frames reach the terminal through one `FrameBoard`: only the deck on
screen publishes, and only once its current file has started, so no frame of the old clip
is drawn after the switch. With a window of its own (`vo=gpu`/`x11`, X11, the `side` layout)
the spare deck's window waits off the screen and `play()` moves it in (`kiosk.xwindows`);
elsewhere with a window (Wayland, `fullscreen`) there is one deck and `play()` is a `loadfile`.

With a window, `vo=gpu` always gets an explicit GL context (`kiosk.display`): mpv's automatic
choice ends in its DRM context where no GL works, and that closes the process's fd 0. mpv's
own key bindings are off; key presses in the window go to `on_window_key`'s callback.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from .display import (
    OFFSCREEN_X,
    environment,
    offscreen_geometry,
    output_chain,
    side_geometry,
    side_position,
    window_options,
)
from .render import Frame, fit

log = logging.getLogger(__name__)

#: the video window's title (tests and window managers find it by this)
WINDOW_TITLE = "Annotatiestraat video"

#: mpv render API parameter ids (libmpv/render.h) that python-mpv 1.0.8 does not know.
_RENDER_PARAM_BLOCK_FOR_TARGET_TIME = 12
_RENDER_PARAM_SW_SIZE = 17
_RENDER_PARAM_SW_FORMAT = 18
_RENDER_PARAM_SW_STRIDE = 19
_RENDER_PARAM_SW_POINTER = 20
_RENDER_UPDATE_FRAME = 1


#: A kiosk needs none of mpv's scripts (OSC, youtube-dl hook, stats, console) nor a user's
#: mpv config; without them mpv starts 6 fewer threads and takes ≈ 10 MB less memory.
#: One decoder thread: the clips are small proxies, and frame threads delay the first frame.
LEAN_OPTIONS: dict[str, Any] = {
    "config": False,
    "load_scripts": False,
    "ytdl": False,
    "load_stats_overlay": False,
    "load_osd_console": False,
    "load_auto_profiles": False,
    "vd_lavc_threads": 1,
}


#: glibc's `M_MMAP_THRESHOLD` (malloc.h) and its default, 128 KiB.
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024


#: glibc's `M_ARENA_MAX` (malloc.h), and how many arenas the kiosk's threads share
_M_ARENA_MAX = -8
MALLOC_ARENAS = 1


@functools.cache
def _libc_function(name: str) -> Any:  # noqa: ANN401 - a ctypes function, or None
    """`name` from the C library this process runs on; None where it has none (e.g. musl
    has neither `mallopt` nor `malloc_trim`)."""
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None


def _mallopt(param: int, value: int) -> bool:
    mallopt = _libc_function("mallopt")
    return mallopt is not None and bool(mallopt(param, value))


def fix_mmap_threshold(size: int = MMAP_THRESHOLD) -> bool:
    """Keep glibc's mmap threshold where it starts. By default glibc raises it each time a
    large block is freed (up to 32 MiB); after that mpv's packet and frame buffers come from
    the malloc arenas and stay resident once freed: ≈ 11 MB more RSS after a few clips.
    With a fixed threshold large blocks are mmap'd and given back on free. False where the
    C library has no `mallopt` (e.g. musl)."""
    return _mallopt(_M_MMAP_THRESHOLD, size)


def limit_malloc_arenas(count: int = MALLOC_ARENAS) -> bool:
    """Let threads share `count` malloc arenas. glibc gives each new thread its own arena (up
    to 8 per core); mpv runs ~5 threads an instance, and each arena keeps its own freed and
    fragmented pages: ≈ 2-3 MiB more RSS with two players (benchmarks/RESULTS-kiosk.md).
    Affects threads that have not allocated yet, so call it before any start."""
    return _mallopt(_M_ARENA_MAX, count)


def release_free_memory() -> bool:
    """Give the pages of freed heap memory back to the OS (glibc `malloc_trim`). With one
    arena a clip's decoder buffers, freed when its player stops, otherwise stay resident
    between allocations. Walks the heap under its lock: call it off the key path."""
    malloc_trim = _libc_function("malloc_trim")
    return malloc_trim is not None and bool(malloc_trim(0))


def tune_malloc() -> bool:
    """Both of the above; the kiosk's entry point calls it before any thread starts."""
    return fix_mmap_threshold() & limit_malloc_arenas()


class FrameSource(Protocol):
    """Frames for the in-terminal video, at a size the widget asks for."""

    def set_size(self, width: int, height: int) -> None: ...
    def wait(self, after: int, timeout: float) -> Frame | None: ...


class Player(Protocol):
    description: str

    def play(self, path: Path) -> None: ...
    def preload(self, path: Path | None) -> None: ...
    def failure(self) -> str | None: ...
    def stop(self) -> None: ...
    def replay(self) -> None: ...
    def pause(self, paused: bool = True) -> None: ...
    def toggle_pause(self) -> None: ...
    def is_paused(self) -> bool: ...
    def seek(self, seconds: float) -> None: ...
    def set_speed(self, speed: float) -> None: ...
    def frame_step(self) -> None: ...
    def frame_back_step(self) -> None: ...
    def position(self) -> float: ...
    def duration(self) -> float: ...
    def set_filters(self, greyscale: bool, blur: bool) -> None: ...
    def set_muted(self, muted: bool) -> None: ...
    def frame_source(self) -> FrameSource | None: ...
    def set_hidden(self, hidden: bool) -> None: ...
    def set_overlay(self, text: str, large: bool = False, high_contrast: bool = False) -> None: ...
    def close(self) -> None: ...


def has_display() -> bool:
    return environment(os.environ) != "none"


def default_vo() -> str:
    """`gpu` (own window) with a display; else `libmpv`, drawn in the terminal."""
    return output_chain(os.environ)[0].vo


def gpu_context() -> str:
    """The GL context for `vo=gpu` here: never mpv's automatic one (see the module's doc)."""
    return "wayland" if environment(os.environ) == "wayland" else "x11egl"


def filter_chain(greyscale: bool, blur: bool, scale: tuple[int, int] | None = None) -> str:
    """The mpv `vf` value for the wellbeing filters (and a scale for screenshot frames)."""
    parts = []
    if greyscale:
        parts.append("format=gray")
    if blur:
        parts.append("boxblur=10:1")
    if scale is not None:
        parts.append(f"scale={scale[0]}:{scale[1]}")
    return f"lavfi=[{','.join(parts)}]" if parts else ""


class PlaybackError(RuntimeError):
    """mpv could not play a clip's file (not a video, unreadable, gone)."""


class FrameBoard:
    """The newest frame for the terminal, from whichever render source is on screen.

    Every source renders what its mpv offers (mpv's video output must be served), but only
    the `owner` publishes here, and only frames of its current file (`live`, and rendered in
    its current `generation`). `switch()` hands the board to another source: the frame on the
    board is dropped for the new owner's newest frame of its current file (a preloaded clip's
    first frame), and `first_seq` says from which sequence number frames are the new owner's.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._seq = 0
        self._size = (64, 36)
        self._size_version = 1
        self._sources: list[SwRenderSource] = []
        self.owner: SwRenderSource | None = None
        self.first_seq = 1
        #: perf_counter of the switch and of the first frame the new owner published
        self.switched_at = 0.0
        self.first_frame_at = 0.0

    @property
    def renders(self) -> int:
        return sum(source.renders for source in self._sources)

    def attach(self, source: SwRenderSource) -> None:
        with self._cond:
            self._sources.append(source)
            if self.owner is None:
                self.owner = source

    def size(self) -> tuple[int, int, int]:
        """(width, height, a number that changes with every new size)"""
        with self._cond:
            return (*self._size, self._size_version)

    def set_size(self, width: int, height: int) -> None:
        width, height = max(2, width), max(2, height)
        with self._cond:
            changed = (width, height) != self._size
            if changed:
                self._size = (width, height)
                self._size_version += 1
            sources = list(self._sources)
        if changed:
            for source in sources:
                source.resize()

    def switch(self, source: SwRenderSource) -> None:
        with self._cond:
            self.owner = source
            self._frame = None
            self.first_seq = self._seq + 1
            self.switched_at = time.perf_counter()
            self.first_frame_at = 0.0
            last = source.last
            if last is not None and last[0] == source.generation and last[1:3] == self._size:
                self._publish(source, *last)

    def offer(
        self, source: SwRenderSource, generation: int, width: int, height: int, data: bytes
    ) -> bool:
        with self._cond:
            if source is not self.owner:
                return False
            return self._publish(source, generation, width, height, data)

    def _publish(
        self, source: SwRenderSource, generation: int, width: int, height: int, data: bytes
    ) -> bool:
        if not source.live or generation != source.generation:
            return False  # rendered before its mpv moved on to the current file
        self._seq += 1
        if not self.first_frame_at:
            self.first_frame_at = time.perf_counter()
        self._frame = Frame(width, height, width * 4, data, self._seq)
        self._cond.notify_all()
        return True

    def wait(self, after: int, timeout: float) -> Frame | None:
        with self._cond:
            if self._frame is None or self._frame.seq <= after:
                self._cond.wait(timeout)
            frame = self._frame
        return frame if frame is not None and frame.seq > after else None

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()


class SwRenderSource:
    """mpv's software renderer (`vo=libmpv`) drawing into our buffer on our own thread.

    The thread renders every frame mpv offers (even when nobody draws them: mpv's video
    output must be served) and puts it on the `FrameBoard` (its own unless one is given);
    `wait()` hands the newest to the widget. The player bumps `generation` when this
    source's mpv leaves a file, and holds `live` False while mpv may still show the old one
    (a `loadfile` over a playing file, until the new file's first frame): frames of an
    older generation, or made while not live, are never shown.
    """

    def __init__(self, player: Any, board: FrameBoard | None = None) -> None:
        import mpv

        self._mpv_mod = mpv
        self.board = board or FrameBoard()
        self.live = True
        self.generation = 0
        #: (generation, width, height, pixels) of the newest render
        self.last: tuple[int, int, int, bytes] | None = None
        self._ctx = mpv.MpvRenderContext(player, "sw")
        self._wake = threading.Event()
        self._ctx.update_cb = self._wake.set
        self._stop = False
        self.renders = 0
        self.board.attach(self)
        self._thread = threading.Thread(target=self._run, name="mpv-sw-render", daemon=True)
        self._thread.start()

    def set_size(self, width: int, height: int) -> None:
        self.board.set_size(width, height)
        self.resize()

    def resize(self) -> None:
        self._wake.set()

    def _params(self, width: int, height: int) -> tuple[Any, ctypes.Array[ctypes.c_char], Any]:
        size = (ctypes.c_int * 2)(width, height)
        fmt = ctypes.c_char_p(b"bgr0")
        stride = ctypes.c_size_t(width * 4)
        buf = ctypes.create_string_buffer(width * 4 * height)
        block = ctypes.c_int(0)
        values = [
            (_RENDER_PARAM_SW_SIZE, ctypes.cast(size, ctypes.c_void_p)),
            (_RENDER_PARAM_SW_FORMAT, ctypes.cast(fmt, ctypes.c_void_p)),
            (_RENDER_PARAM_SW_STRIDE, ctypes.cast(ctypes.pointer(stride), ctypes.c_void_p)),
            (_RENDER_PARAM_SW_POINTER, ctypes.cast(buf, ctypes.c_void_p)),
            (
                _RENDER_PARAM_BLOCK_FOR_TARGET_TIME,
                ctypes.cast(ctypes.pointer(block), ctypes.c_void_p),
            ),
            (0, None),
        ]
        params = (self._mpv_mod.MpvRenderParam * len(values))()
        for i, (type_id, data) in enumerate(values):
            params[i].type_id = type_id
            params[i].data = data
        keep = (size, fmt, stride, block)  # the C side points into these
        return params, buf, keep

    def _run(self) -> None:
        render = self._mpv_mod._mpv_render_context_render
        params = buf = keep = None
        width = height = version = 0
        while not self._stop:
            self._wake.wait(0.25)
            self._wake.clear()
            if self._stop:
                break
            new_width, new_height, new_version = self.board.size()
            resized = new_version != version
            if resized:
                width, height, version = new_width, new_height, new_version
                params, buf, keep = self._params(width, height)
            try:
                fresh = bool(self._ctx.update() & _RENDER_UPDATE_FRAME)
                if not (fresh or resized):
                    continue
                generation = self.generation
                render(self._ctx.handle, params)
            except Exception:  # pragma: no cover - mpv shutting down
                log.debug("sw render failed", exc_info=True)
                continue
            self.renders += 1
            assert buf is not None
            self.last = (generation, width, height, buf.raw)
            self.board.offer(self, *self.last)
        del keep

    def wait(self, after: int, timeout: float) -> Frame | None:
        return self.board.wait(after, timeout)

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=2)
        self.board.wake()
        self._ctx.free()


class ScreenshotSource:
    """`screenshot-raw` of the filtered video (`vo=null`): the grab runs in the caller's thread."""

    def __init__(self, player: MpvPlayer) -> None:
        self._player = player
        self._last: bytes = b""
        self._seq = 0
        self._size = (0, 0)

    def set_size(self, width: int, height: int) -> None:
        self._size = (width, height)
        self._player._set_scale(fit(width, height, *self._player.video_size()))

    def wait(self, after: int, timeout: float) -> Frame | None:
        player = self._player
        if not player.loaded or player.switching():
            time.sleep(min(timeout, 0.02))
            return None
        with player.lock:
            if player.closed:
                time.sleep(min(timeout, 0.05))
                return None
            try:
                raw = player.mpv.command("screenshot-raw", "video")
            except Exception:
                raw = None
        if raw is None:
            time.sleep(min(timeout, 0.05))
            return None
        data = bytes(raw["data"])
        if data == self._last:  # paused: the same picture
            time.sleep(min(timeout, 0.04))
            return None
        self._last = data
        self._seq = max(self._seq, after) + 1
        return Frame(int(raw["w"]), int(raw["h"]), int(raw["stride"]), data, self._seq)


_START_FILE, _END_FILE, _PLAYBACK_RESTART = 6, 7, 21
_END_FILE_ERROR = 4


def _error_text(code: int) -> str:
    try:
        import mpv

        return str(mpv._mpv_error_string(code).decode())
    except Exception:  # pragma: no cover - an mpv without the call
        return f"mpv error {code}"


class _Deck:
    """One mpv instance and (with `vo=libmpv`) its render source; the file it holds."""

    def __init__(self, handle: Any, source: SwRenderSource | None) -> None:
        self.mpv = handle
        self.source = source
        self.path: Path | None = None
        self.entry = 0  # mpv's playlist entry id of `path`; -1 while loadfile is under way
        self._started = 0
        self._errors: dict[int, str] = {}
        handle.register_event_callback(self._on_event)

    def _on_event(self, event: Any) -> None:  # mpv's event thread
        kind = event.event_id.value
        if kind == _START_FILE:
            self._started = int(event.data.playlist_entry_id)
        elif kind == _END_FILE:
            data = event.data
            if data.reason == _END_FILE_ERROR:
                self._errors[int(data.playlist_entry_id)] = _error_text(int(data.error))
        elif kind == _PLAYBACK_RESTART and self.source is not None:
            if self.entry > 0 and self._started == self.entry:
                self.source.live = True  # the file's first frame: its pictures may be shown

    def load(self, path: Path, paused: bool) -> None:
        """`loadfile`. Nothing this mpv renders counts until the new file's playback starts
        (`playback-restart`, after its first frame is rendered): mpv may still hold a frame of
        the file before (a `stop` takes effect asynchronously), and a resize would redraw it."""
        if self.source is not None:
            self.source.generation += 1
            self.source.live = False
        self.entry = -1
        self.path = path
        self._errors.clear()
        if paused:
            self.mpv.pause = True
        result = self.mpv.command("loadfile", str(path))
        self.entry = int((result or {}).get("playlist_entry_id") or 0)
        if self.entry == 0 and self.source is not None:  # an mpv that does not say (< 0.33)
            self.source.live = True
        if not paused:
            self.mpv.pause = False

    def error(self) -> str | None:
        """Why mpv could not play `path`, once it has said so."""
        return self._errors.get(self.entry) if self.path is not None else None

    def stop(self) -> None:
        if self.source is not None:
            self.source.generation += 1
            self.source.live = False  # until a next file starts: `stop` is asynchronous
        self.path = None
        self.entry = 0
        self.mpv.command("stop")


class MpvPlayer:
    """mpv for the whole shift: one instance plays, a second holds the next clip (`preload`).

    `vo`: `gpu` (own window), `libmpv` (frames drawn in the terminal), `null` (no picture;
    tests), or any other mpv video output. Default: `gpu` with a display, else `libmpv`.
    `preload=False`, or a window that cannot wait off the screen (Wayland, full screen), keeps
    one instance (`play()` is a `loadfile`).
    Muted (the default; a project can say otherwise, `set_muted`) decodes no audio at all;
    unmuted, sound goes to `audio_out` (mpv's `ao`).
    """

    def __init__(
        self,
        vo: str | None = None,
        muted: bool = True,
        preload: bool = True,
        audio_out: str = "auto",
        options: Mapping[str, object] | None = None,
    ) -> None:
        tune_malloc()
        self.vo = vo or default_vo()
        self.muted = muted
        self.audio_out = audio_out
        self.windowed = self.vo not in ("libmpv", "null")
        if options is None and self.windowed:  # the kiosk's window unless told otherwise
            options = window_options("side", 60, WINDOW_TITLE)
        self.options: dict[str, object] = dict(options or {})
        if self.vo == "gpu":
            self.options.setdefault("gpu_context", gpu_context())
        self.hidden = False
        self._key_callback: Callable[[str], None] | None = None
        where = {"null": "no display: vo=null", "libmpv": "in the terminal"}.get(self.vo, self.vo)
        self.description = f"mpv ({where})"
        self._board = FrameBoard() if self.vo == "libmpv" else None
        count = 2 if preload and self.vo in ("libmpv", "null") else 1
        #: with a window (X11, `side` layout) the preloaded clip waits in a window off-screen
        self._share = side_geometry(self.options.get("geometry")) if preload else None
        self._xwin: Any = None
        if self._share is not None and environment(os.environ) == "x11":
            try:
                from .xwindows import XWindows

                self._xwin = XWindows()
                count = 2
            except OSError as exc:
                log.warning("no preload with a window: %s", exc)
        self._decks = [self._new_deck(i) for i in range(count)]
        self._active = self._decks[0]
        self._filters = (False, False)
        self._scale: tuple[int, int] | None = None
        self._vf = ""
        self._switch_at = 0.0
        self._source: FrameSource | None = self._board
        self.lock = threading.Lock()  # frame grabs vs. close()
        self.closed = False
        if self.vo == "null":
            self._source = ScreenshotSource(self)

    def _new_deck(self, index: int = 0) -> _Deck:
        import mpv

        options = dict(self.options)
        if self._xwin is not None:  # each deck's window found by its own title
            options["title"] = f"{options.get('title', WINDOW_TITLE)} {index + 1}"
            if index > 0:
                options["geometry"] = offscreen_geometry(self._share or 60)
        handle = mpv.MPV(
            vo=self.vo,
            ao="null" if self.muted else self.audio_out,
            mute=self.muted,
            aid="no" if self.muted else "auto",  # muted: no audio to decode (≈ 1.5 MiB a player)
            keep_open="yes",
            idle="yes",
            osc=False,
            terminal=False,
            hr_seek="yes",
            **{
                "input_default_bindings": False,
                "input_vo_keyboard": False,
                **LEAN_OPTIONS,
                **options,
            },
        )
        if self.windowed:
            handle.register_key_binding("UNMAPPED", self._window_key)
        source = SwRenderSource(handle, self._board) if self._board is not None else None
        return _Deck(handle, source)

    def _window_key(self, state: str, name: str, *_rest: object) -> None:  # mpv's event thread
        """Every key pressed in the video window (mpv's own bindings are off): a press (`d-`,
        or `p-` for keys without up/down) goes to the callback; releases and repeats do not."""
        callback = self._key_callback
        if callback is not None and state[:1] in ("d", "p"):
            callback(name)

    def on_window_key(self, callback: Callable[[str], None] | None) -> None:
        """`callback(mpv key name)` for each key pressed in the video window, on mpv's thread."""
        self._key_callback = callback

    def set_hidden(self, hidden: bool) -> None:
        """Hide the video window (breaks, the summary) and show it again. Without a video
        track and with `force-window=no` mpv closes its window; the clip stays loaded where it
        was, and comes back on the same frame."""
        if not self.windowed or hidden == self.hidden:
            return
        self.hidden = hidden
        for deck in self._decks:
            deck.mpv.vid = "no" if hidden else "auto"

    def set_overlay(self, text: str, large: bool = False, high_contrast: bool = False) -> None:
        """Text drawn over the video (the label keys, in the full-screen layout); "" for none.
        `large` and `high_contrast` follow the kiosk's large-text and high-contrast modes."""
        if not self.windowed:
            return
        for deck in self._decks:
            handle = deck.mpv
            handle["osd-font-size"] = 60 if large else 36
            handle["osd-color"] = "#FFFF00" if high_contrast else "#FFFFFF"
            handle["osd-border-size"] = 4 if high_contrast else 2
            handle["osd-msg1"] = text

    @property
    def mpv(self):  # noqa: ANN201 - the python-mpv object on screen, for renderers and tests
        return self._active.mpv

    def handles(self) -> list[Any]:
        """Every mpv instance (the one on screen first), for benchmarks and tests."""
        return [self._active.mpv] + [d.mpv for d in self._decks if d is not self._active]

    @property
    def loaded(self) -> bool:
        return self._active.path is not None

    @property
    def playing(self) -> Path | None:
        """The file on screen."""
        return self._active.path

    def switching(self) -> bool:
        """True for a moment after `play()`: frame grabs keep out of the clip switch."""
        return time.monotonic() - self._switch_at < 0.15

    def frame_source(self) -> FrameSource | None:
        return self._source

    def video_size(self) -> tuple[int, int]:
        params = self._active.mpv.video_params or {}
        return int(params.get("w") or 16), int(params.get("h") or 9)

    def _spare(self) -> _Deck | None:
        return next((d for d in self._decks if d is not self._active), None)

    def preload(self, path: Path | None) -> None:
        """Open `path` on the spare instance, paused on its first frame, so that `play(path)`
        only has to swap and unpause. None drops what is preloaded. No-op with one instance."""
        spare = self._spare()
        if spare is None:
            return
        if path is None:
            if spare.path is not None:
                spare.stop()
            return
        if spare.path == path and spare.error() is None:
            return
        if spare.path is not None:
            spare.stop()  # so that nothing of the file it held can be shown for `path`
        release_free_memory()  # the clip before this one is gone by now; the key waits for none
        spare.load(path, paused=True)

    def preloaded(self) -> Path | None:
        spare = self._spare()
        return spare.path if spare is not None and spare.error() is None else None

    def play(self, path: Path) -> None:
        """Play `path` now: the preloaded instance if it holds `path`, else a `loadfile`.
        Raises `PlaybackError` if mpv already said it cannot play the preloaded file."""
        self._switch_at = time.monotonic()
        spare = self._spare()
        if spare is not None and spare.path == path:
            error = spare.error()
            if error is not None:
                spare.stop()
                raise PlaybackError(f"{path.name}: {error}")
            old, self._active = self._active, spare
            if self._board is not None:
                self._board.switch(spare.source)  # type: ignore[arg-type]
            if self._xwin is not None:
                self._place(spare, on_screen=True)
            spare.mpv.pause = False
            if self._xwin is not None:
                self._place(old, on_screen=False)
            old.stop()
            return
        # load first: it retires the old file's frames, which switch() would otherwise show
        self._active.load(path, paused=False)
        if self._board is not None:
            self._board.switch(self._active.source)  # type: ignore[arg-type]

    def _place(self, deck: _Deck, on_screen: bool) -> None:
        """Move `deck`'s window on or off the screen, and make mpv open it there next time
        (after a break, or when the deck gets its next file)."""
        share = self._share or 60
        handle = deck.mpv
        handle["geometry"] = f"{share}%x100%-0+0" if on_screen else offscreen_geometry(share)
        try:
            width, _height = self._xwin.screen_size()
            x, y = side_position(width, share) if on_screen else (OFFSCREEN_X, 0)
            for window in self._xwin.find(str(handle["title"])):
                self._xwin.move(window, x, y)
        except Exception:  # pragma: no cover - the X server gone: the next file places it
            log.debug("moving the video window failed", exc_info=True)

    def failure(self) -> str | None:
        """Why the clip on screen does not play, once mpv has said so (else None)."""
        return self._active.error()

    def stop(self) -> None:
        for deck in self._decks:
            deck.stop()

    def replay(self) -> None:
        if self._active.path is not None:
            self.mpv.seek(0, "absolute")
            self.mpv.pause = False

    def pause(self, paused: bool = True) -> None:
        self.mpv.pause = paused

    def toggle_pause(self) -> None:
        self.mpv.pause = not self.mpv.pause

    def is_paused(self) -> bool:
        return bool(self.mpv.pause)

    def seek(self, seconds: float) -> None:
        try:
            self.mpv.seek(seconds, "relative")
        except SystemError:
            pass

    def set_speed(self, speed: float) -> None:
        for deck in self._decks:
            deck.mpv.speed = speed

    def frame_step(self) -> None:
        self.mpv.frame_step()

    def frame_back_step(self) -> None:
        self.mpv.frame_back_step()

    def position(self) -> float:
        return float(self.mpv.time_pos or 0.0)

    def duration(self) -> float:
        return float(self.mpv.duration or 0.0)

    def set_filters(self, greyscale: bool, blur: bool) -> None:
        """Greyscale/blur on every instance: the preloaded clip starts with them too."""
        self._filters = (greyscale, blur)
        self._apply_vf()

    def set_muted(self, muted: bool) -> None:
        """The project's sound setting, on every instance. Unmuting selects the audio track
        again (it opens `audio_out` then); the clip on screen gets its sound from there on."""
        if muted == self.muted:
            return
        self.muted = muted
        for deck in self._decks:
            handle = deck.mpv
            if not muted:
                handle["ao"] = self.audio_out  # takes effect when the audio track opens
            handle.mute = muted
            handle.aid = "no" if muted else "auto"

    def _set_scale(self, scale: tuple[int, int] | None) -> None:
        self._scale = scale
        self._apply_vf()

    def _apply_vf(self) -> None:
        vf = filter_chain(*self._filters, scale=self._scale)
        if vf != self._vf:
            self._vf = vf
            for deck in self._decks:
                deck.mpv.vf = vf

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
        self._source = None
        for deck in self._decks:
            if deck.source is not None:
                deck.source.close()  # the render context must go before the mpv handle
        for deck in self._decks:
            deck.mpv.terminate()
        if self._xwin is not None:
            self._xwin.close()


class StillSource:
    """A fixed test picture (a colour gradient) for screen tests of the video widget."""

    def __init__(self) -> None:
        self._size = (16, 9)
        self._seq = 0
        self._served = 0

    def set_size(self, width: int, height: int) -> None:
        self._size = (width, height)
        self._seq += 1

    def wait(self, after: int, timeout: float) -> Frame | None:
        if self._seq <= after:
            time.sleep(min(timeout, 0.02))
            return None
        width, height = self._size
        data = bytearray()
        for y in range(height):
            for x in range(width):
                data += bytes((255 * y // max(1, height - 1), 80, 255 * x // max(1, width - 1), 0))
        self._served += 1
        return Frame(width, height, width * 4, bytes(data), self._seq)


class NullPlayer:
    """Records calls; plays nothing. For fast screen tests (`frames=True`: a still picture)."""

    description = "test player"

    def __init__(self, frames: bool = False) -> None:
        self.played: list[Path] = []
        self.preloads: list[Path | None] = []
        #: files mpv "cannot play": play() of a preloaded one raises, failure() names others
        self.broken: set[Path] = set()
        self.paused = False
        self.speed = 1.0
        self.pos = 0.0
        self.length = 4.0
        self.filters = (False, False)
        self.muted = True
        self.closed = False
        self.hidden = False
        self.overlay = ""
        self.overlay_look = (False, False)
        self._source = StillSource() if frames else None

    def play(self, path: Path) -> None:
        if path in self.broken and self.preloads and self.preloads[-1] == path:
            self.preloads.append(None)
            raise PlaybackError(f"{path.name}: unrecognized file format")
        self.played.append(path)
        self.pos = 0.0
        self.paused = False

    def preload(self, path: Path | None) -> None:
        self.preloads.append(path)

    def failure(self) -> str | None:
        path = self.played[-1] if self.played else None
        return f"{path.name}: unrecognized file format" if path in self.broken else None

    def stop(self) -> None:
        self.paused = True

    def replay(self) -> None:
        self.pos = 0.0
        self.paused = False

    def pause(self, paused: bool = True) -> None:
        self.paused = paused

    def toggle_pause(self) -> None:
        self.paused = not self.paused

    def is_paused(self) -> bool:
        return self.paused

    def seek(self, seconds: float) -> None:
        self.pos = min(self.length, max(0.0, self.pos + seconds))

    def set_speed(self, speed: float) -> None:
        self.speed = speed

    def frame_step(self) -> None:
        self.pos = min(self.length, self.pos + 0.04)
        self.paused = True

    def frame_back_step(self) -> None:
        self.pos = max(0.0, self.pos - 0.04)
        self.paused = True

    def position(self) -> float:
        return self.pos

    def duration(self) -> float:
        return self.length

    def set_filters(self, greyscale: bool, blur: bool) -> None:
        self.filters = (greyscale, blur)

    def set_muted(self, muted: bool) -> None:
        self.muted = muted

    def frame_source(self) -> FrameSource | None:
        return self._source

    def set_hidden(self, hidden: bool) -> None:
        self.hidden = hidden

    def set_overlay(self, text: str, large: bool = False, high_contrast: bool = False) -> None:
        self.overlay = text
        self.overlay_look = (large, high_contrast)

    def close(self) -> None:
        self.closed = True
