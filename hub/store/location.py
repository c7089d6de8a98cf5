"""Where a site's hub database is: SQLite in the data folder (the default) or PostgreSQL.

In order, the first that is given wins: `--db` (or the environment variable `STRAAT_DB`,
both read by the command line), the key `db` of the site file `<data>/hub.toml` (read only
when it is there), else the SQLite file `<data>/hub.db`. The site file may also name a
read replica for the dashboard's and the background reads (`read_db`).

A site file holding a password (in the URL or as `password=`) must be readable by its owner
only (mode 0600), like the hub's key: otherwise it is refused, with its path and mode.
"""

from __future__ import annotations

import re
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

import msgspec

from .dialect import is_postgres_url as is_postgres
from .records import StoreError

#: The SQLite database's file name in the data folder.
SQLITE_FILE = "hub.db"
#: The site file in the data folder.
SITE_FILE = "hub.toml"


class LocationError(StoreError):
    """The database's location cannot be used as given (the message says which and why)."""


class SiteFile(msgspec.Struct, forbid_unknown_fields=True):
    db: str | None = None
    read_db: str | None = None
    #: the site's name when several sites share the database (hub.site.identity)
    site: str | None = None


@dataclass(frozen=True)
class Database:
    """The hub's database (`location`: a SQLite path or a PostgreSQL URL) and where its
    reads may go (`read_location`: a replica; the same database when none is named)."""

    location: str
    read_location: str
    #: where the choice came from, for messages: "--db", "hub.toml" or "default"
    source: str

    @property
    def postgres(self) -> bool:
        return is_postgres(self.location)

    @property
    def sqlite_path(self) -> Path | None:
        return None if self.postgres else Path(self.location)


def _has_password(url: str) -> bool:
    from urllib.parse import urlsplit

    if "password=" in url:
        return True
    try:
        return urlsplit(url).password is not None
    except ValueError:
        return False


def checked_location(value: str, what: str) -> str:
    """A PostgreSQL URL as it is, a SQLite path (`sqlite:///path` or a plain path) as a
    path; another scheme is refused."""
    if is_postgres(value):
        return value
    if value.startswith("sqlite://"):
        return value.removeprefix("sqlite://") or SQLITE_FILE
    if "://" in value:
        scheme = value.split("://", 1)[0]
        raise LocationError(
            f"{what}: unknown database kind {scheme!r} (use postgresql://… or a SQLite file)"
        )
    if re.match(r"\s*\w+\s*=", value):  # libpq's key=value form, not a file name
        raise LocationError(f"{what}: write the connection as a URL, postgresql://USER@HOST/NAME")
    return value


def read_site_file(path: Path) -> SiteFile:
    """The site file's keys; LocationError for a file that cannot be read, has unknown
    keys, or holds a password while others may read it."""
    try:
        raw = path.read_bytes()
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        raise LocationError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        site = msgspec.convert(tomllib.loads(raw.decode()), SiteFile)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, msgspec.ValidationError) as exc:
        raise LocationError(f"{path}: {exc}") from None
    secret = any(_has_password(v) for v in (site.db, site.read_db) if v)
    if secret and mode & 0o077:
        raise LocationError(
            f"{path} holds a database password and others may read it (mode {mode:04o}): "
            f"chmod 600 {path}"
        )
    return site


def find_database(data: Path, db: str | None = None, read_db: str | None = None) -> Database:
    """The hub's database for the data folder `data`: `db` if given (the command line or
    the environment), else the site file's `db`, else `<data>/hub.db`."""
    site = SiteFile()
    site_path = data / SITE_FILE
    try:
        present = site_path.is_file()
    except PermissionError:  # a folder this user may not look into
        if not db:
            raise LocationError(f"{site_path}: cannot be read (permission denied)") from None
        present = False  # the database is named: the site file is not needed
    if present:
        site = read_site_file(site_path)
    if db:
        location, source = checked_location(db, "--db"), "--db"
    elif site.db:
        location, source = checked_location(site.db, str(site_path)), str(site_path)
    else:
        location, source = str(data / SQLITE_FILE), "default"
    return with_replica(Database(location, location, source), read_db or site.read_db)


def with_replica(database: Database, read_db: str | None) -> Database:
    """`database` with its reads going to the replica `read_db` (PostgreSQL only)."""
    if not read_db:
        return database
    read = checked_location(read_db, "--read-db")
    if not is_postgres(read) or not database.postgres:
        raise LocationError("a read replica (--read-db) is for a PostgreSQL database only")
    return Database(database.location, read, database.source)


def mask(location: str) -> str:
    """`location` without its password (for messages and logs)."""
    if not is_postgres(location):
        return location
    from .pg.connect import describe

    return describe(location)
