"""The player for this machine: the video output chosen by probing, with the window options."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping

from .config import KioskConfig
from .display import OutputChoice, VideoOutput, choose_output, output_chain, window_options
from .player import WINDOW_TITLE, MpvPlayer

log = logging.getLogger(__name__)


def choose(
    config: KioskConfig,
    probe: Callable[[VideoOutput], str | None] | None = None,
    env: Mapping[str, str] | None = None,
) -> OutputChoice:
    """Try the outputs for this environment (each in a child process), best first."""
    env = os.environ if env is None else env
    if probe is None:
        from .probe import probe_output

        def probe_here(output: VideoOutput) -> str | None:
            # software GL only where the config asks for `gpu` itself
            return probe_output(output, software_gl=config.vo == "gpu", env=env)

        probe = probe_here
    choice = choose_output(output_chain(env, config.vo), probe)
    for output, reason in choice.rejected:
        log.warning("video output %s does not work here: %s", output.name, reason)
    if choice.fell_back:
        log.warning("video output: falling back to %s", choice.output.name)
    else:
        log.info("video output: %s", choice.output.name)
    return choice


def open_player(config: KioskConfig, choice: OutputChoice) -> MpvPlayer:
    output = choice.output
    options: dict[str, object] = dict(output.options)
    if output.windowed:
        options.update(window_options(config.window_layout, config.video_percent, WINDOW_TITLE))
    return MpvPlayer(vo=output.vo, options=options)
