"""Which files a conversation takes, told by their bytes: never by the declared type alone.

The declared `Content-Type` chooses the size limit before the body is read (and is refused at once,
415, when it is not one of ours); the bytes then have to be that type (422 otherwise). Images reuse
the profile photos' signatures (shared.identity.photos); videos are ISO base media files (MP4,
QuickTime: told apart by their `ftyp` brand) or WebM (an EBML header whose DocType is "webm").
MP4 and QuickTime are one container family: either declaration takes either, and the type stored
is the one the bytes are.
"""

from __future__ import annotations

from typing import Literal

from shared.errors import PayloadTooLarge, UnsupportedMediaType
from shared.identity.photos import sniff_type as sniff_image

MediaKind = Literal["photo", "video"]

MB = 1024 * 1024
MAX_IMAGE_BYTES = 10 * MB
MAX_VIDEO_BYTES = 50 * MB
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
ACCEPTED_TYPES = IMAGE_TYPES + VIDEO_TYPES
_ISO_FAMILY = frozenset({"video/mp4", "video/quicktime"})

# Boxes an ISO base media file may start with (QuickTime files without `ftyp` start with one of the others).
_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_QUICKTIME_BRAND = b"qt  "
_MP4_BRANDS = frozenset({b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9", b"mp41",
                         b"mp42", b"mp71", b"avc1", b"M4V ", b"M4VH", b"M4VP", b"dash", b"MSNV", b"mmp4", b"f4v "})
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"


class MediaTooLarge(PayloadTooLarge):
    """A file over its kind's size, or an image over the pixel count."""


class UnsupportedMedia(UnsupportedMediaType):
    """A declared type conversations do not take."""


def declared_type(content_type: str | None) -> str:
    """The declared media type without parameters; 415 unless it is one conversations take."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in ACCEPTED_TYPES:
        raise UnsupportedMedia("A conversation takes JPEG, PNG or WebP photos and MP4, QuickTime or WebM videos",
                               allowed=list(ACCEPTED_TYPES))
    return media


def kind_of(media: str) -> MediaKind:
    return "photo" if media in IMAGE_TYPES else "video"


def max_bytes(media: str) -> int:
    """The size limit of a declared type: 10 MB for a photo, 50 MB for a video."""
    return MAX_IMAGE_BYTES if kind_of(media) == "photo" else MAX_VIDEO_BYTES


def too_large(media: str) -> MediaTooLarge:
    limit = max_bytes(media)
    return MediaTooLarge(f"A conversation {kind_of(media)} is at most {limit // MB} MB", maxBytes=limit)


def check_length(media: str, length: int) -> None:
    """413 when `length` bytes are more than the declared type's limit."""
    if length > max_bytes(media):
        raise too_large(media)


def _iso_type(data: bytes) -> str | None:
    if len(data) < 8 or data[4:8] not in _FIRST_BOXES:
        return None
    if data[4:8] != b"ftyp":
        return "video/quicktime"  # the classic QuickTime layout: no file type box
    size = int.from_bytes(data[0:4], "big")
    if size < 16 or size > len(data) or size % 4:
        return None
    major, compatible = data[8:12], [data[offset:offset + 4] for offset in range(16, size, 4)]
    if major == _QUICKTIME_BRAND:
        return "video/quicktime"
    if major in _MP4_BRANDS or any(brand in _MP4_BRANDS for brand in compatible):
        return "video/mp4"
    if _QUICKTIME_BRAND in compatible:
        return "video/quicktime"
    return None  # HEIF and AVIF stills, 3GPP, audio-only M4A...: not a video we take


def sniff_video(data: bytes) -> str | None:
    """The video type the bytes are (by their container's signature), or None."""
    if data.startswith(_EBML_MAGIC):
        return "video/webm"  # the DocType is checked when the file is parsed (shared.media.webm)
    return _iso_type(data)


def sniff(data: bytes) -> str | None:
    """The accepted type the bytes really are, or None."""
    return sniff_image(data) or sniff_video(data)


def matches(declared: str, sniffed: str | None) -> bool:
    """Whether bytes of type `sniffed` may be stored under the `declared` type."""
    if sniffed is None:
        return False
    return sniffed == declared or (declared in _ISO_FAMILY and sniffed in _ISO_FAMILY)
