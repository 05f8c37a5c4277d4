"""Passwords: bcrypt, cost 12 (the guide: always hashed by a BCrypt algorithm)."""

from __future__ import annotations

import bcrypt

from shared.errors import InvalidInput

BCRYPT_COST = 12
MIN_LENGTH = 10
MAX_BYTES = 72  # bcrypt reads at most 72 bytes: refuse longer rather than silently truncate

# A valid cost-12 hash (of "not-a-password") to check against when the account does not exist, so
# timing does not reveal it. A literal, not computed: hashing at import cost every cold start 0.3 s.
_DUMMY_HASH = "$2b$12$1b6M5SbUDXqtafX/vtZ1SO6HBNEuiojfgCLldmm9035ZblrQT.WCi"


def validate_password(password: str) -> None:
    """Refuse passwords too short or too long for bcrypt."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"The password needs at least {MIN_LENGTH} characters", errors=[
            {"field": "password", "message": f"at least {MIN_LENGTH} characters"}])
    if len(password.encode()) > MAX_BYTES:
        raise InvalidInput(f"The password must be at most {MAX_BYTES} bytes", errors=[
            {"field": "password", "message": f"at most {MAX_BYTES} bytes"}])


def hash_password(password: str) -> str:
    """A bcrypt hash at cost 12."""
    validate_password(password)
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_COST)).decode()


def check_password(password: str, hashed: str | None) -> bool:
    """True when the password matches; always spends one bcrypt check, even with no hash."""
    candidate = password.encode()[:MAX_BYTES]
    if not hashed:
        bcrypt.checkpw(candidate, _DUMMY_HASH.encode())
        return False
    return bcrypt.checkpw(candidate, hashed.encode())
