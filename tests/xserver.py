"""A private X server (Xvfb, on a display number it picks itself) and screenshots of it.

Used by the display-mode tests and `benchmarks/kiosk_latency.py`. Screenshots come from `xwd`
(Debian's x11-apps) and are read here: no imaging library needed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import struct
import subprocess
from dataclasses import dataclass

from tests import waiting

TOOLS = ("Xvfb", "xdotool", "xwd")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


class Xvfb:
    """`Xvfb -displayfd`: the server takes the first free display number and tells it."""

    def __init__(self, width: int = 1280, height: int = 800) -> None:
        self.size = (width, height)
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24",
             "-nolisten", "tcp", "-br", "-noreset"],
            pass_fds=(write,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            self.proc.kill()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ, DISPLAY=self.display)
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def run(self, *args: str) -> str:
        proc = subprocess.run(args, env=self.env(), capture_output=True, text=True, check=False)
        return proc.stdout

    def windows(self, name: str) -> list[str]:
        """Ids of the mapped windows on the screen (not moved off it) whose title matches
        `name`."""
        found = self.run("xdotool", "search", "--onlyvisible", "--name", name).split()
        on_screen = []
        for window in found:
            try:
                x, y, _w, _h = self.geometry(window)
            except KeyError:  # gone meanwhile
                continue
            if 0 <= x < self.size[0] and 0 <= y < self.size[1]:
                on_screen.append(window)
        return on_screen

    def geometry(self, window: str) -> tuple[int, int, int, int]:
        """x, y, width, height of a window."""
        out = self.run("xdotool", "getwindowgeometry", "--shell", window)
        values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])

    def key(self, window: str, *keys: str) -> bool:
        """Key presses sent to `window` (XSendEvent: reaches it whatever has the focus);
        False if the window is gone before a key went down. A key's release may find the
        window gone (mpv acts on the press, and a break closes its window): that is fine."""
        for key in keys:
            down = subprocess.run(
                ["xdotool", "keydown", "--window", window, key],
                env=self.env(), capture_output=True, check=False,
            )  # fmt: skip
            if down.returncode != 0:
                return False
            subprocess.run(
                ["xdotool", "keyup", "--window", window, key],
                env=self.env(), capture_output=True, check=False,
            )  # fmt: skip
        return True

    def screenshot(self) -> Image:
        data = subprocess.run(
            ["xwd", "-root", "-silent"], env=self.env(), capture_output=True, check=True
        ).stdout
        return Image.from_xwd(data)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@dataclass
class Image:
    """An RGB picture: `width` × `height`, 3 bytes a pixel."""

    width: int
    height: int
    rgb: bytes

    @classmethod
    def from_xwd(cls, data: bytes) -> Image:
        """An X window dump in ZPixmap format, 24 or 32 bits a pixel (what Xvfb's 24-bit
        screen gives)."""
        header = struct.unpack(">25I", data[:100])
        header_size, version, pixmap_format = header[0], header[1], header[2]
        width, height, byte_order = header[4], header[5], header[7]
        bits, line = header[11], header[12]
        masks = tuple(header[14:17])
        colours = header[19]
        if version != 7 or pixmap_format != 2:
            raise ValueError(f"unsupported xwd: version {version}, format {pixmap_format}")
        start = header_size + colours * 12
        step = bits // 8
        if step not in (3, 4) or byte_order != 0 or masks != (0xFF0000, 0xFF00, 0xFF):
            raise ValueError(f"unsupported xwd pixels: {bits} bits, order {byte_order}")
        pixels = bytearray()
        for y in range(height):  # BGR(X), each row padded to `line` bytes
            pixels += data[start + y * line : start + y * line + width * step]
        out = bytearray(width * height * 3)
        out[0::3], out[1::3], out[2::3] = pixels[2::step], pixels[1::step], pixels[0::step]
        return cls(width, height, bytes(out))

    def crop(self, x: int, y: int, width: int, height: int) -> Image:
        rows = [
            self.rgb[((y + r) * self.width + x) * 3 : ((y + r) * self.width + x + width) * 3]
            for r in range(height)
        ]
        return Image(width, height, b"".join(rows))

    def _sample(self, every: int = 7) -> list[bytes]:
        rgb = self.rgb
        return [rgb[i : i + 3] for i in range(0, len(rgb) - 2, 3 * every)]

    def colourful(self, tolerance: int = 12) -> float:
        """The share of (sampled) pixels whose red, green and blue differ: not grey."""
        pixels = self._sample()
        return sum(1 for p in pixels if max(p) - min(p) > tolerance) / max(1, len(pixels))

    def edges(self) -> float:
        """Mean difference between horizontal neighbours (green channel): high for a sharp
        picture, low for a blurred one."""
        rgb, width = self.rgb, self.width
        total = count = 0
        for y in range(0, self.height, 4):
            row = rgb[y * width * 3 + 1 : (y + 1) * width * 3 : 3]
            total += sum(abs(a - b) for a, b in zip(row, row[1:], strict=False))
            count += len(row) - 1
        return total / max(1, count)

    def lit(self, threshold: int = 24) -> float:
        """The share of (sampled) pixels brighter than black (the X root is black, `-br`)."""
        pixels = self._sample()
        return sum(1 for p in pixels if max(p) > threshold) / max(1, len(pixels))


wait_for = waiting.wait_until  # the first true value of a predicate, with a deadline


class _ClientMessage(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class _Event(ctypes.Union):
    _fields_ = [("client", _ClientMessage), ("pad", ctypes.c_long * 24)]


def request_close(display: str, window: str) -> None:
    """What a window manager sends when the operator clicks a window's close button: a
    `WM_PROTOCOLS` / `WM_DELETE_WINDOW` client message (through libX11; xdotool cannot)."""
    x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSendEvent.argtypes = [
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_int,
        ctypes.c_long,
        ctypes.POINTER(_Event),
    ]
    x11.XFlush.argtypes = x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x11.XOpenDisplay(display.encode())
    if not dpy:
        raise RuntimeError(f"cannot open X display {display}")
    try:
        event = _Event()
        event.client.type = 33  # ClientMessage
        event.client.window = int(window)
        event.client.message_type = x11.XInternAtom(dpy, b"WM_PROTOCOLS", 0)
        event.client.format = 32
        event.client.data[0] = x11.XInternAtom(dpy, b"WM_DELETE_WINDOW", 0)
        x11.XSendEvent(dpy, int(window), 0, 0, ctypes.byref(event))
        x11.XFlush(dpy)
    finally:
        x11.XCloseDisplay(dpy)
