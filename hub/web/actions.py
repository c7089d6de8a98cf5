"""What the forms and the API both do: check the input, then call the store. Views map
`Invalid` to 400 and the store's `NotFound`/`Conflict` to 404/409."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from protocol.pins import hash_pin

from ..service import HubService
from ..store import Store, dashboard
from ..store.dashboard import Conflict, NotFound

OPERATOR_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
PIN = re.compile(r"[0-9]{4,8}")

__all__ = ["Conflict", "Invalid", "NotFound"]


@dataclass
class Invalid(Exception):
    """Input that cannot be used; `key` names the message in `i18n.TEXTS`."""

    key: str
    field: str = ""

    def __str__(self) -> str:
        return f"{self.field}: {self.key}" if self.field else self.key


def check_operator_id(value: object) -> str:
    if not isinstance(value, str) or not OPERATOR_ID.fullmatch(value.strip()):
        raise Invalid("err_bad_id", "id")
    return value.strip()


def check_name(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 100:
        raise Invalid("err_bad_name", "name")
    return value.strip()


def check_pin(value: object) -> str:
    if not isinstance(value, str) or not PIN.fullmatch(value.strip()):
        raise Invalid("err_bad_pin", "pin")
    return value.strip()


async def add_operator(service: HubService, operator_id: object, name: object, pin: object) -> str:
    op, display, digits = check_operator_id(operator_id), check_name(name), check_pin(pin)
    if dashboard.operator_exists(service.store, op):
        raise Conflict(f"operator {op!r} exists already")
    pin_hash = await asyncio.to_thread(hash_pin, digits)  # scrypt: keep the loop free
    dashboard.add_new_operator(service.store, op, display, pin_hash)
    return op


async def set_pin(service: HubService, operator_id: str, pin: object) -> None:
    digits = check_pin(pin)
    if not dashboard.operator_exists(service.store, operator_id):
        raise NotFound(f"no operator {operator_id!r}")
    dashboard.set_pin(service.store, operator_id, await asyncio.to_thread(hash_pin, digits))


def parse_day(value: object, default: date) -> date:
    if value in (None, ""):
        return default
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Invalid("err_bad_date", "date") from None


#: The days a statement can cover (Unix time from 1970; far enough ahead for any shift).
EARLIEST_DAY = date(1970, 1, 2)
LATEST_DAY = date(9000, 12, 31)


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    @property
    def start(self) -> float:
        return datetime.combine(self.first, datetime.min.time()).timestamp()

    @property
    def end(self) -> float:
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time()).timestamp()


def statement_period(store: Store, operator_id: str, first: object, last: object) -> Period:
    """From the operator's first activity (or `from`) to today (or `to`), inclusive. Reads
    the store: the web app runs it in its `Reader`, off the event loop."""
    if not dashboard.operator_exists(store, operator_id):
        raise NotFound(f"no operator {operator_id!r}")
    today = date.today()
    began = dashboard.first_activity(store, operator_id)
    default_first = datetime.fromtimestamp(began).date() if began else today
    first_day, last_day = parse_day(first, default_first), parse_day(last, today)
    # any valid date is taken: the period is cut to the days the hub can have work on
    period = Period(max(first_day, EARLIEST_DAY), min(last_day, LATEST_DAY))
    if last_day < first_day:
        raise Invalid("err_bad_date", "to")
    return period


def statement(store: Store, operator_id: str, period: Period, quality: dict | None):
    """The work-experience statement (read in the web app's `Reader`)."""
    return dashboard.statement(store, operator_id, period.start, period.end, time.time(), quality)
