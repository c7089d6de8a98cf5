"""Kiosk latency: key press → next clip playing, beside bare mpv, plus RSS, start-up and the
in-terminal frame rate.

    .venv/bin/python -m benchmarks.kiosk_latency [--clips 200] [--dwell 0.15] [--no-online]
        [--no-terminal] [--runs offline,online] [--mem-detail]

* bare mpv: `loadfile` → `playback-time` > 0 on the same files (vo=null, and vo=libmpv with
  a software-render thread as the kiosk uses without a display).
* kiosk: the real `KioskApp` (headless Textual, Pilot key presses), real `KioskEngine` and
  `KioskStore`, `MpvPlayer`; offline (clips already in the cache) and online (a real hub
  process, clips fetched over ZeroMQ). Each kiosk run is its own process, so its RSS after
  the run is the kiosk's alone. "Playing" is the first `playback-time` > 0 of the new
  clip's file, timed on mpv's event thread: from the mpv instance that had it preloaded
  (paused at 0 when the key was pressed) or after a `start-file` that followed the key. The
  kiosk's clip on screen must be the one expected (`wrong clip` counts the others). Also
  reported: key → the first frame of the new clip on the terminal's frame board. Run
  `offline-nopreload` is the kiosk with one mpv instance (`loadfile` on the key), as before.
* start-up: `straat-kiosk` in tmux until the login screen is on the terminal.
* frame rate: a clip drawn in the terminal (tmux, truecolour) by `VideoView`, frames drawn
  per second and CPU of the kiosk process and of the tmux server.
"""

from __future__ import annotations

import sys

if "--child" in sys.argv:  # the kiosk process starts as `straat-kiosk` does: before asyncio
    from kiosk.cli import skip_unused_imports

    skip_unused_imports()

import argparse
import asyncio
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import machine, median, pct

ROOT = Path(__file__).resolve().parent.parent
PIN = "2468"
#: the kiosk runs (`--runs`): `no-malloc-fix` is the kiosk without `fix_mmap_threshold`
#: `display-gpu` / `display-x11`: the kiosk with its own window (vo=gpu with gpu-context=x11egl,
#: vo=x11) under a private X server (Xvfb), beside bare mpv with the same output and window
RUNS = (
    "offline-null", "offline", "offline-nopreload", "no-malloc-fix", "online",
    "display-gpu", "display-x11",
)  # fmt: skip
DISPLAY_OUTPUTS = {"gpu": "vo=gpu, x11egl (window)", "x11": "vo=x11 (window)"}


# ---- clips ---------------------------------------------------------------------------------


def make_clips(out: Path, count: int, seconds: float = 2.0) -> list[Path]:
    """`count` distinct clips: one testsrc2 video (a timer on screen) cut at key frames."""
    out.mkdir(parents=True, exist_ok=True)
    rate = 25
    total = count * seconds
    src = out / "source.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=size=320x180:rate={rate}:duration={total}", "-c:v", "libx264",
         "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", str(int(rate * seconds)),
         "-keyint_min", str(int(rate * seconds)), "-sc_threshold", "0", str(src)],
        check=True,
    )  # fmt: skip
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(src), "-c", "copy", "-f",
         "segment", "-segment_time", str(seconds), "-reset_timestamps", "1",
         str(out / "clip-%04d.mp4")],
        check=True,
    )  # fmt: skip
    src.unlink()
    return sorted(out.glob("clip-*.mp4"))[:count]


# ---- timing helper -------------------------------------------------------------------------


class PlayWatch:
    """Timestamps (on mpv's event thread) of the first playback-time > 0 after each start-file."""

    def __init__(self, player: Any) -> None:
        self._started = False
        self._event = threading.Event()
        self.at = 0.0

        @player.event_callback("start-file")
        def _start(_event: Any) -> None:
            self._started = True

        def _time(_name: str, value: Any) -> None:
            if self._started and value is not None and value > 0:
                self._started = False
                self.at = time.perf_counter()
                self._event.set()

        player.observe_property("playback-time", _time)

    def arm(self) -> None:
        self._event.clear()
        self._started = False

    def wait(self, timeout: float = 10.0) -> float | None:
        return self.at if self._event.wait(timeout) else None


class DeckWatch:
    """Key press → the expected file's first playback-time > 0 on any of the kiosk's mpv
    instances (on mpv's event thread). An instance counts if it held the file paused at 0
    when armed (preloaded) or if a start-file followed the arming; the file is checked with
    mpv's own `path` when playback-time moves."""

    def __init__(self, handles: list[Any]) -> None:
        self._event = threading.Event()
        self._armed = False
        self._expected = ""
        self._eligible: set[int] = set()
        self.at = 0.0
        for handle in handles:
            self._hook(handle)

    def _hook(self, handle: Any) -> None:
        key = id(handle)

        @handle.event_callback("start-file")
        def _start(_event: Any) -> None:
            if self._armed:
                self._eligible.add(key)

        def _time(_name: str, value: Any) -> None:
            if self._armed and key in self._eligible and value is not None and value > 0:
                at = time.perf_counter()
                if handle.path == self._expected:
                    self._armed = False
                    self.at = at
                    self._event.set()

        handle.observe_property("playback-time", _time)

    def arm(self, expected: Path, handles: list[Any]) -> None:
        self._event.clear()
        self._expected = str(expected)
        self._eligible = {
            id(h) for h in handles if h.path == self._expected and not (h.playback_time or 0)
        }
        self._armed = True

    def wait(self, timeout: float = 10.0) -> float | None:
        return self.at if self._event.wait(timeout) else None


# ---- bare mpv ------------------------------------------------------------------------------


def window_player_options(vo: str) -> tuple[str, dict[str, Any]]:
    """mpv's `vo` and the kiosk's options for a window of its own (`gpu` or `x11`)."""
    from kiosk.display import GPU_X11, X11, window_options

    output = GPU_X11 if vo == "gpu" else X11
    return output.vo, {**output.options, **window_options("side", 60, "bench")}


def bare_mpv(
    files: list[Path], vo: str, dwell: float, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    import mpv

    from kiosk.player import LEAN_OPTIONS, SwRenderSource

    # the kiosk's own mpv options, so that the difference is the kiosk's doing
    player = mpv.MPV(
        vo=vo,
        ao="null",
        mute=True,
        keep_open="yes",
        idle="yes",
        terminal=False,
        **{**LEAN_OPTIONS, **(options or {})},
    )
    source = SwRenderSource(player) if vo == "libmpv" else None
    if source is not None:
        source.set_size(96, 54)
    watch = PlayWatch(player)
    latencies = []
    for path in files:
        watch.arm()
        t0 = time.perf_counter()
        player.loadfile(str(path))
        player.pause = False
        at = watch.wait()
        if at is not None:
            latencies.append((at - t0) * 1000)
        time.sleep(dwell)
    if source is not None:
        source.close()
    player.terminate()
    return {"latencies_ms": latencies}


# ---- kiosk (child process) -----------------------------------------------------------------


def _rss_mib(field: str = "VmRSS") -> float:
    """VmRSS (now) or VmHWM (peak) of this process in MiB. The peak is VmHWM, not
    `getrusage().ru_maxrss`: Linux carries ru_maxrss over an exec, and subprocess starts the
    child with vfork + exec, so ru_maxrss reported the benchmark parent's peak (e.g. the
    217 MiB "transient peak" of the online run was the parent's, which imports the hub)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _memory() -> dict[str, float]:
    """RSS, PSS and USS (private clean + dirty) of this process in MiB, from smaps_rollup."""
    fields: dict[str, float] = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        fields[key] = int(rest.split()[0]) / 1024
    return {
        "rss": fields.get("Rss", float("nan")),
        "pss": fields.get("Pss", float("nan")),
        "uss": fields.get("Private_Clean", 0.0) + fields.get("Private_Dirty", 0.0),
        "anon": fields.get("Anonymous", float("nan")),
    }


def _mappings(top: int = 14) -> list[tuple[str, float, float]]:
    """(mapping, RSS MiB, private MiB) per file (or [heap], [anon], …), largest first."""
    rss: dict[str, float] = {}
    private: dict[str, float] = {}
    name = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if not parts[0].endswith(":") or "-" in parts[0]:
            name = parts[5] if len(parts) > 5 else "[anon]"
            name = name.rsplit("/", 1)[-1]
        elif parts[0] == "Rss:":
            rss[name] = rss.get(name, 0.0) + int(parts[1]) / 1024
        elif parts[0] in ("Private_Clean:", "Private_Dirty:"):
            private[name] = private.get(name, 0.0) + int(parts[1]) / 1024
    ranked = sorted(rss.items(), key=lambda kv: -kv[1])[:top]
    return [(n, round(r, 1), round(private.get(n, 0.0), 1)) for n, r in ranked]


def _offline_engine(data: Path, files: list[Path]):  # noqa: ANN202
    import hashlib

    from kiosk.cache import ClipCache
    from kiosk.engine import KioskEngine
    from kiosk.store import KioskStore
    from protocol import messages as m
    from protocol.pins import hash_pin

    store = KioskStore(data / "kiosk.db")
    cache = ClipCache(data / "clips", store)
    project = m.ProjectSchema(
        name="bench",
        version=1,
        labels=[
            m.LabelDef(value="a", nl="a", en="a", key="1"),
            m.LabelDef(value="b", nl="b", en="b", key="2"),
        ],
    )
    roster = [m.RosterEntry(operator="op1", name="Bench", pin_hash=hash_pin(PIN))]
    store.save_welcome(m.Welcome(hub_id="bench", project=project, roster=roster))
    refs = []
    for path in files:
        data_bytes = path.read_bytes()
        sha = hashlib.sha256(data_bytes).hexdigest()
        shutil.copyfile(path, cache.path(sha))
        store.cache_touch(sha, len(data_bytes), complete=True)
        refs.append(
            m.ClipRef(clip_id=sha, sha256=sha, size=len(data_bytes), name=path.name, duration=2.0)
        )
    store.add_assignment(
        m.Assign(operator="op1", lease_id="bench", expires_at=time.time() + 86400, clips=refs)
    )
    return KioskEngine("bench-kiosk", store, cache), None


def _online_engine(data: Path, hub_id: str, pair_code: str):  # noqa: ANN202
    from kiosk.config import KioskConfig
    from kiosk.runtime import build

    config = KioskConfig(
        kiosk_id="bench-kiosk",
        data=str(data),
        hub_id=hub_id,
        pair_code=pair_code,
        interfaces=["127.0.0.1"],
        prefetch_clips=5,
    )
    engine, link, _browser = build(config)
    return engine, link


async def _drive(args: argparse.Namespace) -> dict[str, Any]:
    from kiosk.app import KioskApp
    from kiosk.player import MpvPlayer
    from kiosk.screens.label import LabelScreen

    data = Path(args.data)
    files = sorted(Path(args.clips_dir).glob("clip-*.mp4"))[: args.clips]
    if args.mode == "offline":
        engine, link = _offline_engine(data, files)
    else:
        engine, link = _online_engine(data, args.hub_id, args.pair_code)
    if args.vo in DISPLAY_OUTPUTS:  # a window of its own, as `straat-kiosk` opens it
        vo, options = window_player_options(args.vo)
        player = MpvPlayer(vo=vo, preload=not args.no_preload, options=options)
    else:
        player = MpvPlayer(vo=args.vo, preload=not args.no_preload)
    app = KioskApp(engine, player, link)
    handles = player.handles()
    watch = DeckWatch(handles)
    board = player.frame_source() if args.vo == "libmpv" else None
    latencies: list[float] = []
    frame_latencies: list[float] = []
    preloaded = wrong_clip = 0
    waited_for_prefetch = 0
    stalled: dict[str, Any] = {}

    async def until(predicate, timeout: float) -> bool:  # noqa: ANN001
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                return False
            await asyncio.sleep(0.005)
        return True

    async with app.run_test(size=(100, 30)) as pilot:
        if link is not None:
            assert await until(lambda: engine.online, 60), "kiosk did not reach the hub"
        await pilot.click("#operator")
        await pilot.press(*"op1", "enter", *PIN, "enter")
        assert await until(lambda: isinstance(app.screen, LabelScreen), 30), "no login"
        screen = app.screen
        assert await until(lambda: screen.session is not None, 60), "no first clip"
        for _ in range(args.clips - 1):
            await asyncio.sleep(args.dwell)
            if screen.upcoming is None:  # not yet fetched (online) or not yet verified
                waited_for_prefetch += 1
                if not await until(lambda: screen.upcoming is not None, 60):
                    stalled = {
                        "pending": len(engine.pending()),
                        "online": engine.online,
                        "on_screen": screen.session is not None,
                        "screen": type(app.screen).__name__,
                    }
                    break
            expected = screen.upcoming[0].sha256
            path = engine.cache.path(expected)
            preloaded += player.preloaded() == path
            watch.arm(path, handles)
            t0 = time.perf_counter()
            await pilot.press("1")
            at = await asyncio.to_thread(watch.wait, 10.0)
            if at is not None:
                latencies.append((at - t0) * 1000)
            if screen.session is None or screen.session.clip.sha256 != expected:
                wrong_clip += 1
            if board is not None:
                await until(lambda t0=t0: board.switched_at > t0 and board.first_frame_at > 0, 1.0)
                if board.switched_at > t0 and board.first_frame_at > 0:
                    frame_latencies.append((board.first_frame_at - t0) * 1000)
        await until(lambda: engine.store.outbox_count() == 0, 30 if link else 0)
        rss = _rss_mib()
        memory = _memory()
        mappings = _mappings() if args.mem_detail else []
        labels = engine.store.done_count("op1")
        video = app.screen.query("#video")
        drawn = getattr(video.first(), "frames_drawn", 0) if video else 0
    return {
        "latencies_ms": latencies,
        "frame_latencies_ms": frame_latencies,
        "preloaded": preloaded,
        "wrong_clip": wrong_clip,
        "rss_mib": rss,
        "memory": memory,
        "mappings": mappings,
        "max_rss_mib": _rss_mib("VmHWM"),
        "labels": labels,
        "waited_for_prefetch": waited_for_prefetch,
        "frames_drawn": drawn,
        "stalled": stalled,
    }


def child(args: argparse.Namespace) -> int:
    # as `straat-kiosk` runs (the imports it skips were skipped at the top of this module)
    import kiosk.player

    if args.no_malloc_fix:  # the kiosk as before fix_mmap_threshold, for comparison
        kiosk.player.tune_malloc = lambda: False
    kiosk.player.tune_malloc()  # as straat-kiosk does before its first thread
    result = asyncio.run(_drive(args))
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def run_child(
    mode: str,
    vo: str,
    clips_dir: Path,
    work: Path,
    args: argparse.Namespace,
    flags: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    **kw: str,
) -> dict[str, Any]:
    data = work / f"kiosk-{mode}-{vo}{''.join(flags)}"
    cmd = [
        sys.executable, "-m", "benchmarks.kiosk_latency", "--child", "--mode", mode,
        "--vo", vo, "--clips-dir", str(clips_dir), "--data", str(data),
        "--clips", str(args.clips), "--dwell", str(args.dwell),
    ]  # fmt: skip
    cmd += list(flags)
    if args.mem_detail:
        cmd.append("--mem-detail")
    for key, value in kw.items():
        cmd += [f"--{key.replace('_', '-')}", value]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"kiosk run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


# ---- start-up and frame rate in a real terminal (tmux) -------------------------------------


class Tmux:
    count = 0

    def __init__(self) -> None:
        Tmux.count += 1
        self.socket = f"kiosk-bench-{os.getpid()}-{Tmux.count}"

    def run(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False
        ).stdout

    def kill(self) -> None:
        self.run("kill-server")


NO_PANDAS_KIOSK = (
    "import sys; sys.modules['pandas'] = None; from kiosk.cli import main; sys.exit(main())"
)


def startup_times(work: Path, repeat: int = 5, no_pandas: bool = False) -> list[float]:
    kiosk = shlex.quote(str(Path(sys.executable).with_name("straat-kiosk")))
    if no_pandas:
        kiosk = f"{shlex.quote(sys.executable)} -c {shlex.quote(NO_PANDAS_KIOSK)}"
    times = []
    for i in range(repeat):
        tmux = Tmux()
        data = work / f"startup-{i}-{no_pandas}"
        command = f"cd {shlex.quote(str(ROOT))} && {kiosk} --data {shlex.quote(str(data))} --interface 127.0.0.1"
        t0 = time.perf_counter()
        tmux.run("new-session", "-d", "-s", "k", "-x", "100", "-y", "30", command)
        while time.perf_counter() - t0 < 30:
            if "Je nummer" in tmux.run("capture-pane", "-p", "-t", "k"):
                times.append(time.perf_counter() - t0)
                break
            time.sleep(0.01)
        tmux.kill()
        time.sleep(0.3)
    return times


FPS_PROBE = """
import json, os, sys, time
from textual.app import App
from kiosk.player import MpvPlayer
from kiosk.widgets.video import VideoView

CLIP, OUT, SECONDS = sys.argv[1], sys.argv[2], float(sys.argv[3])

class Probe(App):
    CSS = "VideoView { width: 1fr; height: 1fr; }"
    def __init__(self):
        super().__init__()
        self.player = MpvPlayer()
    def compose(self):
        yield VideoView(self.player.frame_source())
    def on_mount(self):
        self.player.mpv.loop_file = "inf"
        self.player.play(CLIP)
        self.set_timer(1.0, self.start)
        self.set_timer(1.0 + SECONDS, self.done)
    def start(self):
        self.v = self.query_one(VideoView)
        self.f0, self.t0, self.c0 = self.v.frames_drawn, time.perf_counter(), os.times()
        self.s0 = self.player.frame_source().renders
    def done(self):
        el = time.perf_counter() - self.t0
        c = os.times()
        cpu = (c.user + c.system - self.c0.user - self.c0.system) / el
        json.dump({"fps": (self.v.frames_drawn - self.f0) / el, "cpu": cpu,
                   "source_fps": (self.player.frame_source().renders - self.s0) / el,
                   "cells": list(self.v.size)}, open(OUT, "w"))
        self.exit()
    def on_unmount(self):
        self.workers.cancel_all()
        self.player.close()

Probe().run()
"""


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def frame_rate(
    clip: Path, work: Path, size: tuple[int, int], seconds: float = 8.0
) -> dict[str, Any]:
    tmux = Tmux()
    probe = work / "fps_probe.py"
    probe.write_text(FPS_PROBE)
    out = work / f"fps-{size[0]}x{size[1]}.json"
    out.unlink(missing_ok=True)
    command = f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} {probe} {clip} {out} {seconds}"
    tmux.run(
        "new-session", "-d", "-s", "k", "-x", str(size[0]), "-y", str(size[1]),
        "-e", "COLORTERM=truecolor", command,
    )  # fmt: skip
    time.sleep(1.0)
    server = tmux.run("display-message", "-p", "-t", "k", "#{pid}").strip()
    tmux_cpu0, t0 = _cpu_seconds(int(server)) if server else 0.0, time.perf_counter()
    end = time.monotonic() + seconds + 20
    while not out.exists() and time.monotonic() < end:
        time.sleep(0.1)
    tmux_cpu = (
        (_cpu_seconds(int(server)) - tmux_cpu0) / (time.perf_counter() - t0)
        if server
        else float("nan")
    )
    tmux.kill()
    result = json.loads(out.read_text()) if out.exists() else {"fps": float("nan")}
    result["tmux_cpu"] = tmux_cpu
    return result


# ---- display mode (a private X server) -----------------------------------------------------


def display_mode(
    outputs: list[str], files: list[Path], work: Path, args: argparse.Namespace
) -> dict[str, dict[str, Any]]:
    """Bare mpv and the kiosk with a window of their own, under Xvfb (1280×800, no GPU:
    Mesa's software GL for `gpu`), alternating per output."""
    sys.path.insert(0, str(ROOT))
    from tests.xserver import Xvfb

    results: dict[str, dict[str, Any]] = {}
    server = Xvfb(1280, 800)
    before = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = server.display
    try:
        for vo in outputs:
            label = DISPLAY_OUTPUTS[vo]
            mpv_vo, options = window_player_options(vo)
            results[f"bare mpv, {label}"] = bare_mpv(files[1:], mpv_vo, args.dwell, options)
            results[f"kiosk offline, {label}"] = run_child(
                "offline", vo, work / "clips", work, args, env=server.env()
            )
    finally:
        if before is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = before
        server.stop()
    return results


SHOTS = [((1280, 800), "side"), ((1920, 1080), "side"), ((1280, 800), "fullscreen")]


def screenshots(out_dir: Path, work: Path) -> list[Path]:
    """The kiosk with a display, as an operator sees it: `straat-kiosk` in an xterm on the
    left, its video window beside it (or full screen with the label keys over it), logged in
    against a real hub, one clip playing. PNG files (xwd, converted by ffmpeg)."""
    sys.path.insert(0, str(ROOT))
    from tests.conftest import make_hub

    clips = make_clips(work / "shot-clips", 3 * len(SHOTS), seconds=8.0)
    hub_dir = work / "shot-hub"
    hub_dir.mkdir()
    hub = make_hub(hub_dir, operators=len(SHOTS)).start(clips=clips[0].parent)
    try:
        return [
            _screenshot(hub, n, size, layout, out_dir, work)
            for n, (size, layout) in enumerate(SHOTS)
        ]
    finally:
        hub.kill(signal.SIGTERM)


def _screenshot(
    hub: Any, n: int, size: tuple[int, int], layout: str, out_dir: Path, work: Path
) -> Path:
    from tests.xserver import Xvfb

    store = hub.store()
    code = store.create_pair_code()
    store.close()
    kiosk_id = f"shot-{n}"
    config = work / f"{kiosk_id}.toml"
    config.write_text(
        f'kiosk_id = "{kiosk_id}"\ndata = "{work / kiosk_id}"\nhub_id = "{hub.hub_id}"\n'
        f'pair_code = "{code}"\ninterfaces = ["127.0.0.1"]\nwindow_layout = "{layout}"\n'
    )
    width, height = size
    server = Xvfb(width, height)
    env = {**server.env(), "COLORTERM": "truecolor"}
    font = 11 if width < 1600 else 14
    cols, rows = int(width * 0.4 / (font * 0.8)), int(height / (font * 1.55))
    kiosk = Path(sys.executable).with_name("straat-kiosk")
    term = subprocess.Popen(
        ["xterm", "-fa", "DejaVu Sans Mono", "-fs", str(font), "-geometry",
         f"{cols}x{rows}+0+0", "-bg", "black", "-fg", "white", "-xrm",
         "XTerm*allowSendEvents: true", "-xrm", "XTerm*directColor: true",
         "-title", "kiosk", "-e", f"{kiosk} --config {config}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        xterm = _wait(lambda: server.run("xdotool", "search", "--name", "kiosk").split())[0]
        _wait(lambda: _paired(hub, kiosk_id), 30)
        operator = f"op{n + 1}"  # each its own: the clips leased to one are not another's
        for keys in (["type", operator], ["key", "Return"], ["type", PIN], ["key", "Return"]):
            time.sleep(1.0)  # the focus moves to the PIN field a moment after Enter
            server.run("xdotool", keys[0], "--window", xterm, keys[1])
        png = out_dir / f"kiosk-display-{width}x{height}-{layout}.png"
        try:
            _wait(lambda: server.windows("Annotatiestraat video"), 30)
        except RuntimeError:
            _xwd_png(env, work / f"{kiosk_id}.xwd", out_dir / f"failed-{png.name}")
            raise
        time.sleep(3.0)  # a few seconds of the clip
        _xwd_png(env, work / f"{kiosk_id}.xwd", png)
        return png
    finally:
        term.terminate()
        term.wait(10)
        server.stop()


def _xwd_png(env: dict[str, str], dump: Path, png: Path) -> None:
    """The X screen as a PNG file (xwd, then ffmpeg, 128 colours: ≈ 70-120 KB a screen
    instead of 300-700 KB)."""
    dump.write_bytes(
        subprocess.run(["xwd", "-root", "-silent"], env=env, capture_output=True,
                       check=True).stdout
    )  # fmt: skip
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(dump), "-vf",
         "format=rgb24,split[a][b];[a]palettegen=max_colors=128[p];[b][p]paletteuse=dither=none",
         str(png)],
        check=True,
    )  # fmt: skip


def _paired(hub: Any, kiosk_id: str) -> bool:
    store = hub.store()
    try:
        return bool(store.is_paired(kiosk_id))
    finally:
        store.close()


def _wait(predicate: Any, timeout: float = 15.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise RuntimeError("screenshot set-up: timed out")


def output_of(name: str) -> str:
    """The video output a result's name says (the key of its bare-mpv baseline)."""
    for vo, label in DISPLAY_OUTPUTS.items():
        if label in name:
            return vo
    return "null" if "vo=null" in name else "libmpv"


# ---- report --------------------------------------------------------------------------------


def row(name: str, values: list[float], base: float | None = None) -> str:
    p50, p95 = pct(values, 50), pct(values, 95)
    ratio = f"{p95 / base:5.2f}×" if base else "     "
    return f"  {name:<38} n={len(values):3d}  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  {ratio}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument(
        "--dwell", type=float, default=0.15, help="seconds a clip plays before the key"
    )
    parser.add_argument("--no-online", action="store_true", help="skip the run against a hub")
    parser.add_argument(
        "--runs",
        default=",".join(RUNS),
        help=f"kiosk runs, comma-separated (default: all of {','.join(RUNS)})",
    )
    parser.add_argument(
        "--no-terminal", action="store_true", help="skip tmux start-up / frame rate"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="offline", help=argparse.SUPPRESS)
    parser.add_argument("--vo", default="libmpv", help=argparse.SUPPRESS)
    parser.add_argument("--clips-dir", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--hub-id", help=argparse.SUPPRESS)
    parser.add_argument("--pair-code", help=argparse.SUPPRESS)
    parser.add_argument("--no-malloc-fix", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-preload", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--mem-detail", action="store_true", help="print the largest mappings of each kiosk run"
    )
    parser.add_argument(
        "--screenshots", type=Path, help="only take screenshots of display mode into this folder"
    )
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    if args.screenshots is not None:
        with tempfile.TemporaryDirectory(prefix="kiosk-shots-") as tmp:
            for png in screenshots(args.screenshots, Path(tmp)):
                print(f"{png}  {png.stat().st_size // 1024} KiB")
        return 0

    print(f"kiosk latency benchmark — {machine()}")
    print(f"load before: {os.getloadavg()[0]:.1f} (1 min)")
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        files = make_clips(work / "clips", args.clips + 1)
        print(f"{len(files)} clips of 2 s (320×180 H.264) made in {time.perf_counter() - t:.1f} s")

        results: dict[str, dict[str, Any]] = {}
        results["bare mpv, vo=null"] = bare_mpv(files[1:], "null", args.dwell)
        results["bare mpv, vo=libmpv + sw render"] = bare_mpv(files[1:], "libmpv", args.dwell)
        runs = set(args.runs.split(","))
        if "offline-null" in runs:
            results["kiosk offline, vo=null"] = run_child(
                "offline", "null", work / "clips", work, args
            )
        if "offline" in runs:
            results["kiosk offline, vo=libmpv (terminal)"] = run_child(
                "offline", "libmpv", work / "clips", work, args
            )
        if "offline-nopreload" in runs:
            results["kiosk offline, vo=libmpv, no preload"] = run_child(
                "offline", "libmpv", work / "clips", work, args, flags=("--no-preload",)
            )
        if "no-malloc-fix" in runs:
            results["kiosk offline, vo=libmpv, no malloc fix"] = run_child(
                "offline", "libmpv", work / "clips", work, args, flags=("--no-malloc-fix",)
            )
        display_runs = [vo for vo in DISPLAY_OUTPUTS if f"display-{vo}" in runs]
        if display_runs:
            results.update(display_mode(display_runs, files, work, args))
        if "online" in runs and not args.no_online:
            sys.path.insert(0, str(ROOT))
            from tests.conftest import make_hub

            hub_dir = work / "hub-run"
            hub_dir.mkdir()
            hub = make_hub(hub_dir, operators=1).start(clips=work / "clips", timeout=300)
            try:
                store = hub.store()
                code = store.create_pair_code()
                store.close()
                results["kiosk online, vo=libmpv (terminal)"] = run_child(
                    "online",
                    "libmpv",
                    work / "clips",
                    work,
                    args,
                    hub_id=hub.hub_id,
                    pair_code=code,
                )
            finally:
                hub.kill(signal.SIGTERM)

        print("\nkey press → next clip playing (playback-time > 0); bare mpv: loadfile → playing")
        base = {
            "null": pct(results["bare mpv, vo=null"]["latencies_ms"], 95),
            "libmpv": pct(results["bare mpv, vo=libmpv + sw render"]["latencies_ms"], 95),
        }
        for vo, label in DISPLAY_OUTPUTS.items():
            if f"bare mpv, {label}" in results:
                base[vo] = pct(results[f"bare mpv, {label}"]["latencies_ms"], 95)
        for name, result in results.items():
            vo = output_of(name)
            is_kiosk = name.startswith("kiosk")
            print(row(name, result["latencies_ms"], base.get(vo) if is_kiosk else None))
        print("  (× = kiosk p95 / bare mpv p95 with the same vo; target ≤ 2×)")
        print("\nkey press → first frame of the new clip on the terminal's frame board")
        for name, result in results.items():
            if result.get("frame_latencies_ms"):
                print(row(name, result["frame_latencies_ms"]))
        for name, result in results.items():
            if name.startswith("kiosk"):
                print(
                    f"  {name:<40} preloaded {result['preloaded']} of "
                    f"{len(result['latencies_ms'])}, wrong clip {result['wrong_clip']}"
                )
        print("\nkiosk process after the run (RSS includes Textual, libmpv, SQLite)")
        print("  (as `straat-kiosk` runs; `no malloc fix`: glibc's dynamic mmap threshold left")
        print("   on, see kiosk.player.fix_mmap_threshold)")
        for name, result in results.items():
            if name.startswith("kiosk"):
                mem = result.get("memory", {})
                print(
                    f"  {name:<40} RSS {result['rss_mib']:5.1f} MiB  PSS {mem.get('pss', 0):5.1f}"
                    f"  USS {mem.get('uss', 0):5.1f}  (peak RSS {result['max_rss_mib']:5.1f})"
                    f"  labels {result['labels']}  waited for prefetch {result['waited_for_prefetch']}"
                    f"  frames drawn {result['frames_drawn']}"
                )
                for mapping, rss, private in result.get("mappings", []):
                    print(f"      {rss:6.1f} MiB ({private:5.1f} private)  {mapping}")
        if not args.no_terminal and shutil.which("tmux"):
            print("\nstart-up, `straat-kiosk` until the login screen is on the terminal (tmux)")
            for label, no_pandas in (("as installed here", False), ("no pandas", True)):
                starts = startup_times(work, no_pandas=no_pandas)
                print(
                    f"  {label:<18} {len(starts)} runs: median {median(starts):.2f} s, "
                    f"min {min(starts):.2f} s, max {max(starts):.2f} s"
                )
            print(
                "\nin-terminal video (tmux, truecolour; kiosk default vo=libmpv), 8 s of a 25 fps clip"
            )
            for size in [(100, 30), (160, 48)]:
                r = frame_rate(files[0], work, size)
                print(
                    f"  terminal {size[0]}×{size[1]} (video {r.get('cells', ['?', '?'])[0]}×"
                    f"{r.get('cells', ['?', '?'])[1]} cells): {r['fps']:.1f} frames/s drawn "
                    f"(mpv gave {r.get('source_fps', float('nan')):.1f}), kiosk CPU "
                    f"{r.get('cpu', float('nan')) * 100:.0f} %, tmux CPU {r['tmux_cpu'] * 100:.0f} %"
                )
    print(f"\nload after: {os.getloadavg()[0]:.1f} (1 min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
