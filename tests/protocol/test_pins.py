from protocol.pins import hash_pin, verify_pin


def test_pin_hash_verifies_and_hides_the_pin() -> None:
    stored = hash_pin("4321", n=2**10)
    assert "4321" not in stored
    assert stored.startswith("scrypt$")
    assert verify_pin("4321", stored)
    assert not verify_pin("4322", stored)


def test_salted() -> None:
    assert hash_pin("1111", n=2**10) != hash_pin("1111", n=2**10)


def test_garbage_hash_is_no_match() -> None:
    assert not verify_pin("1", "nonsense")
    assert not verify_pin("1", "scrypt$x$y$z$00$00")
