"""Find and move mpv's top-level X11 windows by title (libX11 through ctypes).

mpv 0.35 neither moves its window when `geometry` changes at run time nor tells its window
id, so the player moves the window of the clip that starts on screen itself (the preloaded
one waits off-screen). X errors (a window gone meanwhile) are ignored: Xlib's default
handler would end the process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from typing import Any

_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


def _ignore_error(_display: Any, _event: Any) -> int:  # noqa: ANN401 - C pointers
    return 0


_ignore = _ERROR_HANDLER(_ignore_error)


class XWindows:
    """One connection to the X server named by `display` (None: `$DISPLAY`)."""

    def __init__(self, display: str | None = None) -> None:
        path = ctypes.util.find_library("X11") or "libX11.so.6"
        x11 = ctypes.CDLL(path)
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XDefaultRootWindow.restype = ctypes.c_ulong
        x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        x11.XQueryTree.argtypes = [
            ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
            ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
            ctypes.POINTER(ctypes.c_uint),
        ]  # fmt: skip
        x11.XFetchName.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_void_p)]
        x11.XMoveWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int]
        x11.XFree.argtypes = [ctypes.c_void_p]
        x11.XFlush.argtypes = [ctypes.c_void_p]
        x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        x11.XSetErrorHandler(_ignore)
        self._x11 = x11
        self._lock = threading.Lock()
        self._dpy = x11.XOpenDisplay(display.encode() if display else None)
        if not self._dpy:
            raise OSError(f"cannot open X display {display or '$DISPLAY'}")
        self._root = x11.XDefaultRootWindow(self._dpy)

    def screen_size(self) -> tuple[int, int]:
        return self._x11.XDisplayWidth(self._dpy, 0), self._x11.XDisplayHeight(self._dpy, 0)

    def find(self, title: str) -> list[int]:
        """Top-level windows whose title is exactly `title`."""
        x11, found = self._x11, []
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children = ctypes.POINTER(ctypes.c_ulong)()
        count = ctypes.c_uint()
        with self._lock:
            x11.XSync(self._dpy, 0)
            if not x11.XQueryTree(
                self._dpy, self._root, ctypes.byref(root), ctypes.byref(parent),
                ctypes.byref(children), ctypes.byref(count),
            ):  # fmt: skip
                return []
            try:
                for i in range(count.value):
                    name = ctypes.c_void_p()
                    if x11.XFetchName(self._dpy, children[i], ctypes.byref(name)) and name.value:
                        if ctypes.string_at(name.value).decode(errors="replace") == title:
                            found.append(int(children[i]))
                        x11.XFree(name)
            finally:
                if children:
                    x11.XFree(children)
        return found

    def move(self, window: int, x: int, y: int) -> None:
        with self._lock:
            self._x11.XMoveWindow(self._dpy, window, x, y)
            self._x11.XFlush(self._dpy)

    def close(self) -> None:
        with self._lock:
            if self._dpy:
                self._x11.XCloseDisplay(self._dpy)
                self._dpy = None
