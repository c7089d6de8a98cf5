"""A headless kiosk that names its connection after its kiosk id, as kiosks of the previous
release did (they set the DEALER's routing id; this release leaves it to libzmq when the hub
advertises that it knows kiosks by their Hello and key). For tests of such kiosks against a hub
of this release: `python -m tests.previous_kiosk` takes `kiosk.headless`'s options."""

from __future__ import annotations

import sys

from kiosk import headless
from kiosk.link import HubLink

_open = HubLink._open


def _open_named(self: HubLink, endpoint: str, server_key: str, conn_ids: bool = True):  # noqa: ANN202
    return _open(self, endpoint, server_key, False)


HubLink._open = _open_named  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(headless.main())
