"""Train / validation / test splits grouped by source video.

A source's split is a pure function of (seed, source id): the first 8 bytes of
SHA-256(seed, source id) as a number in [0, 1) against the cumulative ratios. So
every clip of a source lands in the same split (no leakage), the same seed gives the
same splits, and a clip or source added later never moves an existing one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

SPLITS = ("train", "validation", "test")
DEFAULT_RATIOS: Mapping[str, float] = {"train": 0.8, "validation": 0.1, "test": 0.1}


def source_key(source_sha256: str | None, source_name: str | None, clip_sha256: str) -> str:
    """The id that groups clips: the source's sha256, else its name, else the clip itself."""
    if source_sha256:
        return source_sha256
    if source_name:
        return "name:" + source_name
    return "clip:" + clip_sha256


def unit_interval(seed: int, key: str) -> float:
    digest = hashlib.sha256(f"{seed}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def split_of(seed: int, key: str, ratios: Mapping[str, float] = DEFAULT_RATIOS) -> str:
    x = unit_interval(seed, key)
    total = sum(ratios.values())
    edge = 0.0
    names = [s for s in SPLITS if s in ratios]
    for name in names:
        edge += ratios[name] / total
        if x < edge:
            return name
    return names[-1]


def assign_splits(
    keys: Iterable[str], seed: int, ratios: Mapping[str, float] = DEFAULT_RATIOS
) -> dict[str, str]:
    """Split per distinct source key."""
    return {key: split_of(seed, key, ratios) for key in set(keys)}
