from protocol.pins import hash_pin, verify_pin
from tests.conftest import PIN_HASH


def test_pin_hash_verifies_and_hides_the_pin() -> None:
    stored = hash_pin("4321", n=2**10)
    # scheme, parameters and hex only (the random hex may hold "4321" by chance: 1 in ~700)
    assert PIN_HASH.fullmatch(stored), stored
    assert verify_pin("4321", stored)
    assert not verify_pin("4322", stored)


def test_same_salt_gives_the_same_hash_without_the_pin() -> None:
    stored = hash_pin("4321", salt=bytes(16), n=2**10)
    assert stored == hash_pin("4321", salt=bytes(16), n=2**10)
    assert "4321" not in stored and verify_pin("4321", stored)


def test_salted() -> None:
    assert hash_pin("1111", n=2**10) != hash_pin("1111", n=2**10)


def test_garbage_hash_is_no_match() -> None:
    assert not verify_pin("1", "nonsense")
    assert not verify_pin("1", "scrypt$x$y$z$00$00")
