"""Which site a hub is, when several sites' hubs share one database (one program).

In order, the first that is given wins: `serve --site NAME` (or the environment variable
`STRAAT_SITE`), the key `site` of the site file `<data>/hub.toml`, else none: the database's
one site, named by its hub id (`Store.site`), which is what a SQLite hub is.

Shared by the program (in the database): clips, work and leases, operators and their PINs,
web accounts, the export's pseudonym key (an operator has one pseudonym at every site), the
hub id (the program's). Per site: the data folder (media, exports), the CurveZMQ key pair
(kiosks pin their site's key), the zeroconf name (`<hub id>-<site>`), pairing codes (a code
made at one site pairs there only), and on each label and kiosk the site that stored it or
saw it last.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..store.location import SITE_FILE, LocationError, read_site_file

#: The environment variable for the site's name (`serve --site` wins over it).
SITE_ENV = "STRAAT_SITE"
#: A site name: a word of letters, digits, '.', '_', '-' (it goes into zeroconf names).
SITE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


def checked_site(name: str, what: str = "--site") -> str:
    """`name` if it is a usable site name; LocationError saying why not."""
    if not SITE_NAME.fullmatch(name):
        raise LocationError(
            f"{what}: {name!r} is not a site name (1 to 40 letters, digits, '.', '_', '-', "
            "starting with a letter or digit)"
        )
    return name


def site_name(data: Path, given: str | None = None) -> str | None:
    """This hub's site: `given` (the command line or the environment), else the site file's
    `site`, else None (the database's one site)."""
    if given:
        return checked_site(given)
    path = data / SITE_FILE
    if path.is_file():
        named = read_site_file(path).site
        if named:
            return checked_site(named, str(path))
    return None
