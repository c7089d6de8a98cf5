"""What staff see of attacks on the hub: pairing guesses and refused kiosk messages."""

from __future__ import annotations

import time
from typing import Any

from ..service import HubService


def pairing_state(service: HubService) -> dict[str, Any]:
    alarm = service.pairing.alarm(time.time())
    return {
        "wrong_codes": alarm.wrong,
        "wrong_sources": alarm.sources,
        "withdrawn": alarm.burned,
        "last_wrong_at": alarm.last_wrong_at or None,
        "locked_sources": alarm.locked_sources,
        "refused_attempts": alarm.refused,
    }


def refused_state(service: HubService) -> list[dict[str, Any]]:
    """Kiosk messages the hub refused, per kiosk and reason (e.g. a label for an operator
    who did not log in there)."""
    return service.store.refusals()
