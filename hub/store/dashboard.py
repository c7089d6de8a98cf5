"""What the dashboard shows: read-only queries over a `Store`, plus the few writes its pages
need (acknowledge an alert, add an operator, reset a PIN). All SQL for the web lives here.

Hours worked come from two sources, merged: login/logout pairs in `sessions_log` and
stretches of labelling (label timestamps no more than `WORK_GAP` apart), so that work done
while a kiosk was offline still counts.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from protocol.constants import HEARTBEAT_INTERVAL

from .store import Store, StoreError, long_votes

#: A kiosk is online when its last heartbeat is at most this many beats old.
ONLINE_BEATS = 3
#: Labels closer together than this (seconds) belong to one stretch of work.
WORK_GAP = 10 * 60
#: Time on screen counted per label is capped (a clip left open over lunch is not exposure).
EXPOSURE_CAP_S = 10 * 60
#: Login sessions still open are counted up to the kiosk's last heartbeat; at most this long.
OPEN_SESSION_CAP_S = 12 * 3600

Interval = tuple[float, float]


class NotFound(StoreError):
    """No such operator, kiosk or alert."""


class Conflict(StoreError):
    """The thing exists already."""


# ---- time windows ------------------------------------------------------------------------


def day_start(now: float) -> float:
    """Local midnight of the day containing `now`."""
    d = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return d.timestamp()


def week_start(now: float) -> float:
    """Local midnight of the Monday of the week containing `now`."""
    d = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return (d - timedelta(days=d.weekday())).timestamp()


# ---- pure interval arithmetic ------------------------------------------------------------


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union of the intervals (empty ones dropped)."""
    out: list[Interval] = []
    for a, b in sorted(i for i in intervals if i[1] > i[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def clipped_total(intervals: Iterable[Interval], start: float, end: float) -> float:
    """Seconds of the (merged) intervals that fall inside [start, end)."""
    return sum(max(0.0, min(b, end) - max(a, start)) for a, b in merge(intervals))


def label_stretches(times: Sequence[tuple[float, float]], gap: float = WORK_GAP) -> list[Interval]:
    """(created_at, seconds on screen) per label → stretches of continuous work.

    A stretch starts when the first clip of it appeared and ends at its last label."""
    out: list[Interval] = []
    for at, shown in sorted(times):
        begin = at - min(max(shown, 0.0), EXPOSURE_CAP_S)
        if out and begin - out[-1][1] <= gap:
            out[-1] = (out[-1][0], max(out[-1][1], at))
        else:
            out.append((begin, at))
    return out


def session_intervals(
    events: Sequence[tuple[str, str, str, float]], open_until: dict[tuple[str, str], float]
) -> dict[str, list[Interval]]:
    """Login sessions per operator from (kiosk, operator, kind, at) events.

    One operator per kiosk at a time: a login closes whatever was open on that kiosk. A
    session never closed ends at `open_until[(kiosk, operator)]` (its last sign of life)."""
    by_kiosk: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for kiosk, operator, kind, at in events:
        by_kiosk[kiosk].append((operator, kind, at))
    out: dict[str, list[Interval]] = defaultdict(list)
    for kiosk, rows in by_kiosk.items():
        current: tuple[str, float] | None = None
        for operator, kind, at in sorted(rows, key=lambda r: r[2]):
            if kind == "login":
                if current is not None:
                    out[current[0]].append((current[1], at))
                current = (operator, at)
            elif kind == "logout" and current is not None and current[0] == operator:
                out[operator].append((current[1], at))
                current = None
        if current is not None:
            operator, at = current
            end = open_until.get((kiosk, operator), at)
            out[operator].append((at, min(end, at + OPEN_SESSION_CAP_S)))
    return dict(out)


# ---- kiosks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class KioskState:
    id: str
    online: bool
    last_seen: float | None
    operator: str | None
    outbox: int
    cache_bytes: int
    version: str | None
    paired_at: float
    #: the site whose hub saw it last (several sites on one database)
    site: str = ""


def online_within() -> float:
    return ONLINE_BEATS * HEARTBEAT_INTERVAL


def _current_operators(store: Store) -> dict[str, str | None]:
    """Per kiosk: the operator of its latest login, or None after a logout."""
    rows = store.conn.execute(
        "SELECT s.kiosk, s.operator, s.kind FROM sessions_log s JOIN ("
        "  SELECT kiosk, max(id) AS id FROM sessions_log GROUP BY kiosk) last "
        "ON last.id = s.id"
    ).fetchall()
    return {kiosk: (operator if kind == "login" else None) for kiosk, operator, kind in rows}


def kiosks(store: Store, now: float | None = None, site: str | None = None) -> list[KioskState]:
    """Paired kiosks (at `site` only, when given); online = a heartbeat within
    `ONLINE_BEATS` heartbeat intervals."""
    now = time.time() if now is None else now
    current = _current_operators(store)
    out = []
    for row in store.conn.execute(
        "SELECT id, last_seen, operator, outbox, cache_bytes, version, paired_at, site "
        "FROM kiosks WHERE active = 1 AND (CAST(? AS TEXT) IS NULL OR site = ?) ORDER BY id",
        (site, site),
    ):
        kiosk_id, last_seen, operator, outbox, cache_bytes, version, paired_at, at = row
        online = last_seen is not None and now - last_seen <= online_within()
        who = current.get(kiosk_id, operator) if online else None
        out.append(
            KioskState(
                id=kiosk_id,
                online=online,
                last_seen=last_seen,
                operator=who,
                outbox=outbox or 0,
                cache_bytes=cache_bytes or 0,
                version=version,
                paired_at=paired_at,
                site=at,
            )
        )
    return out


@dataclass(frozen=True)
class SiteRow:
    site: str
    kiosks: int
    online: int
    labels: int
    labels_last_hour: int


def sites(store: Store, now: float | None = None) -> list[SiteRow]:
    """Per site sharing the database (and this hub's own): its kiosks, how many are online,
    its labels and those of the last hour."""
    now = time.time() if now is None else now
    labels = {
        str(site): (int(n), int(hour))
        for site, n, hour in store.conn.execute(
            "SELECT site, count(*), coalesce(sum(CASE WHEN received_at > ? THEN 1 ELSE 0 END), 0)"
            " FROM labels WHERE retracted = 0 GROUP BY site",
            (now - 3600,),
        )
    }
    kiosk_rows: dict[str, list[int]] = {}
    for site, last_seen in store.conn.execute(
        "SELECT site, last_seen FROM kiosks WHERE active = 1"
    ):
        row = kiosk_rows.setdefault(str(site), [0, 0])
        row[0] += 1
        row[1] += last_seen is not None and now - last_seen <= online_within()
    names = sorted((set(labels) | set(kiosk_rows) | {store.site}) - {""})
    return [
        SiteRow(
            site=name,
            kiosks=kiosk_rows.get(name, [0, 0])[0],
            online=kiosk_rows.get(name, [0, 0])[1],
            labels=labels.get(name, (0, 0))[0],
            labels_last_hour=labels.get(name, (0, 0))[1],
        )
        for name in names
    ]


@dataclass(frozen=True)
class PairCode:
    code: str
    expires_at: float


def open_pair_codes(store: Store, now: float | None = None) -> list[PairCode]:
    now = time.time() if now is None else now
    return [
        PairCode(code, expires)
        for code, expires in store.conn.execute(
            "SELECT code, expires_at FROM pair_codes WHERE used_by IS NULL AND expires_at > ? "
            "ORDER BY created_at DESC",
            (now,),
        )
    ]


# ---- progress ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    clips: int
    done: int  # clips with all the votes they want
    backlog: int  # clips still wanting votes
    votes_needed: int
    labels: int
    labels_last_hour: int
    alerts_open: int
    operators_active: int


def totals(store: Store) -> dict[str, int]:
    """Clips in the project and labels stored (the API's status)."""
    clips = store.conn.execute("SELECT count(*) FROM clips").fetchone()[0]
    return {"clips": clips, "labels": store.count_labels()}


def counts(store: Store, now: float | None = None, site: str | None = None) -> Counts:
    """The project's progress; `labels` and `labels_last_hour` of `site` only, when given
    (clips, votes needed and alerts are the program's, whichever site gave the votes)."""
    now = time.time() if now is None else now
    clips, done, votes_needed = store.conn.execute(
        "SELECT count(*), coalesce(sum(CASE WHEN n_labels >= want THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN want > n_labels THEN want - n_labels ELSE 0 END), 0) FROM clips"
    ).fetchone()
    labels, last_hour = store.conn.execute(
        "SELECT count(*), coalesce(sum(CASE WHEN received_at > ? THEN 1 ELSE 0 END), 0) "
        "FROM labels WHERE retracted = 0 AND (CAST(? AS TEXT) IS NULL OR site = ?)",
        (now - 3600, site, site),
    ).fetchone()
    alerts_open = store.conn.execute(
        "SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL"
    ).fetchone()[0]
    active = store.conn.execute("SELECT count(*) FROM operators WHERE active = 1").fetchone()[0]
    return Counts(
        clips=clips,
        done=done,
        backlog=clips - done,
        votes_needed=votes_needed,
        labels=labels,
        labels_last_hour=last_hour,
        alerts_open=alerts_open,
        operators_active=active,
    )


def throughput(
    store: Store, now: float | None = None, hours: int = 24, site: str | None = None
) -> list[tuple[float, int]]:
    """Labels received per clock hour (at `site` only, when given), the last `hours` hours,
    oldest first (zeros included)."""
    now = time.time() if now is None else now
    top = int(now // 3600) * 3600
    first = top - (hours - 1) * 3600
    got = dict(
        store.conn.execute(
            f"SELECT {store.dialect.to_int('received_at / 3600')} * 3600, count(*) FROM labels "
            "WHERE retracted = 0 AND received_at >= ? AND (CAST(? AS TEXT) IS NULL OR site = ?) "
            "GROUP BY 1",
            (first, site, site),
        ).fetchall()
    )
    return [(float(h), int(got.get(h, 0))) for h in range(first, top + 1, 3600)]


def label_counts_by_operator(store: Store, since: float) -> tuple[dict[str, int], dict[str, int]]:
    """(labels since `since`, labels in total) per operator."""
    rows = store.conn.execute(
        "SELECT operator, coalesce(sum(CASE WHEN created_at >= ? THEN 1 ELSE 0 END), 0), "
        "count(*) FROM labels "
        "WHERE retracted = 0 GROUP BY operator",
        (since,),
    ).fetchall()
    return {op: n for op, n, _ in rows}, {op: n for op, _, n in rows}


def open_alerts_by_operator(store: Store) -> dict[str, int]:
    return dict(
        store.conn.execute(
            "SELECT operator, count(*) FROM alerts WHERE acknowledged_at IS NULL GROUP BY operator"
        ).fetchall()
    )


def label_distribution(store: Store) -> dict[str, int]:
    """Votes per label value (a multi-choice label counts once for each value)."""
    elements = store.dialect.elements('labels."values"')
    return dict(
        store.conn.execute(
            f"SELECT j.value, count(*) FROM labels, {elements} j "
            "WHERE labels.retracted = 0 GROUP BY j.value"
        ).fetchall()
    )


# ---- operators -----------------------------------------------------------------------------


def _sessions_and_labels(
    store: Store, start: float, end: float, operator: str | None = None
) -> tuple[list[tuple[str, str, str, float]], list[tuple[str, str, float, float]]]:
    """Session events and (operator, kiosk, created_at, seconds on screen) labels around
    [start, end) (from a day earlier, so that sessions begun before `start` are seen)."""
    since = start - 86400
    extra: tuple[str, ...]
    if operator is None:
        where_op, extra = "", ()
        events = store.conn.execute(
            "SELECT kiosk, operator, kind, at FROM sessions_log WHERE at >= ? AND at < ? "
            "ORDER BY at, id",
            (since, end),
        ).fetchall()
    else:
        where_op, extra = " AND operator = ?", (operator,)
        # a login by someone else on the same kiosk ends this operator's session there
        events = store.conn.execute(
            "SELECT kiosk, operator, kind, at FROM sessions_log WHERE at >= ? AND at < ? "
            "AND kiosk IN (SELECT DISTINCT kiosk FROM sessions_log WHERE operator = ?) "
            "ORDER BY at, id",
            (since, end, operator),
        ).fetchall()
    labels = store.conn.execute(
        "SELECT operator, kiosk, created_at, "
        f"coalesce({store.dialect.number('telemetry', 'time_to_label_s')}, 0) FROM labels "
        f"WHERE retracted = 0 AND created_at >= ? AND created_at < ?{where_op}",
        (since, end, *extra),
    ).fetchall()
    return events, labels


def work_intervals(
    store: Store, start: float, end: float, now: float, operator: str | None = None
) -> dict[str, list[Interval]]:
    """Merged intervals of work per operator that touch [start, end)."""
    events, labels = _sessions_and_labels(store, start, end, operator)
    last_label: dict[tuple[str, str], float] = {}
    per_op: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for op, kiosk, at, shown in labels:
        per_op[op].append((at, float(shown or 0)))
        last_label[(kiosk, op)] = max(last_label.get((kiosk, op), 0.0), at)
    seen = dict(store.conn.execute("SELECT id, last_seen FROM kiosks").fetchall())
    open_until = {}
    for kiosk, op, _kind, _at in events:
        sign_of_life = max(seen.get(kiosk) or 0.0, last_label.get((kiosk, op), 0.0))
        open_until[(kiosk, op)] = min(now, sign_of_life)
    sessions = session_intervals(events, open_until)
    out: dict[str, list[Interval]] = {}
    for op in set(sessions) | set(per_op):
        if operator is not None and op != operator:
            continue
        out[op] = merge([*sessions.get(op, []), *label_stretches(per_op.get(op, []))])
    return out


def hours_worked(
    store: Store, start: float, end: float, now: float | None = None
) -> dict[str, float]:
    """Hours per operator inside [start, end)."""
    now = time.time() if now is None else now
    return {
        op: clipped_total(iv, start, end) / 3600
        for op, iv in work_intervals(store, start, end, now).items()
    }


@dataclass(frozen=True)
class OperatorStats:
    id: str
    name: str
    active: bool
    locked: bool
    hours_today: float
    hours_week: float
    clips_today: int
    clips_week: int
    clips_total: int
    exposure_min_today: float
    breaks_today: int | None  # None: the kiosks do not report breaks to this hub
    alerts_open: int
    alerts_total: int
    gold_accuracy: float | None = None
    agreement: float | None = None
    break_min_today: float | None = None  # minutes of those breaks
    enforced_breaks_today: int | None = None  # of those breaks, made by the schedule


def _label_counts(store: Store, since: float) -> dict[str, int]:
    return dict(
        store.conn.execute(
            "SELECT operator, count(*) FROM labels WHERE retracted = 0 AND created_at >= ? "
            "GROUP BY operator",
            (since,),
        ).fetchall()
    )


def operator_stats(
    store: Store,
    now: float | None = None,
    quality: dict[str, dict[str, Any]] | None = None,
) -> list[OperatorStats]:
    """One row per operator. `quality` (per operator: agreement, gold_accuracy) comes from
    the quality report when there is one."""
    now = time.time() if now is None else now
    today, week = day_start(now), week_start(now)
    hours_today = hours_worked(store, today, now + 1, now)
    hours_week = hours_worked(store, week, now + 1, now)
    clips_today, clips_week, clips_total = (
        _label_counts(store, today),
        _label_counts(store, week),
        _label_counts(store, 0.0),
    )
    shown = store.dialect.number("telemetry", "time_to_label_s")
    exposure = dict(
        store.conn.execute(
            f"SELECT operator, sum({store.dialect.least}(coalesce({shown}, 0), ?)) / 60.0 "
            "FROM labels WHERE retracted = 0 AND created_at >= ? GROUP BY operator",
            (EXPOSURE_CAP_S, today),
        ).fetchall()
    )
    # kiosks that report breaks (BreakTaken) have done so once there is any on record
    breaks_known = store.conn.execute("SELECT 1 FROM breaks LIMIT 1").fetchone()
    breaks: dict[str, tuple[int, float, int]] = {
        op: (n, seconds, enforced)
        for op, n, seconds, enforced in store.conn.execute(
            "SELECT operator, count(*), sum(seconds), sum(enforced) FROM breaks "
            "WHERE started_at >= ? GROUP BY operator",
            (today,),
        )
    }
    alerts: dict[str, tuple[int, int]] = {
        op: (n_open, n)
        for op, n_open, n in store.conn.execute(
            "SELECT operator, sum(CASE WHEN acknowledged_at IS NULL THEN 1 ELSE 0 END), "
            "count(*) FROM alerts GROUP BY operator"
        )
    }
    quality = quality or {}
    out = []
    for op in store.operators():
        q = quality.get(op["id"], {})
        out.append(
            OperatorStats(
                id=op["id"],
                name=op["name"],
                active=bool(op["active"]),
                locked=op["locked_until"] > now,
                hours_today=round(hours_today.get(op["id"], 0.0), 2),
                hours_week=round(hours_week.get(op["id"], 0.0), 2),
                clips_today=clips_today.get(op["id"], 0),
                clips_week=clips_week.get(op["id"], 0),
                clips_total=clips_total.get(op["id"], 0),
                exposure_min_today=round(exposure.get(op["id"]) or 0.0, 1),
                breaks_today=breaks.get(op["id"], (0, 0, 0))[0] if breaks_known else None,
                break_min_today=round(breaks.get(op["id"], (0, 0.0, 0))[1] / 60, 1)
                if breaks_known
                else None,
                enforced_breaks_today=breaks.get(op["id"], (0, 0, 0))[2] if breaks_known else None,
                alerts_open=alerts.get(op["id"], (0, 0))[0],
                alerts_total=alerts.get(op["id"], (0, 0))[1],
                gold_accuracy=q.get("gold_accuracy"),
                agreement=q.get("agreement"),
            )
        )
    return out


def operator_exists(store: Store, operator_id: str) -> bool:
    return store.operator(operator_id) is not None


def add_new_operator(store: Store, operator_id: str, name: str, pin_hash: str) -> None:
    """Add an operator; refuses an id that is taken (`Store.add_operator` would overwrite)."""
    with store.transaction():
        if store.operator(operator_id) is not None:
            raise Conflict(f"operator {operator_id!r} exists already")
        store.add_operator(operator_id, name, pin_hash)


def set_pin(store: Store, operator_id: str, pin_hash: str) -> None:
    """A new PIN; clears failed attempts and any lock-out."""
    with store.transaction():
        cur = store.conn.execute(
            "UPDATE operators SET pin_hash = ?, failed = 0, locked_until = 0 WHERE id = ?",
            (pin_hash, operator_id),
        )
        if cur.rowcount != 1:
            raise NotFound(f"no operator {operator_id!r}")


def set_active(store: Store, operator_id: str, active: bool) -> None:
    with store.transaction():
        if store.operator(operator_id) is None:
            raise NotFound(f"no operator {operator_id!r}")
        store.set_operator_active(operator_id, active)


def unpair(store: Store, kiosk_id: str) -> None:
    with store.transaction():
        if not store.is_paired(kiosk_id):
            raise NotFound(f"no paired kiosk {kiosk_id!r}")
        store.unpair_kiosk(kiosk_id)


# ---- alerts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRow:
    uuid: str
    operator: str
    operator_name: str
    clip: str
    clip_name: str
    kiosk: str
    created_at: float
    acknowledged_at: float | None


def alerts(store: Store, open_only: bool = False, limit: int = 200) -> list[AlertRow]:
    where = "WHERE a.acknowledged_at IS NULL" if open_only else ""
    rows = store.conn.execute(
        "SELECT a.uuid, a.operator, coalesce(o.name, a.operator), a.clip, coalesce(c.name, ''), "
        "a.kiosk, a.created_at, a.acknowledged_at FROM alerts a "
        "LEFT JOIN operators o ON o.id = a.operator LEFT JOIN clips c ON c.sha256 = a.clip "
        f"{where} ORDER BY a.acknowledged_at IS NOT NULL, a.created_at DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [AlertRow(*row) for row in rows]


def acknowledge_alert(store: Store, uuid: str, now: float | None = None) -> bool:
    """True if the alert was open and is now acknowledged; unknown uuid → NotFound."""
    now = time.time() if now is None else now
    with store.transaction():
        if store.conn.execute("SELECT 1 FROM alerts WHERE uuid = ?", (uuid,)).fetchone() is None:
            raise NotFound(f"no alert {uuid!r}")
        cur = store.conn.execute(
            "UPDATE alerts SET acknowledged_at = ? WHERE uuid = ? AND acknowledged_at IS NULL",
            (now, uuid),
        )
    return cur.rowcount == 1


# ---- work-experience statement -------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    operator: str
    name: str
    start: float
    end: float
    hours: float
    days_worked: int
    clips: int
    sessions: int
    kiosks: list[str]
    first_activity: float | None
    last_activity: float | None
    clips_per_hour: float | None
    exposure_min: float
    alerts: int
    gold_accuracy: float | None = None
    agreement: float | None = None
    by_day: list[tuple[str, float, int]] = field(default_factory=list)  # date, hours, clips
    breaks: int = 0
    break_min: float = 0.0
    #: (started_at, minutes, enforced, kind) of each break in the period, oldest first
    break_list: list[tuple[float, float, bool, str]] = field(default_factory=list)


def first_activity(store: Store, operator_id: str) -> float | None:
    row = store.conn.execute(
        "SELECT min(t) FROM (SELECT min(created_at) AS t FROM labels WHERE operator = ? "
        "UNION ALL SELECT min(at) FROM sessions_log WHERE operator = ?) AS firsts",
        (operator_id, operator_id),
    ).fetchone()
    return row[0]


def statement(
    store: Store,
    operator_id: str,
    start: float,
    end: float,
    now: float | None = None,
    quality: dict[str, Any] | None = None,
) -> Statement:
    """What an operator did in [start, end): hours, days, clips, quality. Unknown → NotFound."""
    now = time.time() if now is None else now
    op = store.operator(operator_id)
    if op is None:
        raise NotFound(f"no operator {operator_id!r}")
    intervals = work_intervals(store, start, end, now, operator_id).get(operator_id, [])
    inside = [(max(a, start), min(b, end)) for a, b in intervals if b > start and a < end]
    shown = store.dialect.number("telemetry", "time_to_label_s")
    rows = store.conn.execute(
        f"SELECT created_at, kiosk, {store.dialect.least}(coalesce({shown}, 0), ?) FROM labels WHERE operator = ? AND retracted = 0 AND created_at >= ? "
        "AND created_at < ? ORDER BY created_at",
        (EXPOSURE_CAP_S, operator_id, start, end),
    ).fetchall()
    sessions = store.conn.execute(
        "SELECT count(*) FROM sessions_log WHERE operator = ? AND kind = 'login' "
        "AND at >= ? AND at < ?",
        (operator_id, start, end),
    ).fetchone()[0]
    session_kiosks = {
        k
        for (k,) in store.conn.execute(
            "SELECT DISTINCT kiosk FROM sessions_log WHERE operator = ? AND at >= ? AND at < ?",
            (operator_id, start, end),
        )
    }
    alerts_n = store.conn.execute(
        "SELECT count(*) FROM alerts WHERE operator = ? AND created_at >= ? AND created_at < ?",
        (operator_id, start, end),
    ).fetchone()[0]
    break_rows = store.conn.execute(
        "SELECT started_at, seconds, enforced, kind FROM breaks WHERE operator = ? "
        "AND started_at >= ? AND started_at < ? ORDER BY started_at",
        (operator_id, start, end),
    ).fetchall()
    per_day: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for a, b in inside:
        cursor = a
        while cursor < b:
            midnight = day_start(cursor) + 86400
            # DST-safe next midnight
            midnight = day_start(midnight + 3 * 3600)
            stop = min(b, midnight)
            per_day[datetime.fromtimestamp(cursor).date().isoformat()][0] += stop - cursor
            cursor = stop
    for at, _kiosk, _shown in rows:
        per_day[datetime.fromtimestamp(at).date().isoformat()][1] += 1
    total = sum(b - a for a, b in inside)
    hours = total / 3600
    times = [a for a, _ in inside] + [r[0] for r in rows]
    ends = [b for _, b in inside] + [r[0] for r in rows]
    quality = quality or {}
    return Statement(
        operator=operator_id,
        name=op["name"],
        start=start,
        end=end,
        hours=round(hours, 2),
        days_worked=sum(1 for h, c in per_day.values() if h > 0 or c > 0),
        clips=len(rows),
        sessions=sessions,
        kiosks=sorted(session_kiosks | {r[1] for r in rows}),
        first_activity=min(times) if times else None,
        last_activity=max(ends) if ends else None,
        clips_per_hour=round(len(rows) / hours, 1) if hours >= 0.05 else None,
        exposure_min=round(sum(r[2] for r in rows) / 60, 1),
        alerts=alerts_n,
        gold_accuracy=quality.get("gold_accuracy"),
        agreement=quality.get("agreement"),
        by_day=[(d, round(v[0] / 3600, 2), int(v[1])) for d, v in sorted(per_day.items())],
        breaks=len(break_rows),
        break_min=round(sum(r[1] for r in break_rows) / 60, 1),
        break_list=[(at, round(sec / 60, 1), bool(enf), kind) for at, sec, enf, kind in break_rows],
    )


# ---- quality input -------------------------------------------------------------------------


def votes(store: Store) -> list[tuple[str, str, list[str], float]]:
    """(clip, operator, values, created_at) of every label that counts."""
    return [
        (clip, op, json.loads(values), created)
        for clip, op, values, created in store.conn.execute(
            'SELECT clip, operator, "values", created_at FROM labels WHERE retracted = 0 '
            "ORDER BY created_at"
        )
    ]


def long_format(store: Store, upto: int | None = None) -> tuple[list[str], list[str], list[str]]:
    """(clip, operator, value) per vote, the consensus engine's input; a multi-choice label
    gives one vote per value. `upto`: only labels up to that row (`Store.last_label_rowid`)."""
    bound = store.labels_upto(upto)
    return long_votes(
        store.conn.execute(
            f'SELECT clip, operator, "values" FROM labels WHERE retracted = 0{bound} '
            "ORDER BY received_at"
        )
    )


def gold_answers(store: Store) -> dict[str, str]:
    return dict(store.conn.execute("SELECT sha256, gold FROM clips WHERE gold IS NOT NULL"))


def labels_version(store: Store) -> tuple[Any, ...]:
    """Changes whenever a label arrives or is retracted, or gold changes (a cache key)."""
    return tuple(
        store.conn.execute(
            "SELECT (SELECT count(*) FROM labels), (SELECT max(received_at) FROM labels), "
            "(SELECT count(*) FROM labels WHERE retracted = 1), "
            f"(SELECT count(*) || ':' || coalesce({store.dialect.concat('gold', ',')}, '') "
            "FROM clips "
            "WHERE gold IS NOT NULL)"
        ).fetchone()
    )


def operator_names(store: Store) -> dict[str, str]:
    return dict(store.conn.execute("SELECT id, name FROM operators"))
