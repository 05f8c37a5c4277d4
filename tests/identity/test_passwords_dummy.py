"""The stand-in hash checked for unknown accounts costs what a real one does."""

from __future__ import annotations

import bcrypt

from shared.identity import passwords


def test_the_stand_in_hash_is_a_valid_hash_at_the_same_cost():
    assert bcrypt.checkpw(b"not-a-password", passwords._DUMMY_HASH.encode())
    assert passwords._DUMMY_HASH.startswith(f"$2b${passwords.BCRYPT_COST}$")
    assert passwords.check_password("whatever-it-is", None) is False
