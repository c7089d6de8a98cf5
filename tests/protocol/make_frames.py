"""Record one frame of every message type, as the protocol code on the import path encodes
it, for the compatibility tests (`test_compat.py`). Run with an older release's tree first
on the path to keep that release's frames:

    git archive <release> | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old python tests/protocol/make_frames.py tests/protocol/frames_v1

Each frame is `<name>.msgpack` (the bytes on the wire) with `<name>.json` beside it (the
message as plain data, to compare what a newer side decodes). Values are fixed, not random,
so that a re-run gives the same files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import msgspec

from protocol import codec
from protocol import messages as m

SHA = "ab" * 32
LABELS = [m.LabelDef(value="gewelddadig", nl="gewelddadig", en="violent", key="1")]
SCHEMA = m.ProjectSchema(name="geweld-pilot", version=3, labels=LABELS, redundancy=3)
ROSTER = [
    m.RosterEntry(
        operator="op1", name="One", pin_hash="scrypt$1024$8$1$" + "00" * 16 + "$" + "11" * 32
    )
]
LABEL = m.Label(
    uuid="11111111-2222-3333-4444-555555555555",
    operator="op1",
    clip=SHA,
    schema_version=3,
    values=["gewelddadig"],
    segments=[m.Segment(1.0, 2.5, "gewelddadig")],
    telemetry={"time_to_label_s": 2.5, "replays": 1},
    created_at=1_790_000_000.25,
    lease_id="lease-1",
)
FRAMES: dict[str, msgspec.Struct] = {
    "hello": m.Hello(kiosk_id="k1", version="0.1.0", capabilities=["labels", "fetch"]),
    "hello_pair": m.Hello(kiosk_id="k1", version="pairing", pair_code="123456"),
    "heartbeat": m.Heartbeat(outbox=3, cache_bytes=1024, operator="op1"),
    "login": m.Login(operator="op1", pin="2468"),
    "logout": m.Logout(operator="op1"),
    "request_work": m.RequestWork(operator="op1", count=5, exclude=[SHA]),
    "fetch": m.Fetch(sha256=SHA, offset=0, credit=4, chunk_size=65536),
    "label": LABEL,
    "labels": m.LabelBatch(labels=[LABEL]),
    "retract": m.Retract(uuid=LABEL.uuid, operator="op1"),
    "alert": m.Alert(uuid="a1", operator="op1", clip=SHA, created_at=1_790_000_001.0),
    "break": m.BreakTaken(
        uuid="b1", operator="op1", started_at=1_790_000_002.0, seconds=600.0, kind="voluntary"
    ),
    "welcome": m.Welcome(hub_id="hub-1", project=SCHEMA, roster=ROSTER, server_time=1.5),
    "login_result": m.LoginResult(operator="op1", ok=True, name="One", exposure_min=3.5),
    "assign": m.Assign(
        operator="op1",
        lease_id="lease-1",
        expires_at=1_790_001_000.0,
        clips=[m.ClipRef(clip_id=SHA, sha256=SHA, size=1000, name="clip 1", duration=10.0)],
    ),
    "chunk": m.Chunk(sha256=SHA, offset=0, size=4, data=b"\x00\x01\x02\x03"),
    "ack": m.Ack(uuids=[LABEL.uuid]),
    "error": m.Error(code="not_logged_in", detail="log in first", ref="op1"),
    "hub_beat": m.Heartbeat(own=True),
}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, msg in FRAMES.items():
        (out / f"{name}.msgpack").write_bytes(codec.encode(msg))
        data = msgspec.to_builtins(msg, enc_hook=lambda b: b.hex())
        (out / f"{name}.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
