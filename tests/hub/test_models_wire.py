"""Operators never see the model's guess unless the project is in review mode — checked on
the wire: every Assign frame the hub sends, as bytes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import msgspec

from hub.models.importer import import_predictions
from hub.models.runtime import suggestions
from hub.project import load_project, to_schema
from hub.service import HubService
from protocol import messages as m
from protocol.codec import decode, encode
from protocol.pins import hash_pin
from tests.conftest import PROJECTS

from .conftest import make_service, open_store

V, N = "gewelddadig", "niet_gewelddadig"
MODEL = "violence-net"
CLIPS = 12


def make(tmp_path: Path, review: bool) -> tuple[HubService, dict[str, str]]:
    project, text = load_project(PROJECTS / "geweld.toml")
    project = msgspec.structs.replace(project, review_mode=review)
    schema = to_schema(project, 1)
    store = open_store(tmp_path / "hub.db")
    store.project_version(project.name, text, json.dumps(msgspec.to_builtins(schema)))
    guesses = {}
    for i in range(CLIPS):
        sha = hashlib.sha256(f"clip{i}".encode()).hexdigest()
        store.add_clip(sha, 10, 1.0, f"c{i}", want=project.redundancy)
        if i < CLIPS - 2:  # two clips without a prediction
            guesses[sha] = V if i % 3 else N
    rows = [{"clip": c, "label": g, "scores": {g: 0.8}} for c, g in guesses.items()]
    assert import_predictions(store, json.dumps(rows).encode(), MODEL).clips == len(guesses)
    for i in range(1, 4):
        store.add_operator(f"op{i}", f"Op {i}", hash_pin("1234", n=2**10))
    store.pair_kiosk("k")
    service = make_service(store, tmp_path, project)
    service.handle("k", m.Hello(kiosk_id="k", version="t"))
    return service, guesses


def assign_frames(service: HubService) -> list[bytes]:
    """Every Assign the hub sends three operators until the work runs out, as frames."""
    frames = []
    for op in ("op1", "op2", "op3"):
        (ok,) = service.handle("k", m.Login(operator=op, pin="1234"))
        assert ok.ok
        while True:
            (reply,) = service.handle("k", m.RequestWork(operator=op, count=5))
            assert isinstance(reply, m.Assign)
            if not reply.clips:
                break
            frames.append(encode(reply))
    return frames


def test_no_model_label_on_the_wire_without_review_mode(tmp_path: Path) -> None:
    service, guesses = make(tmp_path, review=False)
    frames = assign_frames(service)
    sent = [c for f in frames for c in decode(f, m.HubToKiosk).clips]
    assert len(sent) == CLIPS * 3  # every clip went out, to each of the three operators
    for frame in frames:
        # neither label value nor the model's name is anywhere in the bytes
        for secret in (V.encode(), N.encode(), MODEL.encode()):
            assert secret not in frame
    assert all(c.answer is None for c in sent)
    for c in sent:
        assert getattr(c, "suggestion", None) is None


def test_review_mode_sends_the_models_label(tmp_path: Path) -> None:
    service, guesses = make(tmp_path, review=True)
    sent = [c for f in assign_frames(service) for c in decode(f, m.HubToKiosk).clips]
    assert len(sent) == CLIPS * 3
    for c in sent:
        assert c.suggestion == guesses.get(c.clip_id)  # None where the model said nothing
        assert c.answer is None  # the gold answer field stays for training only


def test_suggestions_are_the_newest_prediction(tmp_path: Path) -> None:
    service, guesses = make(tmp_path, review=True)
    store = service.store
    some = list(guesses)[:3]
    assert suggestions(store, some) == {c: guesses[c] for c in some}
    flipped = [{"clip": some[0], "label": N if guesses[some[0]] == V else V}]
    assert import_predictions(store, json.dumps(flipped).encode(), MODEL).version == 2
    assert suggestions(store, some)[some[0]] != guesses[some[0]]
    assert suggestions(store, some, model="other") == {}
