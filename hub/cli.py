"""`straat-hub`: thin click glue over the hub's library."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from protocol.pins import hash_pin
from protocol.version import package_version

from .project import ProjectError
from .site.logs import setup_logging

if TYPE_CHECKING:
    from .store.location import Database

#: Where a site's hub keeps its data (the Debian package's and the systemd unit's folder).
DEFAULT_DATA = Path("/var/lib/annotatiestraat")
#: Environment variable that replaces `DEFAULT_DATA` (a command's `--data` wins over both).
DATA_ENV = "STRAAT_DATA"
DATA_HELP = f"hub data folder (database, media, exports); default ${DATA_ENV} or {DEFAULT_DATA}"
#: Environment variable naming the hub's database (a command's `--db` wins over it).
DB_ENV = "STRAAT_DB"
DB_HELP = (
    "the hub's database: postgresql://USER@HOST/NAME, or a SQLite file; default the `db` key "
    "of DATA/hub.toml, else DATA/hub.db"
)
#: Where `hub_data` keeps the command's database (`click.Context.meta`).
DB_META = "straat.database"


def hub_data(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`--data`, `--db` and `--init` for a command that works on a hub's data folder; the
    command gets `data` (a Path) only, and opens the store with `_store(data)`. A folder
    without a hub database is refused unless `--init` is given, so that a mistyped `--data`
    does not silently start a second, empty hub. A database that cannot be used (a wrong
    connection string, a server that is down, a newer schema) is a one-line error."""

    @functools.wraps(fn)
    def command(*args: Any, data: Path, init: bool, db: str | None, **kwargs: Any) -> Any:
        from .store.location import find_database

        with _one_line_errors():
            database = find_database(data, db)
            click.get_current_context().meta[DB_META] = database
            return fn(*args, data=hub_folder(data, init, database), **kwargs)

    command = click.option(
        "--init",
        is_flag=True,
        help="make a new hub in the data folder if it holds none (first start)",
    )(command)
    return _data_and_db_options(command)


def hub_database(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`--data` and `--db` for a command that works on the hub's database itself (`db
    migrate`, `db checksum`): it gets `database`, found as for every other command
    (`--db`, `$STRAAT_DB`, the site file's `db`, `<data>/hub.db`), but no folder is needed
    beside it. Errors are one line, as with `hub_data`."""

    @functools.wraps(fn)
    def command(*args: Any, data: Path, db: str | None, **kwargs: Any) -> Any:
        from .store.location import find_database

        with _one_line_errors():
            return fn(*args, database=find_database(data, db), **kwargs)

    return _data_and_db_options(command)


def _data_and_db_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--db",
        default=None,
        envvar=DB_ENV,
        show_envvar=True,
        metavar="URL",
        help=DB_HELP,
    )(command)
    return click.option(
        "--data",
        type=click.Path(path_type=Path, file_okay=False),
        default=DEFAULT_DATA,
        envvar=DATA_ENV,
        show_envvar=True,
        help=DATA_HELP,
    )(command)


@contextlib.contextmanager
def _one_line_errors() -> Iterator[None]:
    """A store error (the database cannot be used as asked: the message says why) as one
    `Error: …` line and exit status 1."""
    from .store import StoreError

    try:
        yield
    except StoreError as e:
        raise click.ClickException(str(e)) from None


def hub_folder(data: Path, init: bool, database: Database) -> Path:
    """`data` if it holds a hub (or `init` asks for one: the folder is made); else a clear
    error that changes nothing. With a PostgreSQL database the folder (key, media, exports)
    must be there; with SQLite its database file."""
    sqlite = database.sqlite_path
    if sqlite is None and data.is_dir() or sqlite is not None and sqlite.is_file():
        return data
    if not init:
        missing = f"{sqlite} is missing" if sqlite is not None else "the folder is missing"
        raise click.UsageError(
            f"{data} holds no hub ({missing}): check --data or ${DATA_ENV}, "
            "or give --init to make a new hub there"
        )
    data.mkdir(parents=True, exist_ok=True)
    return data


def _database(data: Path) -> Database:
    """The database `hub_data` found for this command (the default for `data` otherwise)."""
    from .store.location import find_database

    found = click.get_current_context().meta.get(DB_META)
    return found if found is not None else find_database(data)


@click.group(help="Annotatiestraat hub: assigns work to kiosks, keeps labels, makes datasets.")
@click.version_option(package_version(), prog_name="straat-hub")
@click.option("-v", "--verbose", is_flag=True, help="log more")
def main(verbose: bool) -> None:
    os.umask(0o077)  # what the hub writes (database, key, media, exports) is the owner's only
    setup_logging(logging.DEBUG if verbose else logging.INFO, os.environ)


def _site(data: Path, given: str | None = None) -> str | None:
    """This command's site (`serve --site`, else $STRAAT_SITE, else DATA/hub.toml's `site`)."""
    from .site.identity import SITE_ENV, site_name

    return site_name(data, given or os.environ.get(SITE_ENV) or None)


def _store(data: Path):
    from .store import StoreError, open_store

    database = _database(data)
    try:
        return open_store(database.location, read_location=database.read_location, site=_site(data))
    except StoreError as e:
        raise click.ClickException(str(e)) from None


def _sqlite_only(data: Path, what: str) -> Path:
    """The SQLite file of this command's hub; a clear error for a PostgreSQL hub."""
    from .store.location import mask

    database = _database(data)
    if database.sqlite_path is None:
        raise click.ClickException(
            f"the hub's database is PostgreSQL ({mask(database.location)}): {what} works on "
            "a SQLite hub; use pg_dump and pg_restore (docs/postgresql.md)"
        )
    return database.sqlite_path


@main.command(help="Run the hub: ZeroMQ for kiosks, zeroconf, web dashboard.")
@click.option("--project", type=click.Path(path_type=Path, exists=True), required=True)
@hub_data
@click.option(
    "--clips",
    type=click.Path(path_type=Path, exists=True),
    multiple=True,
    help="ingest these files or folders at start",
)
@click.option(
    "--bind",
    default="tcp://0.0.0.0:5570",
    show_default=True,
    help="ZeroMQ address (port 0 = any free port)",
)
@click.option(
    "--pair-bind",
    default=None,
    help="ZeroMQ address of the pairing socket (default: the port after --bind, on the "
    "first --interface, else on loopback only)",
)
@click.option("--web-host", default="0.0.0.0", show_default=True)
@click.option("--web-port", default=8080, show_default=True, type=int)
@click.option(
    "--interface",
    "interfaces",
    multiple=True,
    help="zeroconf on these interface addresses only (e.g. 127.0.0.1)",
)
@click.option("--no-zeroconf", is_flag=True, help="do not advertise")
@click.option(
    "--open-pairing",
    is_flag=True,
    help="DEMO ONLY: pair every kiosk that says hello, without a code",
)
@click.option(
    "--proxy-height",
    type=int,
    default=None,
    help="re-encode ingested clips to this height (default: keep as they are)",
)
@click.option("--clip-seconds", type=float, default=10.0, show_default=True)
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="serve Prometheus metrics at http://METRICS-HOST:PORT/metrics (default: off)",
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
@click.option(
    "--read-db",
    default=None,
    metavar="URL",
    help="PostgreSQL read replica for the dashboard's and background reads "
    "(default: the `read_db` key of DATA/hub.toml, else the database itself)",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="hub processes for this site on this machine: kiosk ports BIND's port + 0..N-1 "
    "(any free port each with port 0), pairing on port + N; the first serves the web, each "
    "advertises itself; one that dies is restarted",
)
@click.option(
    "--site",
    default=None,
    envvar="STRAAT_SITE",
    show_envvar=True,
    metavar="NAME",
    help="this hub's site when several sites share one PostgreSQL database (default: the "
    "`site` key of DATA/hub.toml, else the database's one site, named by its hub id)",
)
def serve(
    project,
    data,
    clips,
    bind,
    pair_bind,
    web_host,
    web_port,
    interfaces,
    no_zeroconf,
    open_pairing,
    proxy_height,
    clip_seconds,
    metrics_port,
    metrics_host,
    read_db,
    workers,
    site,
) -> None:
    from .site.server import HubConfig, run_hub
    from .store import StoreError
    from .store.location import with_replica

    try:
        database = with_replica(_database(data), read_db)
        site = _site(data, site)
    except StoreError as e:
        raise click.ClickException(str(e)) from None

    config = HubConfig(
        project=project,
        data=data,
        bind=bind,
        pair_bind=pair_bind,
        web_host=web_host,
        web_port=web_port,
        clips=list(clips),
        zeroconf=not no_zeroconf,
        interfaces=list(interfaces) or None,
        open_pairing=open_pairing,
        proxy_height=proxy_height,
        clip_seconds=clip_seconds,
        metrics_host=metrics_host,
        metrics_port=metrics_port,
        db=database.location,
        read_db=database.read_location,
        site=site,
    )
    try:
        if workers > 1:
            from .site.workers import run_workers

            run_workers(config, workers)
        else:
            asyncio.run(run_hub(config))
    except ProjectError as e:
        raise click.ClickException(str(e)) from None


@main.command(help="Ingest video files or folders: check, cut into clips, store.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@hub_data
@click.option("--project", type=click.Path(path_type=Path, exists=True), required=True)
@click.option("--clip-seconds", type=float, default=10.0, show_default=True)
@click.option(
    "--proxy",
    "proxy",
    default="480p",
    show_default=True,
    help="proxy height like 480p, or 'none' to keep the files as they are",
)
def ingest(paths, data, project, clip_seconds, proxy) -> None:
    from .ingest.catalog import ingest_into
    from .project import load_project

    try:
        config, _ = load_project(project)
    except ProjectError as e:
        raise click.ClickException(str(e)) from None
    height = None if proxy.lower() == "none" else int(proxy.lower().rstrip("p"))
    store = _store(data)
    report = ingest_into(
        store,
        data / "media",
        paths,
        want=config.redundancy,
        clip_seconds=clip_seconds,
        proxy_height=height,
        progress=True,
    )
    click.echo(report.summary())
    if report.clips:
        from .models.runtime import refresh_priorities

        refresh_priorities(store)
    if report.errors:
        sys.exit(0 if report.clips or report.duplicates else 1)  # only errors: fail


@main.command(
    help="Write a versioned dataset snapshot (v1, v2, …): clips and annotations as "
    "Parquet/JSONL/CSV, splits by source video, dataset card, SHA256SUMS."
)
@hub_data
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="folder for the snapshots (default: DATA/exports)",
)
@click.option(
    "--format",
    "formats",
    default="parquet,jsonl,csv,labelstudio",
    show_default=True,
    help="comma-separated: parquet, jsonl, csv, labelstudio",
)
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the splits")
@click.option(
    "--media-url", default=None, help="Label Studio: clips' base URL (<base>/<clip_id>.mp4)"
)
@click.option("--include-media", is_flag=True, help="copy every clip into the snapshot's media/")
@click.option(
    "--annotator-domain", default=None, help="Label Studio: annotators are op-…@DOMAIN users"
)
def export(data, out, formats, seed, media_url, include_media, annotator_domain) -> None:
    from .export.snapshot import ExportError, export_command

    try:
        click.echo(
            export_command(
                data,
                out,
                [formats],
                seed,
                media_url,
                annotator_domain,
                include_media,
                db=_database(data).location,
            )
        )
    except ExportError as e:
        raise click.ClickException(str(e)) from None


@main.command(help="Copy the hub database to DEST (a file or a folder) while the hub serves.")
@click.argument("dest", type=click.Path())
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=None,
    help="DEST is a folder: then delete all but the newest KEEP dated backups in it",
)
@hub_data
def backup(dest, keep, data) -> None:
    from .store.backup import BackupError, prune
    from .store.backup import backup as make_backup

    if keep is not None and not (dest.endswith(("/", os.sep)) or Path(dest).is_dir()):
        raise click.UsageError("--keep needs DEST to be a folder (end it with /)")
    try:
        written = make_backup(_sqlite_only(data, "backup"), dest)
        click.echo(written)
        if keep is not None:
            for old in prune(written.parent, keep):
                click.echo(f"deleted {old}")
    except BackupError as e:
        raise click.ClickException(str(e)) from None


@main.command(help="Replace the hub database with the backup SRC (stop the hub first).")
@click.argument("src", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@hub_data
@click.option("--force", is_flag=True, help="even if the database looks in use (nothing may run)")
def restore(src, data, force) -> None:
    from .store.backup import BackupError
    from .store.backup import restore as do_restore

    try:
        kept = do_restore(src, _sqlite_only(data, "restore"), force=force)
    except BackupError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"restored {src}" + (f"; the old database is {kept}" if kept else ""))


@main.command(help="Quality report: agreement, per label, per operator, gold; text, JSON, HTML.")
@hub_data
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="folder for quality.json and quality.html (default: DATA/quality)",
)
@click.option("--method", type=click.Choice(["ds", "mv"]), default="ds", show_default=True)
@click.option("--model", default=None, help="evaluate this model against the people instead")
@click.option("--model-version", type=click.IntRange(min=1), default=None, help="default: newest")
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="consensus confidence the model is compared on (default: the project's confidence)",
)
def quality(data, out, method, model, model_version, threshold) -> None:
    import json

    store = _store(data)
    out = out or data / "quality"
    if model:
        from .models.runtime import consensus_threshold, evaluation
        from .render.model_report import render_html, render_text

        try:
            report = evaluation(
                store,
                model,
                threshold=consensus_threshold(store) if threshold is None else threshold,
                version=model_version,
                method=method,
            )
        except LookupError as e:
            raise click.ClickException(str(e.args[0])) from None
        out.mkdir(parents=True, exist_ok=True)
        stem = f"model-{model}-v{report['version']}"
        (out / f"{stem}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
        (out / f"{stem}.html").write_text(render_html(report), encoding="utf-8")
        click.echo(render_text(report))
        click.echo(f"written: {out / (stem + '.json')}, {out / (stem + '.html')}")
        return
    import msgspec

    from .consensus import quality_report
    from .render.quality_report import render_html, render_text
    from .store import dashboard
    from .store.predictions import schema_info

    tasks, workers, values = dashboard.long_format(store)
    report = quality_report(
        tasks,
        workers,
        values,
        schema_info(store)[0] or None,
        dashboard.gold_answers(store) or None,
        method=method,
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "quality.json").write_text(
        json.dumps(msgspec.to_builtins(report), indent=2, ensure_ascii=False)
    )
    (out / "quality.html").write_text(render_html(report), encoding="utf-8")
    click.echo(render_text(report))
    click.echo(f"written: {out / 'quality.json'}, {out / 'quality.html'}")


@main.group(help="Model predictions: import, list, order the work by them.")
def predictions() -> None:
    pass


@predictions.command("import", help="Import a model's predictions (CSV, JSONL, JSON or Parquet).")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--model", required=True, help="model name: letters, digits, '.', '_', '-'")
@click.option(
    "--version",
    "version",
    type=click.IntRange(min=1),
    default=None,
    help="merge into this version (default: the model's next version)",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl", "json", "parquet"]),
    default=None,
    help="default: from the file name",
)
@click.option(
    "--min-overlap",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="rows with a time range: least share of a clip they must cover",
)
@hub_data
def predictions_import(file, model, version, fmt, min_overlap, data) -> None:
    from .models.importer import ImportFailed, import_predictions
    from .models.runtime import refresh_priorities

    store = _store(data)
    try:
        report = import_predictions(
            store, file, model, version=version, fmt=fmt, min_overlap=min_overlap
        )
    except ImportFailed as e:
        raise click.ClickException(str(e)) from None
    click.echo(report.summary())
    if report.ok and not report.already_imported:
        outcome = refresh_priorities(store)
        click.echo(f"priority: {outcome.mode} ({outcome.scored} of {outcome.clips} clips scored)")
    if not report.ok:
        sys.exit(1)


@predictions.command("list", help="Models and their versions.")
@hub_data
def predictions_list(data) -> None:
    import time

    from .store.predictions import models

    for info in models(_store(data)):
        for v in info.versions:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(v["created_at"]))
            click.echo(f"{info.model}\tv{v['version']}\t{v['clips']} clips\t{when}")


@predictions.command("prioritise", help="Recompute the work order from the newest predictions.")
@hub_data
def predictions_prioritise(data) -> None:
    from .models.runtime import refresh_priorities

    outcome = refresh_priorities(_store(data))
    click.echo(
        f"priority: {outcome.mode}, model {outcome.model or '-'}: "
        f"{outcome.scored} of {outcome.clips} work clips scored"
    )


@main.command(help="Merge export snapshots of several hubs (sites) into one dataset.")
@click.argument("snapshots", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--out", type=click.Path(path_type=Path), required=True)
def merge(snapshots, out) -> None:
    from .export.merge import MergeError
    from .export.merge import merge as do_merge

    try:
        result = do_merge(list(snapshots), out)
    except MergeError as e:
        raise click.ClickException(str(e)) from None
    click.echo(
        f"{result.out}: {result.clips} clips, {result.annotations} annotations from "
        f"{len(result.sites)} sites ({', '.join(result.sites)}); consensus: {result.method}"
    )


@main.group(help="Gold clips: clips with a known answer, mixed in to measure operators.")
def gold() -> None:
    pass


@gold.command("import", help="Read a CSV with columns clip (sha256 or clip name) and answer.")
@click.argument("csv_file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@hub_data
def gold_import(csv_file, data) -> None:
    import csv
    import json

    store = _store(data)
    values = {
        x["value"] for x in json.loads(store.current_schema_json() or '{"labels": []}')["labels"]
    }
    by_name = {c["name"]: c["sha256"] for c in store.clips()}
    done, problems = 0, []
    with csv_file.open(newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f), start=2):
            clip, answer = (row.get("clip") or "").strip(), (row.get("answer") or "").strip()
            sha = clip if store.clip(clip) else by_name.get(clip)
            if sha is None:
                problems.append(f"line {n}: no clip {clip!r}")
            elif values and answer not in values:
                problems.append(f"line {n}: {answer!r} is not a label of the project")
            else:
                store.set_gold(sha, answer)
                done += 1
    for p in problems:
        click.echo(p, err=True)
    click.echo(f"{done} gold clips set, {len(problems)} lines refused")
    if problems and not done:
        sys.exit(1)


@main.group(help="Operators (the people at the kiosks).")
def operator() -> None:
    pass


@operator.command("add", help="Add an operator, or reset an operator's name and PIN.")
@click.argument("operator_id")
@click.option("--name", default=None, help="display name (default: the id)")
@click.option("--pin", prompt=True, hide_input=True, confirmation_prompt=True, help="4 to 8 digits")
@hub_data
def operator_add(operator_id, name, pin, data) -> None:
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise click.BadParameter("a PIN is 4 to 8 digits", param_hint="--pin")
    _store(data).add_operator(operator_id, name or operator_id, hash_pin(pin))
    click.echo(f"operator {operator_id} ready")


@operator.command("list", help="List operators.")
@hub_data
def operator_list(data) -> None:
    for op in _store(data).operators():
        click.echo(f"{op['id']}\t{op['name']}\t{'active' if op['active'] else 'inactive'}")


@main.group(help="Kiosks: pairing codes and the list of paired kiosks.")
def kiosk() -> None:
    pass


@kiosk.command("pair-code", help="Make a one-time pairing code (valid 5 minutes).")
@hub_data
@click.option(
    "--ttl",
    type=click.FloatRange(min=1, max=86400),
    default=300.0,
    show_default=True,
    help="seconds",
)
@click.option("--digits", type=click.IntRange(6, 12), default=6, show_default=True)
@click.option(
    "--repair",
    "repair",
    default=None,
    metavar="KIOSK",
    help="a code that re-pairs this (already paired) kiosk id with a new key, and nothing else",
)
def kiosk_pair_code(data, ttl, digits, repair) -> None:
    from .store import StoreError

    try:
        click.echo(_store(data).create_pair_code(ttl, digits=digits, kiosk=repair))
    except StoreError as e:
        raise click.ClickException(str(e)) from None


@kiosk.command("list", help="List paired kiosks.")
@hub_data
def kiosk_list(data) -> None:
    for k in _store(data).kiosks():
        click.echo(f"{k['id']}\t{'paired' if k['active'] else 'unpaired'}\t{k['last_seen']}")


@main.group(help="Web accounts for site staff and project leads.")
def user() -> None:
    pass


@user.command("add", help="Add a web user (or reset the password and role).")
@click.argument("username")
@click.option("--role", type=click.Choice(["staff", "lead"]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@hub_data
def user_add(username, role, password, data) -> None:
    from .store import StoreError
    from .store.accounts import add_user

    try:
        add_user(_store(data), username, role, password)
    except StoreError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"user {username} ({role}) ready")


@user.command("remove", help="Delete a web user and end all their sessions.")
@click.argument("username")
@hub_data
def user_remove(username, data) -> None:
    from .store.accounts import remove_user

    if not remove_user(_store(data), username):
        raise click.ClickException(f"no user {username!r}")
    click.echo(f"user {username} removed, sessions ended")


@user.command("sessions", help="List open browser sessions (of one user), or end them.")
@click.argument("username", required=False)
@click.option("--end", is_flag=True, help="end the sessions listed (USERNAME required)")
@hub_data
def user_sessions(username, end, data) -> None:
    import time

    from .store.accounts import end_sessions, sessions

    store = _store(data)
    if end:
        if not username:
            raise click.UsageError("--end needs a USERNAME")
        click.echo(f"{end_sessions(store, username)} sessions of {username} ended")
        return
    for s in sessions(store, username):
        made = time.strftime("%Y-%m-%d %H:%M", time.localtime(s["created_at"]))
        ends = time.strftime("%Y-%m-%d %H:%M", time.localtime(s["expires_at"]))
        click.echo(f"{s['username']}\t{s['role']}\tsince {made}\tuntil {ends}")


@user.command("unlock", help="Lift login lock-outs (of one user name and/or source address).")
@click.argument("username", required=False)
@click.option("--source", default=None, help="only failures from this address")
@hub_data
def user_unlock(username, source, data) -> None:
    from .store.accounts import lift_lockouts

    n = lift_lockouts(_store(data), username, source)
    click.echo(f"{n} failed logins forgotten")


@main.group(help="API tokens for scripts and model services.")
def token() -> None:
    pass


@token.command("create", help="Create an API token; it is shown once.")
@click.option("--role", type=click.Choice(["staff", "lead"]), required=True)
@click.option("--name", default="", help="what the token is for")
@hub_data
def token_create(role, name, data) -> None:
    from .store.accounts import create_token

    click.echo(create_token(_store(data), role, name))


@token.command("revoke", help="Revoke API tokens by name (as given at creation) or the token.")
@click.argument("name_or_token")
@hub_data
def token_revoke(name_or_token, data) -> None:
    from .store.accounts import revoke_token

    n = revoke_token(_store(data), name_or_token)
    if not n:
        raise click.ClickException("no such token (or already revoked)")
    click.echo(f"{n} token(s) revoked")


@token.command("list", help="List API tokens (names and roles; never the tokens).")
@hub_data
def token_list(data) -> None:
    from .store.accounts import tokens

    for t in tokens(_store(data)):
        click.echo(f"{t['name']}\t{t['role']}\t{'revoked' if t['revoked'] else 'active'}")


@main.group(help="The hub's database: migrate it, copy it between SQLite and PostgreSQL.")
def db() -> None:
    pass


@db.command("migrate", help="Bring the database to this hub version's schema.")
@hub_database
def db_migrate(database: Database) -> None:
    from .store.databases import migrate_database

    where, before, after = migrate_database(database.location)
    if before == after:
        click.echo(f"{where}: schema version {after}, already current")
    else:
        click.echo(f"{where}: schema version {before} -> {after}")


@db.command(
    "copy",
    help="Copy a hub's database to another (SQLite <-> PostgreSQL) in one transaction, "
    "verified by row counts and checksums. Stop the hub or let it run: the source is read "
    "in one snapshot and never changed; what the hub writes after it is not copied.",
)
@click.option(
    "--from",
    "source",
    required=True,
    envvar=DB_ENV,
    show_envvar=True,
    help="SQLite file (or data folder) or postgresql://… URL (give --from or --to and the "
    "other comes from the environment)",
)
@click.option(
    "--to",
    "target",
    required=True,
    envvar=DB_ENV,
    show_envvar=True,
    help="SQLite file or postgresql://… URL (from the environment, a password stays off "
    "the command line)",
)
@click.option("--force", is_flag=True, help="replace the rows a non-empty target holds")
def db_copy(source, target, force) -> None:
    from .store.copy import copy_database

    # psycopg warns that it could not end a COPY on a lost connection; the error says it
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    with _one_line_errors():
        report = copy_database(
            source, target, force=force, progress=lambda line: click.echo(line, err=True)
        )
    for line in report.lines():
        click.echo(line)


@db.command("checksum", help="Row counts and checksums of every table (as db copy prints).")
@hub_database
def db_checksum(database: Database) -> None:
    from .store.copy import checksums, combined

    where, version, tables = checksums(database.location)
    width = max([len(t) for t in tables] + [5])
    for name, d in tables.items():
        click.echo(f"{name:<{width}}  {d.rows:>12,}  {d.hex[:16]}")
    click.echo(f"{where}: schema version {version}, checksum {combined(tables)}")


if __name__ == "__main__":
    main()
