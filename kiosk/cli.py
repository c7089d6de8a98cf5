"""`straat-kiosk`: the operator's terminal app."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from protocol.version import package_version

from .config import ConfigError, load_config
from .logs import setup_logging

#: sqlite-utils imports these when it can (pandas brings pyarrow); the kiosk uses none of them,
#: and on a cheap workstation they cost ~85 MB (numpy alone ~10 MB) and most of a second.
#: asyncio imports `ssl` when it can (≈ 1.2 MiB RSS); the kiosk speaks only ZeroMQ (CURVE
#: encryption, libsodium) and zeroconf, never TLS.
UNUSED_IMPORTS = ("pandas", "numpy", "ssl")


def skip_unused_imports() -> None:
    """Make later imports of `UNUSED_IMPORTS` fail (as if not installed); the kiosk process only."""
    for unused in UNUSED_IMPORTS:
        sys.modules.setdefault(unused, None)  # type: ignore[arg-type]


@click.command(help="Annotatiestraat kiosk: log in, watch clips, press one key per label.")
@click.version_option(package_version(), prog_name="straat-kiosk")
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path, exists=True), help="kiosk TOML file"
)
@click.option("--data", help="kiosk data folder (labels, clip cache)")
@click.option("--kiosk-id", help="this kiosk's id (default: kiosk-<hostname>)")
@click.option("--hub", help="tcp://host:port of the hub (default: find it by zeroconf)")
@click.option("--hub-key", help="the hub's public key (with --hub; else from zeroconf)")
@click.option("--hub-pair", help="tcp://host:port of the hub's pairing socket (with --hub)")
@click.option("--pair-code", help="one-time pairing code from staff")
@click.option("--lang", "language", type=click.Choice(["nl", "en"]), help="language")
@click.option("--interface", "interfaces", multiple=True, help="zeroconf on this address only")
@click.option(
    "--vo",
    help="mpv video output (default: the best that works here: gpu, x11, else in the terminal)",
)
@click.option("--large-text", is_flag=True, default=None, help="large-text theme")
@click.option("--high-contrast", is_flag=True, default=None, help="high-contrast theme")
def main(
    config_path,
    data,
    kiosk_id,
    hub,
    hub_key,
    hub_pair,
    pair_code,
    language,
    interfaces,
    vo,
    large_text,
    high_contrast,
) -> None:
    try:
        config = load_config(
            config_path,
            data=data,
            kiosk_id=kiosk_id,
            hub=hub,
            hub_key=hub_key,
            hub_pair=hub_pair,
            pair_code=pair_code,
            language=language,
            interfaces=list(interfaces),
            vo=vo,
            large_text=large_text or None,  # unset flags leave the TOML's choice
            high_contrast=high_contrast or None,
        )
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    setup_logging(Path(config.data))  # Textual owns the terminal: warnings go to a file
    skip_unused_imports()
    from .app import KioskApp
    from .player import tune_malloc
    from .runtime import build
    from .video_setup import choose, open_player

    tune_malloc()  # before the first thread (ZeroMQ's, zeroconf's, mpv's) allocates

    choice = choose(config)  # in child processes, before the operator logs in
    # (KioskApp.run() moves stdin out of reach of mpv's DRM output, which closes fd 0)
    engine, link, _browser = build(config)
    player = open_player(config, choice)
    KioskApp(
        engine,
        player,
        link,
        language=config.language,
        large_text=config.large_text,
        high_contrast=config.high_contrast,
        video_choice=choice,
        window_layout=config.window_layout,
    ).run()


if __name__ == "__main__":
    main()
