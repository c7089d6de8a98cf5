"""Try a video output in a child process before the operator logs in.

A broken GL driver can make mpv fail, hang, crash the process, or (mpv's DRM context)
close file descriptor 0. The child takes that risk: it opens the output with the kiosk's
options, plays a generated test picture until mpv says the video output is configured, and
checks that its fd 0 is still there. It prints one JSON line; `probe_output` turns that
(or a crash, or a timeout) into None (works) or the reason it does not.

    python -m kiosk.probe VO [NAME=VALUE ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Mapping

from .display import VideoOutput

#: a few frames mpv makes itself (libavfilter), so the probe needs no file
TEST_PICTURE = "av://lavfi:testsrc2=size=128x72:rate=25:duration=1"
PROBE_TIMEOUT_S = 10.0


def probe_output(
    output: VideoOutput,
    timeout: float = PROBE_TIMEOUT_S,
    software_gl: bool = False,
    env: Mapping[str, str] | None = None,
) -> str | None:
    """None if `output` shows video here; else why not (mpv's error, a crash, a timeout).

    A GL output that works only through a software renderer (Mesa's llvmpipe) is passed over
    unless `software_gl`: `vo=x11` is as fast there, and llvmpipe (LLVM) costs ≈ 70 MiB more
    resident memory than the kiosk's 120 MB budget allows (benchmarks/RESULTS-kiosk.md)."""
    args = [sys.executable, "-m", "kiosk.probe", output.vo]
    args += [f"{k}={v}" for k, v in output.options.items()]
    try:
        proc = subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=None if env is None else dict(env),
        )
    except subprocess.TimeoutExpired:
        return f"no picture within {timeout:g} s"
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return f"probe exited with {proc.returncode}: {_last_line(proc.stderr)}"
    result = json.loads(lines[-1])
    if not result.get("ok"):
        return str(result.get("reason") or "failed")
    if result.get("software") and not software_gl:
        return f"software GL only ({result.get('renderer') or 'unknown'})"
    return None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"


def _fd0_open() -> bool:
    try:
        os.fstat(0)
    except OSError:
        return False
    return True


def run_probe(vo: str, options: Mapping[str, str], timeout: float = 6.0) -> dict[str, object]:
    """In the child: open `vo`, wait for the video output to come up (or fail)."""
    import mpv

    from .player import LEAN_OPTIONS

    errors: list[str] = []
    warnings: list[str] = []
    done = threading.Event()
    outcome: dict[str, object] = {"ok": False, "reason": ""}

    def log(level: str, prefix: str, text: str) -> None:
        text = text.strip()
        if text.startswith("GL_RENDERER="):
            outcome["renderer"] = text.split("=", 1)[1].strip("'")
        elif "software renderer" in text:
            outcome["software"] = True
        if level in ("error", "fatal", "warn"):
            (errors if level != "warn" else warnings).append(f"{prefix}: {text}")

    handle = mpv.MPV(
        vo=vo,
        ao="null",
        aid="no",
        idle="yes",
        keep_open="yes",
        terminal=False,
        input_default_bindings=False,
        log_handler=log,
        loglevel="v",
        **dict(options),
        **LEAN_OPTIONS,
    )

    def configured(_name: str, value: object) -> None:
        if value:
            outcome["ok"] = True
            done.set()

    @handle.event_callback("end-file")
    def _ended(_event: object) -> None:
        done.set()

    handle.observe_property("vo-configured", configured)
    handle.command("loadfile", TEST_PICTURE)
    done.wait(timeout)
    if not _fd0_open():
        outcome.update(ok=False, reason="mpv closed file descriptor 0 (the terminal)")
    elif not outcome["ok"]:
        outcome["reason"] = (
            "; ".join(errors[-3:] or warnings[-2:]) or "the video output did not come up"
        )
    handle.terminate()
    return outcome


def main(argv: list[str]) -> int:
    vo, pairs = argv[0], argv[1:]
    options = dict(pair.split("=", 1) for pair in pairs)
    try:
        result = run_probe(vo, options)
    except Exception as exc:  # an option this mpv does not know, a library that fails to load
        result = {"ok": False, "reason": f"{type(exc).__name__}: {exc}"[:300]}
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
