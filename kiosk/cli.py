"""`straat-kiosk`: the operator's terminal app."""

from __future__ import annotations

from pathlib import Path

import click

from .config import ConfigError, load_config


@click.command(help="Annotatiestraat kiosk: log in, watch clips, press one key per label.")
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
@click.option("--vo", help="mpv video output (default: gpu with a display, null without)")
def main(
    config_path, data, kiosk_id, hub, hub_key, hub_pair, pair_code, language, interfaces, vo
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
        )
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    from .app import KioskApp
    from .player import MpvPlayer
    from .runtime import build

    engine, link, _browser = build(config)
    player = MpvPlayer(vo=config.vo)
    KioskApp(engine, player, link, language=config.language).run()


if __name__ == "__main__":
    main()
