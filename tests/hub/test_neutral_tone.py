"""Neutral-clip interleaving, the hub's part: the project setting, checked, and each assigned
clip's tone (gold answer or consensus so far) sent to the kiosk, which picks the next clip."""

from __future__ import annotations

import hashlib
from pathlib import Path

import msgspec
import pytest

from hub.project import ProjectError, load_project
from hub.service import HubService
from protocol import messages as m
from protocol.pins import hash_pin
from tests.conftest import PROJECTS

from .conftest import make_service, open_store


def service_for(tmp_path: Path, **wellbeing: object) -> HubService:
    project, _ = load_project(PROJECTS / "geweld.toml")
    project = msgspec.structs.replace(
        project, wellbeing=msgspec.structs.replace(project.wellbeing, **wellbeing)
    )
    store = open_store(tmp_path / "hub.db")
    for i in range(4):
        data = bytes([i]) * 100
        store.add_clip(hashlib.sha256(data).hexdigest(), 100, 2.0, f"clip {i}", want=3)
    store.add_operator("op1", "One", hash_pin("1234", n=2**10))
    store.pair_kiosk("k1")
    return make_service(store, tmp_path / "media", project)


def assign(service: HubService) -> dict[str, str]:
    service.handle("k1", m.Hello(kiosk_id="k1", version="t"))
    assert service.handle("k1", m.Login(operator="op1", pin="1234"))[0].ok
    (reply,) = service.handle("k1", m.RequestWork(operator="op1", count=4))
    return {c.name: c.tone for c in reply.clips}


def test_clips_carry_their_tone_when_the_project_interleaves(tmp_path: Path) -> None:
    service = service_for(tmp_path, interleave_neutral=True, neutral_labels=["niet_gewelddadig"])
    assert service.schema.interleave_neutral
    assert service.schema.neutral_labels == ["niet_gewelddadig"]
    clips = [c["sha256"] for c in service.store.clips()]
    service.store.set_consensus(
        [("niet_gewelddadig", 0.9, 3, clips[0]), ("gewelddadig", 0.7, 3, clips[1])]
    )
    tones = assign(service)
    assert tones == {"clip 0": "neutral", "clip 1": "disturbing", "clip 2": "", "clip 3": ""}


def test_no_tone_is_sent_when_the_project_does_not_interleave(tmp_path: Path) -> None:
    service = service_for(tmp_path)
    clips = [c["sha256"] for c in service.store.clips()]
    service.store.set_consensus([("niet_gewelddadig", 0.9, 3, clips[0])])
    assert set(assign(service).values()) == {""}


def test_bad_interleave_settings_are_refused_naming_the_file(tmp_path: Path) -> None:
    text = (PROJECTS / "geweld.toml").read_text()
    assert 'neutral_labels = ["niet_gewelddadig"]' in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('["niet_gewelddadig"]', '["calm"]'))
    with pytest.raises(ProjectError, match=r"bad.toml: wellbeing.neutral_labels .*calm"):
        load_project(bad)
    text = text.replace("interleave_neutral = false", "interleave_neutral = true")
    bad.write_text(text.replace('["niet_gewelddadig"]', "[]"))
    with pytest.raises(ProjectError, match="needs wellbeing.neutral_labels"):
        load_project(bad)
