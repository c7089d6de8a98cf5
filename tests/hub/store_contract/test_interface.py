"""`Store` offers every method of `hub.store.interface.HubStore`, with the same parameters."""

from __future__ import annotations

import inspect

import pytest

from hub.store import Store
from hub.store.interface import CONCERNS, HubStore


def _methods(proto: type) -> list[str]:
    return [
        name for name, value in vars(proto).items() if callable(value) and not name.startswith("_")
    ]


@pytest.mark.parametrize("concern", CONCERNS, ids=lambda c: c.__name__)
def test_store_has_the_methods(concern: type) -> None:
    names = _methods(concern)
    assert names, f"{concern.__name__} lists no methods"
    for name in names:
        assert hasattr(Store, name), f"Store lacks {concern.__name__}.{name}"
        want = inspect.signature(getattr(concern, name))
        have = inspect.signature(getattr(Store, name))
        assert [(p.name, p.kind, p.default) for p in want.parameters.values()] == [
            (p.name, p.kind, p.default) for p in have.parameters.values()
        ], f"Store.{name}{have} differs from {concern.__name__}.{name}{want}"


def test_hub_store_is_all_concerns() -> None:
    assert set(CONCERNS) <= set(HubStore.__mro__)
    assert sum(len(_methods(c)) for c in CONCERNS) > 40
