"""Video frame → half-block terminal cells. Pure (no I/O) and built for speed.

Each terminal cell shows two pixels: the upper one as the foreground colour of '▀', the lower
one as the background. Frames arrive as packed little-endian `bgr0` (4 bytes a pixel), so one
pixel read as an unsigned 32-bit integer is simply 0x00RRGGBB.

Speed comes from three things: a Rich `Style` is built once per colour pair and reused (so its
ANSI codes are computed once); runs of equal cells become one segment; and only lines whose
pixels changed since the last frame are rebuilt and reported, so the caller redraws only those.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

HALF_BLOCK = "▀"
#: Keep this many high bits per colour channel: fewer distinct styles, no visible loss.
COLOUR_BITS = 5
#: Each generation of the style and colour caches holds this many entries, or one frame's cells
#: if there are more (so a frame's styles always fit); at most two generations are kept. A
#: Rich Style with its two Colours costs ≈ 550 bytes, and a video's colour pairs never stop
#: coming (≈ 90 new pairs a frame on a test clip): an unbounded cache, or one emptied only at
#: 50 000 entries, held up to ≈ 27 MB of the kiosk's memory.
CACHE_GENERATION = 2048

_LITTLE_ENDIAN = sys.byteorder == "little"


def _forget_rendered_styles() -> None:
    """Textual remembers the ANSI codes of the last 16 384 styles it drew (`Strip.render_ansi`
    is an `lru_cache` keyed on the Style) and so keeps those Styles alive: for video, whose
    colour pairs never stop coming, ≈ 9 MiB of the kiosk's memory that the two generations
    here were meant to bound (the real kiosk in tmux grew by that in its first ten clips). The
    cache saves nothing for styles still in use: Textual also keeps each Style's codes on the
    Style (`Style._ansi`) and looks there first. Emptied whenever a generation here goes."""
    cache_clear = getattr(Strip.render_ansi, "cache_clear", None)
    if cache_clear is not None:
        cache_clear()


@dataclass(frozen=True, slots=True)
class Frame:
    """One video frame, `bgr0` pixels, `stride` bytes a row; `seq` counts frames."""

    width: int
    height: int
    stride: int
    data: bytes
    seq: int = 0


def _mask(bits: int) -> int:
    channel = (0xFF << (8 - bits)) & 0xFF
    return channel << 16 | channel << 8 | channel


class HalfBlockRenderer:
    """Turns frames into one `Strip` a terminal line, remembering the last frame to diff."""

    def __init__(self, colour_bits: int = COLOUR_BITS) -> None:
        self._mask = _mask(colour_bits)
        # two generations each (see CACHE_GENERATION): new entries and hits on the old one go
        # to the young one; when that is full it becomes the old one and the old one goes
        self._styles: dict[int, Style] = {}
        self._old_styles: dict[int, Style] = {}
        self._colours: dict[int, Color] = {}
        self._old_colours: dict[int, Color] = {}
        self._limit = CACHE_GENERATION
        self._rows: list[bytes] = []
        self._strips: list[Strip] = []
        self._size = (0, 0)

    @property
    def strips(self) -> list[Strip]:
        return self._strips

    def reset(self) -> None:
        self._rows = []
        self._strips = []
        self._size = (0, 0)

    @property
    def cached_styles(self) -> int:
        return len(self._styles) + len(self._old_styles)

    def _colour(self, rgb: int) -> Color:
        colour = self._colours.get(rgb)
        if colour is None:
            colour = self._old_colours.get(rgb)
            if colour is None:
                colour = Color.from_rgb(rgb >> 16, (rgb >> 8) & 0xFF, rgb & 0xFF)
            if len(self._colours) >= self._limit:
                self._old_colours, self._colours = self._colours, {}
            self._colours[rgb] = colour
        return colour

    def _style(self, key: int) -> Style:
        style = self._styles.get(key)
        if style is None:
            style = self._old_styles.get(key)
            if style is None:
                style = Style.from_color(self._colour(key >> 24), self._colour(key & 0xFFFFFF))
            if len(self._styles) >= self._limit:
                self._old_styles, self._styles = self._styles, {}
                _forget_rendered_styles()  # else Textual's cache keeps the old generation alive
            self._styles[key] = style
        return style

    def _line(self, top: bytes, bottom: bytes, pad_left: int, width: int) -> Strip:
        mask = self._mask
        tops = memoryview(top).cast("I")
        bottoms = memoryview(bottom).cast("I")
        segments: list[Segment] = []
        if pad_left:
            segments.append(Segment(" " * pad_left))
        run_key = -1
        run = 0
        style_of = self._style
        for t, b in zip(tops, bottoms, strict=True):
            key = (t & mask) << 24 | (b & mask)
            if key == run_key:
                run += 1
                continue
            if run:
                segments.append(Segment(HALF_BLOCK * run, style_of(run_key)))
            run_key, run = key, 1
        if run:
            segments.append(Segment(HALF_BLOCK * run, style_of(run_key)))
        used = pad_left + len(tops)
        if used < width:
            segments.append(Segment(" " * (width - used)))
        return Strip(segments, max(width, used))

    def render(self, frame: Frame, width: int, height: int) -> list[int]:
        """Render `frame` centred in `width` × `height` cells; return the lines that changed.

        The frame should be at most `width` pixels wide and `2 * height` pixels high (it is
        cropped otherwise). Afterwards `strips` holds every line.
        """
        if not _LITTLE_ENDIAN:  # pragma: no cover - the kiosks are x86/ARM little-endian
            raise RuntimeError("bgr0 frames are read as little-endian integers")
        if (width, height) != self._size:
            self._size = (width, height)
            self._limit = max(CACHE_GENERATION, width * height)
            self._rows = [b""] * height
            self._strips = [Strip.blank(width)] * height
            changed_all = True
        else:
            changed_all = False
        fw = min(frame.width, width)
        fh = min(frame.height, 2 * height)
        pad_left = (width - fw) // 2
        top_line = (height - (fh + 1) // 2) // 2
        row_bytes = fw * 4
        data = frame.data
        stride = frame.stride
        changed: list[int] = []
        blank = Strip.blank(width)
        for y in range(height):
            py = (y - top_line) * 2
            if py < 0 or py >= fh:
                key = b""
                if changed_all or self._rows[y] != key:
                    self._rows[y] = key
                    self._strips[y] = blank
                    changed.append(y)
                continue
            start = py * stride
            top = data[start : start + row_bytes]
            if py + 1 < fh:
                start += stride
                bottom = data[start : start + row_bytes]
            else:
                bottom = bytes(row_bytes)
            key = top + bottom
            if not changed_all and self._rows[y] == key:
                continue
            self._rows[y] = key
            self._strips[y] = self._line(top, bottom, pad_left, width)
            changed.append(y)
        return changed


def fit(width: int, height: int, src_w: int, src_h: int) -> tuple[int, int]:
    """The largest even-sized pixel box of the source's aspect ratio inside `width` × `height`."""
    if src_w <= 0 or src_h <= 0:
        return width - width % 2, height - height % 2
    scale = min(width / src_w, height / src_h)
    w = max(2, int(src_w * scale) // 2 * 2)
    h = max(2, int(src_h * scale) // 2 * 2)
    return w, h
