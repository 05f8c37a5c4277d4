"""Search keys: text compared the way people expect, whatever its case and accents."""

from __future__ import annotations

import unicodedata


def search_key(text: str) -> str:
    """Case- and accent-insensitive sort and search key ("Élodie" → "elodie")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().strip()
