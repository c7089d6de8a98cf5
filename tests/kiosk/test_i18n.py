"""The translation table: both languages complete, same placeholders, every key used exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

from kiosk.i18n import LANGUAGES, STRINGS, Translator

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_every_key() -> None:
    for key, texts in STRINGS.items():
        assert set(texts) == set(LANGUAGES), key
        for language in LANGUAGES:
            assert texts[language].strip(), f"{key} is empty in {language}"


def test_both_languages_take_the_same_placeholders() -> None:
    for key, texts in STRINGS.items():
        assert placeholders(texts["nl"]) == placeholders(texts["en"]), key


def test_every_key_the_screens_ask_for_exists() -> None:
    source = "\n".join(p.read_text() for p in KIOSK.rglob("*.py"))
    literal = set(re.findall(r"\bt\(\s*\"([a-z_]+)\"", source))
    literal |= set(re.findall(r"(?:feedback|_message)\(\s*\"([a-z_]+)\"", source))
    literal |= set(re.findall(r"\(\"(sum_[a-z_]+)\"", source))
    literal.discard("")
    assert literal, "the pattern found nothing"
    missing = sorted(k for k in literal if k not in STRINGS)
    assert not missing
    for kind in ("single", "multi", "segments"):
        assert f"kind_{kind}" in STRINGS
    for kind in ("enforced", "voluntary", "offered"):
        assert f"break_title_{kind}" in STRINGS and f"break_message_{kind}" in STRINGS
    for status in ("online", "offline", "syncing"):
        assert f"status_{status}" in STRINGS


def test_translator_defaults_to_dutch_and_toggles() -> None:
    t = Translator("xx")
    assert t.language == "nl" and t("pin") == "Pincode"
    assert t.toggle() == "en" and t("pin") == "PIN"
    assert t("watch_first", seconds=3).startswith("Watch more")
    assert t.label("gewelddadig", "violent") == "violent"
