"""The clip, drawn inside the terminal: half-block truecolour cells from mpv's frames.

A worker thread waits for frames from the player's `FrameSource`, turns them into strips
(`render.HalfBlockRenderer`, off the UI thread) and hands the newest over with a message. The
UI thread only swaps strips and repaints the lines that changed. If the terminal is slower
than the video, frames are dropped rather than queued, so the picture never lags behind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from textual import work
from textual.filter import ANSIToTruecolor, LineFilter
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget
from textual.worker import get_current_worker

from ..messages import FrameReady
from ..player import FrameSource
from ..render import HalfBlockRenderer

#: Upper bound for drawn frames per second (the clips are 25 frames/s).
MAX_FPS = 25.0


class VideoView(Widget):
    DEFAULT_CSS = """
    VideoView {
        width: 1fr;
        height: 1fr;
        min-height: 4;
    }
    """

    def __init__(
        self,
        source: FrameSource,
        max_fps: float = MAX_FPS,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.source = source
        self.max_fps = max_fps
        self._renderer = HalfBlockRenderer()
        self._lock = threading.Lock()
        self._cells = (0, 0)
        self._shown: list[Strip] = []
        self._latest: list[Strip] | None = None
        self._latest_seq = 0
        self._dirty: set[int] = set()
        self._posted = False
        self._generation = 0
        self.frames_drawn = 0
        self.frames_rendered = 0
        self.last_seq = 0

    # ---- UI thread ---------------------------------------------------------------------

    def on_mount(self) -> None:
        self._frames()

    def on_resize(self) -> None:
        width, height = self.size
        with self._lock:
            self._cells = (width, height)
        self.source.set_size(width, height * 2)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y < len(self._shown):
            strip = self._shown[y]
            if strip.cell_length == width:
                return strip
            return strip.crop_pad(0, width, 0, 0) if width else Strip.blank(0)
        return Strip.blank(width)

    def clear(self) -> None:
        """Blank the picture (no clip on screen)."""
        with self._lock:
            self._latest, self._dirty = None, set()
            self._generation += 1
        self._shown = []
        self.refresh()

    def get_line_filters(self) -> Sequence[LineFilter]:
        # Every colour here is already an RGB triplet: skip the ANSI→truecolour filter, whose
        # small style cache cannot hold a video's colours (it costs ~20 % of a frame).
        return [f for f in super().get_line_filters() if not isinstance(f, ANSIToTruecolor)]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return container.height

    def on_frame_ready(self, message: FrameReady) -> None:
        message.stop()
        first_seq = getattr(self.source, "first_seq", 0)  # the clip on screen began there
        with self._lock:
            strips, dirty = self._latest, self._dirty
            if strips is not None and self._latest_seq < first_seq:
                # made from the clip before a switch: never drawn; its lines stay dirty
                self._latest, self._posted = None, False
                return
            self._latest, self._dirty, self._posted = None, set(), False
        if strips is None:
            return
        self._shown = strips
        self.frames_drawn += 1
        width = self.size.width
        for start, count in _runs(sorted(dirty)):
            self.refresh(Region(0, start, width, count))

    # ---- worker thread -----------------------------------------------------------------

    @work(thread=True, exclusive=True, name="video-frames")
    def _frames(self) -> None:
        worker = get_current_worker()
        last = 0
        min_gap = 1.0 / self.max_fps if self.max_fps > 0 else 0.0
        next_at = 0.0
        seen_generation = 0
        while not worker.is_cancelled:
            frame = self.source.wait(last, 0.25)
            if frame is None:
                continue
            last = frame.seq
            now = time.monotonic()
            if now < next_at:
                continue  # over the frame-rate cap: skip this one
            next_at = now + min_gap * 0.75  # frames arrive with jitter: do not halve the rate
            with self._lock:
                width, height = self._cells
                generation = self._generation
            if not width or not height:
                continue
            if generation != seen_generation:
                seen_generation = generation
                self._renderer.reset()
            changed = self._renderer.render(frame, width, height)
            self.frames_rendered += 1
            self.last_seq = frame.seq
            if not changed:
                continue
            strips = list(self._renderer.strips)
            with self._lock:
                if generation != self._generation:
                    continue
                self._latest = strips
                self._latest_seq = frame.seq
                self._dirty.update(changed)
                post, self._posted = not self._posted, True
            if post:
                self.post_message(FrameReady())


def _runs(lines: list[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 7] → [(1, 3), (7, 1)]: contiguous line runs as (start, count)."""
    runs: list[tuple[int, int]] = []
    for y in lines:
        if runs and runs[-1][0] + runs[-1][1] == y:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((y, 1))
    return runs
