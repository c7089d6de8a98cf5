"""Check a file with ffprobe and describe its video, or say in plain words why not."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

FFPROBE = "ffprobe"

# Demuxers that read still images; a file they accept is a picture, not a video.
_IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe"}
_IMAGE_CODECS = {"png", "mjpeg", "bmp", "tiff", "webp", "jpeg2000", "jpegls", "qoi"}
_TEXT_FORMATS = {"tty"}  # ffmpeg renders plain text files as "ANSI art" video


def ffmpeg_input(path: str | os.PathLike[str]) -> str:
    """A path as ffmpeg must see it: absolute, and never read as a protocol or an option."""
    return f"file:{os.path.abspath(path)}"


class IngestError(Exception):
    """A file that cannot be ingested, with a reason a person can act on."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class Probe:
    """What ffprobe says about a file.

    ``width``/``height`` are as displayed (swapped for 90° rotated phone video);
    ``duration`` is the video stream's when known, else the container's.
    """

    duration: float
    width: int
    height: int
    codec: str
    has_video: bool
    has_audio: bool = False
    audio_channels: int = 0
    audio_codec: str = ""
    format_name: str = ""
    fps: float | None = None
    rotation: int = 0


def _fraction(text: str | None) -> float | None:
    if not text or text in {"0/0", "N/A"}:
        return None
    num, _, den = text.partition("/")
    try:
        value = float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def _float(text: object) -> float | None:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


def _explain_failure(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    text = "\n".join(lines)
    if "moov atom not found" in text:
        return "corrupt or truncated MP4/MOV file (its index, the 'moov' atom, is missing)"
    if "Invalid data found when processing input" in text:
        return "not a video file, or corrupt (ffprobe: invalid data found when processing input)"
    if "Permission denied" in text:
        return "permission denied"
    if not lines:
        return "ffprobe failed without a message"
    last = lines[-1]
    return f"ffprobe could not read it: {last.split(': ', 1)[-1] if ': ' in last else last}"


def _rotation(stream: dict) -> int:
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            try:
                return int(round(float(side["rotation"]))) % 360
            except (TypeError, ValueError):
                return 0
    try:
        return int(stream.get("tags", {}).get("rotate", 0)) % 360
    except (TypeError, ValueError):
        return 0


def _run_ffprobe(path: Path, args: list[str], timeout: float, *, need_format: bool = True) -> dict:
    cmd = [FFPROBE, "-v", "error", "-of", "json", *args, "-i", ffmpeg_input(path)]
    try:
        proc = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise IngestError(path, f"ffprobe took longer than {timeout:g} s; unreadable file") from exc
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise IngestError(path, _explain_failure(stderr))
    try:
        data = json.loads(proc.stdout or b"{}")
    except ValueError as exc:
        raise IngestError(path, "ffprobe returned output that is not JSON") from exc
    if not isinstance(data, dict) or (need_format and not data.get("format")):
        raise IngestError(path, _explain_failure(stderr) if stderr.strip() else "not a video file")
    return data


def _check_regular(path: Path) -> None:
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise IngestError(path, "file not found") from exc
    except PermissionError as exc:
        raise IngestError(path, "permission denied") from exc
    except OSError as exc:
        raise IngestError(path, f"cannot read it: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(st.st_mode):
        raise IngestError(path, "is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise IngestError(path, "not a regular file (device, pipe or socket)")
    if st.st_size == 0:
        raise IngestError(path, "empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        raise IngestError(path, "permission denied")


def probe(
    path: str | os.PathLike[str],
    *,
    require_video: bool = True,
    check_end: bool = True,
    timeout: float = 60.0,
) -> Probe:
    """Describe ``path`` or raise :class:`IngestError` saying why it is not a usable video.

    With ``check_end`` the last seconds are read as well, which catches files whose
    header is intact but whose data was cut off (an interrupted copy or download).
    """
    path = Path(path)
    _check_regular(path)
    data = _run_ffprobe(path, ["-show_format", "-show_streams"], timeout)
    fmt = data.get("format", {})
    format_name = str(fmt.get("format_name", ""))
    streams = data.get("streams") or []
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    audios = [s for s in streams if s.get("codec_type") == "audio"]

    if format_name in _TEXT_FORMATS or any(s.get("codec_name") == "ansi" for s in videos):
        raise IngestError(path, "a text file, not a video")
    if format_name in _IMAGE_FORMATS or (
        videos
        and all(s.get("codec_name") in _IMAGE_CODECS for s in videos)
        and (_float(fmt.get("duration")) or 0.0) < 0.5
    ):
        raise IngestError(path, "a still image, not a video")

    if not videos:
        if require_video:
            what = "audio only" if audios else "no audio either"
            raise IngestError(path, f"no video stream ({what})")
        duration = _float(fmt.get("duration"))
        return Probe(
            duration=duration or 0.0,
            width=0,
            height=0,
            codec="",
            has_video=False,
            has_audio=bool(audios),
            audio_channels=int(audios[0].get("channels") or 0) if audios else 0,
            audio_codec=str(audios[0].get("codec_name") or "") if audios else "",
            format_name=format_name,
        )

    video = videos[0]
    codec = str(video.get("codec_name") or "")
    if not codec or codec == "none":
        raise IngestError(path, "video stream with an unknown codec; ffmpeg cannot decode it")
    width = int(video.get("width") or 0)
    height = int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        raise IngestError(path, f"the {codec} video stream has no picture size; corrupt header?")
    rotation = _rotation(video)
    if rotation in (90, 270):
        width, height = height, width
    stream_duration = _stream_duration(video)
    duration = stream_duration or _float(fmt.get("duration"))
    if duration is None:
        raise IngestError(path, "unknown duration (no index in the file); remux it with ffmpeg")
    if check_end:
        _check_tail(path, video, duration, stream_duration is not None, timeout)
    return Probe(
        duration=duration,
        width=width,
        height=height,
        codec=codec,
        has_video=True,
        has_audio=bool(audios),
        audio_channels=int(audios[0].get("channels") or 0) if audios else 0,
        audio_codec=str(audios[0].get("codec_name") or "") if audios else "",
        format_name=format_name,
        fps=_fraction(video.get("avg_frame_rate")) or _fraction(video.get("r_frame_rate")),
        rotation=rotation,
    )


def _stream_duration(stream: dict) -> float | None:
    """A stream's own duration: the field, or Matroska's DURATION tag (h:mm:ss.fff)."""
    value = _float(stream.get("duration"))
    if value is not None:
        return value
    tag = (stream.get("tags") or {}).get("DURATION") or ""
    try:
        hours, minutes, seconds = tag.split(":")
        return _float(int(hours) * 3600 + int(minutes) * 60 + float(seconds))
    except ValueError:
        return None


def _packet_end(packet: dict) -> float | None:
    for key in ("pts_time", "dts_time"):
        try:
            value = float(packet[key])
        except (KeyError, TypeError, ValueError):
            continue
        try:
            return value + float(packet.get("duration_time", 0) or 0)
        except ValueError:
            return value
    return None


def _check_tail(path: Path, video: dict, duration: float, exact: bool, timeout: float) -> None:
    """Read the video packets of the last seconds: if they are missing, the data is cut off."""
    start = max(0.0, duration - 3.0)
    data = _run_ffprobe(
        path,
        [
            "-read_intervals", f"{start:.3f}%",
            "-select_streams", str(video.get("index", 0)),
            "-show_entries", "packet=pts_time,dts_time,duration_time",
        ],
        timeout,
        need_format=False,
    )  # fmt: skip
    packets = data.get("packets") or []
    ends = [end for end in map(_packet_end, packets) if end is not None]
    if packets and not ends:
        return  # no timestamps to compare (some AVI files); the cut step checks again
    first = _float(video.get("start_time")) or 0.0
    last = max(ends, default=first) - first
    slack = 2.0 if exact else max(5.0, duration * 0.1)
    if last < duration - slack:
        where = f"the data stops at about {last:.1f} s" if ends else "no video data near the end"
        raise IngestError(
            path,
            f"truncated or corrupt: the header promises {duration:.1f} s of video but {where}",
        )
