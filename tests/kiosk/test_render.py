"""Frames → half-block cells: colours, centring, changed lines only, style reuse."""

from __future__ import annotations

import struct

from kiosk import render
from kiosk.render import HALF_BLOCK, Frame, HalfBlockRenderer, fit


def frame(width: int, height: int, pixel, seq: int = 1) -> Frame:  # noqa: ANN001
    data = b"".join(
        struct.pack("<I", pixel(x, y)) for y in range(height) for x in range(width)
    )  # bgr0 little-endian == 0x00RRGGBB
    return Frame(width, height, width * 4, data, seq)


def test_top_pixel_is_foreground_bottom_is_background() -> None:
    f = frame(2, 2, lambda x, y: 0xFF0000 if y == 0 else 0x0000FF)
    r = HalfBlockRenderer(colour_bits=8)
    changed = r.render(f, 2, 1)
    assert changed == [0]
    [segment] = list(r.strips[0])
    assert segment.text == HALF_BLOCK * 2
    assert segment.style.color.triplet == (255, 0, 0)
    assert segment.style.bgcolor.triplet == (0, 0, 255)


def test_small_frame_is_centred_and_padded() -> None:
    f = frame(2, 2, lambda x, y: 0xFFFFFF)
    r = HalfBlockRenderer()
    r.render(f, 6, 3)
    assert [s.cell_length for s in r.strips] == [6, 6, 6]
    assert r.strips[0].text.strip() == "" and r.strips[2].text.strip() == ""
    assert r.strips[1].text == "  " + HALF_BLOCK * 2 + "  "


def test_only_changed_lines_are_reported() -> None:
    r = HalfBlockRenderer()
    assert r.render(frame(4, 4, lambda x, y: 0x102030), 4, 2) == [0, 1]
    assert r.render(frame(4, 4, lambda x, y: 0x102030, seq=2), 4, 2) == []
    moved = frame(4, 4, lambda x, y: 0xFFFFFF if (x, y) == (1, 3) else 0x102030, seq=3)
    assert r.render(moved, 4, 2) == [1]
    assert r.render(moved, 5, 2) == [0, 1]  # a new size redraws everything
    r.reset()
    assert r.render(moved, 5, 2) == [0, 1]


def test_styles_are_built_once_per_colour_pair() -> None:
    r = HalfBlockRenderer()
    r.render(frame(8, 8, lambda x, y: 0x808080 if x % 2 else 0x202020), 8, 4)
    first = {id(seg.style) for strip in r.strips for seg in strip}
    assert len(first) == 2
    r.render(frame(8, 8, lambda x, y: 0x202020 if x % 2 else 0x808080, seq=2), 8, 4)
    second = {id(seg.style) for strip in r.strips for seg in strip}
    assert first == second


def test_style_cache_is_bounded_and_keeps_the_styles_in_use(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(render, "CACHE_GENERATION", 64)
    r = HalfBlockRenderer(colour_bits=8)
    for n in range(40):  # 40 frames of 32 new colour pairs each: 1280 pairs seen
        r.render(frame(8, 8, lambda x, y, n=n: (n << 16) | (y << 8) | x, seq=n + 1), 8, 4)
        assert r.cached_styles <= 2 * 64
    # a pair still in use is not built again
    kept = {id(seg.style) for strip in r.strips for seg in strip}
    r.render(frame(8, 8, lambda x, y: (39 << 16) | (y << 8) | x, seq=99), 8, 4)
    r._rows = []  # force a rebuild of every line
    r._size = (0, 0)
    r.render(frame(8, 8, lambda x, y: (39 << 16) | (y << 8) | x, seq=100), 8, 4)
    assert {id(seg.style) for strip in r.strips for seg in strip} == kept


def test_styles_drawn_to_a_terminal_are_not_kept_alive_by_textual(monkeypatch) -> None:  # noqa: ANN001
    """Textual's `Strip.render_ansi` cache (16 384 Styles) kept every style the video had ever
    drawn alive, beyond the two generations here: ≈ 9 MiB in the real kiosk."""
    import gc
    import io

    from rich.console import Console
    from rich.style import Style

    monkeypatch.setattr(render, "CACHE_GENERATION", 64)
    console = Console(file=io.StringIO(), color_system="truecolor", force_terminal=True)
    gc.collect()
    before = sum(isinstance(o, Style) for o in gc.get_objects())
    r = HalfBlockRenderer(colour_bits=8)
    for n in range(100):  # 3 200 colour pairs drawn, as the terminal driver draws them
        for y in r.render(frame(8, 8, lambda x, y, n=n: (n << 16) | (y << 8) | x, seq=n + 1), 8, 4):
            r.strips[y].render(console)
    gc.collect()
    alive = sum(isinstance(o, Style) for o in gc.get_objects()) - before
    assert alive <= 2 * 64 + 32, f"{alive} styles alive after 3 200 drawn"


def test_runs_of_equal_cells_become_one_segment() -> None:
    r = HalfBlockRenderer()
    r.render(frame(10, 2, lambda x, y: 0xFF0000 if x < 7 else 0x00FF00), 10, 1)
    assert [len(seg.text) for seg in r.strips[0]] == [7, 3]


def test_fit_keeps_the_aspect_ratio_in_even_pixels() -> None:
    assert fit(100, 60, 1920, 1080) == (100, 56)
    assert fit(40, 60, 1920, 1080) == (40, 22)
    assert fit(41, 61, 0, 0) == (40, 60)
