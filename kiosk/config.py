"""The kiosk's one typed config: TOML file and/or command-line options."""

from __future__ import annotations

import socket
import tomllib
from pathlib import Path

import msgspec

from .display import LAYOUTS


class ConfigError(Exception):
    pass


class KioskConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kiosk_id: str = msgspec.field(default_factory=lambda: f"kiosk-{socket.gethostname()}")
    data: str = "kiosk-data"
    hub: str | None = None  # tcp://host:port; None = find it by zeroconf
    hub_id: str | None = None  # only this hub (when several are advertised)
    hub_key: str | None = None  # the hub's public key, with `hub` (else from zeroconf)
    hub_pair: str | None = None  # tcp://host:port of the hub's pairing socket, with `hub`
    trust_first_hub: bool = False  # DEMO ONLY: pin the first hub seen, without a code
    pair_code: str | None = None
    language: str = "nl"
    large_text: bool = False
    high_contrast: bool = False
    interfaces: list[str] = []
    vo: str | None = None  # mpv video output; default: the best that works here (probed)
    window_layout: str = "side"  # with a display: "side" (video right) or "fullscreen"
    video_percent: int = 60  # "side": the share of the screen's width the video gets
    cache_limit_mb: int = 2048
    prefetch_clips: int = 5
    prefetch_minutes: float = 2.0


def load_config(path: Path | None, **overrides: object) -> KioskConfig:
    raw: dict[str, object] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from None
    raw.update({k: v for k, v in overrides.items() if v not in (None, (), [])})
    try:
        config = msgspec.convert(raw, KioskConfig)
    except msgspec.ValidationError as e:
        raise ConfigError(f"{path or 'options'}: {e}") from None
    if config.language not in ("nl", "en"):
        raise ConfigError(f"{path or 'options'}: language must be nl or en")
    if config.window_layout not in LAYOUTS:
        raise ConfigError(f"{path or 'options'}: window_layout must be one of {LAYOUTS}")
    if not 20 <= config.video_percent <= 100:
        raise ConfigError(f"{path or 'options'}: video_percent must be 20..100")
    return config
