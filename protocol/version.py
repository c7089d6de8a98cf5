"""The software version every part reports: `straat-hub --version`, `straat-kiosk --version`,
the kiosk's Hello (shown in the dashboard's kiosk list) and the API description. It is read
from the installed distribution's metadata, so `pyproject.toml` is the one place it is
written."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version

#: The distribution name in `pyproject.toml`.
DISTRIBUTION = "annotatiestraat"
#: Reported when the code runs from a source tree that was never installed.
UNKNOWN = "0+unknown"


@cache
def package_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return UNKNOWN
