"""The hub options the tests hand to the headless kiosk survive a public key that starts with
"-" (Z85 has "-" in its alphabet: about one hub in 85 has such a key, and an option parser
would take it for an option)."""

from __future__ import annotations

from pathlib import Path

from kiosk.headless import parser
from tests.conftest import HubProc


def test_a_hub_key_starting_with_a_dash_is_a_value_not_an_option(tmp_path: Path) -> None:
    hub = HubProc(tmp_path, tmp_path / "project.toml")
    hub.public_key = "-" + "a" * 39
    hub.port, hub.pair_port = 5570, 5571
    args = parser().parse_args(
        [
            "--kiosk-id",
            "k1",
            "--data",
            str(tmp_path),
            *hub.kiosk_args(),
            "--operator",
            "op1",
            "--pin",
            "1234",
        ]
    )
    assert args.hub_key == hub.public_key
    assert args.hub == hub.endpoint
