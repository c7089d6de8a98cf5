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
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from .render import Frame, fit

log = logging.getLogger(__name__)

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


def fix_mmap_threshold(size: int = MMAP_THRESHOLD) -> bool:
    """Keep glibc's mmap threshold where it starts. By default glibc raises it each time a
    large block is freed (up to 32 MiB); after that mpv's packet and frame buffers come from
    the malloc arenas and stay resident once freed: ≈ 11 MB more RSS after a few clips.
    With a fixed threshold large blocks are mmap'd and given back on free. False where the
    C library has no `mallopt` (e.g. musl)."""
    try:
        return bool(ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, size))
    except (OSError, AttributeError):
        return False


class FrameSource(Protocol):
    """Frames for the in-terminal video, at a size the widget asks for."""

    def set_size(self, width: int, height: int) -> None: ...
    def wait(self, after: int, timeout: float) -> Frame | None: ...


class Player(Protocol):
    description: str

    def play(self, path: Path) -> None: ...
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
    def frame_source(self) -> FrameSource | None: ...
    def close(self) -> None: ...


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def default_vo() -> str:
    """`gpu` (own window) with a display; else `libmpv`, drawn in the terminal."""
    return "gpu" if has_display() else "libmpv"


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


class SwRenderSource:
    """mpv's software renderer (`vo=libmpv`) drawing into our buffer on our own thread.

    The thread renders every frame mpv offers (even when nobody draws them: mpv's video
    output must be served) and keeps the newest; `wait()` hands it to the widget.
    """

    def __init__(self, player: Any) -> None:
        import mpv

        self._mpv_mod = mpv
        self._ctx = mpv.MpvRenderContext(player, "sw")
        self._wake = threading.Event()
        self._ctx.update_cb = self._wake.set
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._size = (64, 36)
        self._resized = True
        self._stop = False
        self.renders = 0
        self._thread = threading.Thread(target=self._run, name="mpv-sw-render", daemon=True)
        self._thread.start()

    def set_size(self, width: int, height: int) -> None:
        width, height = max(2, width), max(2, height)
        with self._cond:
            if (width, height) != self._size:
                self._size = (width, height)
                self._resized = True
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
        width = height = 0
        seq = 0
        while not self._stop:
            self._wake.wait(0.25)
            self._wake.clear()
            if self._stop:
                break
            with self._cond:
                resized, self._resized = self._resized, False
                size = self._size
            if resized or params is None:
                width, height = size
                params, buf, keep = self._params(width, height)
            try:
                fresh = bool(self._ctx.update() & _RENDER_UPDATE_FRAME)
                if not (fresh or resized):
                    continue
                render(self._ctx.handle, params)
            except Exception:  # pragma: no cover - mpv shutting down
                log.debug("sw render failed", exc_info=True)
                continue
            seq += 1
            self.renders += 1
            assert buf is not None
            frame = Frame(width, height, width * 4, buf.raw, seq)
            with self._cond:
                self._frame = frame
                self._cond.notify_all()
        del keep

    def wait(self, after: int, timeout: float) -> Frame | None:
        with self._cond:
            if self._frame is None or self._frame.seq <= after:
                self._cond.wait(timeout)
            frame = self._frame
        return frame if frame is not None and frame.seq > after else None

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=2)
        with self._cond:
            self._cond.notify_all()
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


class MpvPlayer:
    """One mpv instance for the whole shift.

    `vo`: `gpu` (own window), `libmpv` (frames drawn in the terminal), `null` (no picture;
    tests), or any other mpv video output. Default: `gpu` with a display, else `libmpv`.
    """

    def __init__(self, vo: str | None = None, muted: bool = True) -> None:
        import mpv

        fix_mmap_threshold()
        self.vo = vo or default_vo()
        self._mpv = mpv.MPV(
            vo=self.vo,
            ao="null" if muted else "auto",
            mute=muted,
            keep_open="yes",
            idle="yes",
            osc=False,
            input_default_bindings=False,
            input_vo_keyboard=False,
            terminal=False,
            hr_seek="yes",
            **LEAN_OPTIONS,
        )
        where = {"null": "no display: vo=null", "libmpv": "in the terminal"}.get(self.vo, self.vo)
        self.description = f"mpv ({where})"
        self._path: Path | None = None
        self._filters = (False, False)
        self._scale: tuple[int, int] | None = None
        self._vf = ""
        self._switch_at = 0.0
        self._source: FrameSource | None = None
        self.lock = threading.Lock()  # frame grabs vs. close()
        self.closed = False
        if self.vo == "libmpv":
            self._source = SwRenderSource(self._mpv)
        elif self.vo == "null":
            self._source = ScreenshotSource(self)

    @property
    def mpv(self):  # noqa: ANN201 - the python-mpv object, for renderers and tests
        return self._mpv

    @property
    def loaded(self) -> bool:
        return self._path is not None

    def switching(self) -> bool:
        """True for a moment after `play()`: frame grabs keep out of the clip switch."""
        return time.monotonic() - self._switch_at < 0.15

    def frame_source(self) -> FrameSource | None:
        return self._source

    def video_size(self) -> tuple[int, int]:
        params = self._mpv.video_params or {}
        return int(params.get("w") or 16), int(params.get("h") or 9)

    def play(self, path: Path) -> None:
        self._switch_at = time.monotonic()
        self._path = path
        self._mpv.loadfile(str(path))
        self._mpv.pause = False

    def stop(self) -> None:
        self._path = None
        self._mpv.command("stop")

    def replay(self) -> None:
        if self._path is not None:
            self._mpv.seek(0, "absolute")
            self._mpv.pause = False

    def pause(self, paused: bool = True) -> None:
        self._mpv.pause = paused

    def toggle_pause(self) -> None:
        self._mpv.pause = not self._mpv.pause

    def is_paused(self) -> bool:
        return bool(self._mpv.pause)

    def seek(self, seconds: float) -> None:
        try:
            self._mpv.seek(seconds, "relative")
        except SystemError:
            pass

    def set_speed(self, speed: float) -> None:
        self._mpv.speed = speed

    def frame_step(self) -> None:
        self._mpv.frame_step()

    def frame_back_step(self) -> None:
        self._mpv.frame_back_step()

    def position(self) -> float:
        return float(self._mpv.time_pos or 0.0)

    def duration(self) -> float:
        return float(self._mpv.duration or 0.0)

    def set_filters(self, greyscale: bool, blur: bool) -> None:
        self._filters = (greyscale, blur)
        self._apply_vf()

    def _set_scale(self, scale: tuple[int, int] | None) -> None:
        self._scale = scale
        self._apply_vf()

    def _apply_vf(self) -> None:
        vf = filter_chain(*self._filters, scale=self._scale)
        if vf != self._vf:
            self._vf = vf
            self._mpv.vf = vf

    def close(self) -> None:
        source = self._source
        self._source = None
        if isinstance(source, SwRenderSource):
            source.close()  # the render context must go before the mpv handle
        with self.lock:
            if self.closed:
                return
            self.closed = True
        self._mpv.terminate()


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
        self.paused = False
        self.speed = 1.0
        self.pos = 0.0
        self.length = 4.0
        self.filters = (False, False)
        self.closed = False
        self._source = StillSource() if frames else None

    def play(self, path: Path) -> None:
        self.played.append(path)
        self.pos = 0.0
        self.paused = False

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

    def frame_source(self) -> FrameSource | None:
        return self._source

    def close(self) -> None:
        self.closed = True
