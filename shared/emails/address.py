"""A person's email address: one type for every model, one function for code outside a model.

Checked by email-validator (what pydantic's own EmailStr relies on), for syntax only
(`check_deliverability=False`: no DNS lookup while a request waits; the double opt-in proves the
address). It refuses what a regex let through: control characters (NUL, BEL, U+001F...),
bidirectional controls (U+202E), spaces inside, quoted local parts, IP literals, display names
("Jane <jane@x.com>"), special-use domains (.test, .local, .localhost, .invalid, .onion, .arpa),
and more than 254 characters. It accepts internationalised addresses (josé@exämple.com).

What is stored is the address as the person gave it, with surrounding spaces, tabs and line breaks
trimmed; not the library's normalised form. Local parts may be case-sensitive, what the person
typed is where they expect mail, and every keyed hash keeps its own normalisation
(`shared.privacy.hashing.normalise`: NFKC, trimmed, lowercase), so the hashes of addresses stored
before this type existed do not change. A feature may store a stricter form of its own (contacts
and Manager users keep theirs lowercase). See docs/decisions/0020-email-addresses.md.
"""

from __future__ import annotations

from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, WithJsonSchema

MAX_LENGTH = 254
# Only what a form or a copy-paste adds around an address; any other character is judged, not dropped.
_SURROUNDING = " \t\r\n"


def checked_email(value: str) -> str | None:
    """The address as stored (trimmed) when `value` is one, else None."""
    text = value.strip(_SURROUNDING)
    if len(text) > MAX_LENGTH:
        return None
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return None
    return text


def _email(value: str) -> str:
    address = checked_email(value)
    if address is None:
        # A fixed message: the library's reasons may quote parts of the address.
        raise ValueError("not an email address")
    return address


EmailAddress = Annotated[
    str,
    AfterValidator(_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": MAX_LENGTH}),
]
