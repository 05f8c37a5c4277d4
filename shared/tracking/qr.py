"""QR codes (segno, pure Python) of share links and store vouchers: PNG for print and email, SVG for any size."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import segno

PNG = "image/png"
SVG = "image/svg+xml"
DEFAULT_SCALE = 10
_BORDER = 4  # the quiet zone the QR standard asks for, in modules


def _code(url: str) -> segno.QRCode:
    # Imported here: only QR requests need it, and it weighs on every cold start otherwise.
    import segno

    # Level M survives a little damage (a crease, a smudge) and keeps short URLs at small versions.
    return segno.make(url, error="m", micro=False)


def png(url: str, *, scale: int = DEFAULT_SCALE) -> bytes:
    """The QR code of `url` as PNG bytes."""
    buffer = io.BytesIO()
    _code(url).save(buffer, kind="png", scale=scale, border=_BORDER)
    return buffer.getvalue()


def svg(url: str, *, scale: int = DEFAULT_SCALE) -> bytes:
    """The QR code of `url` as a standalone SVG document."""
    buffer = io.BytesIO()
    _code(url).save(buffer, kind="svg", scale=scale, border=_BORDER, xmldecl=True, title="QR code")
    return buffer.getvalue()
