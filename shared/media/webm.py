"""WebM videos: read element by element, and cleaned in place of what they say beyond sound and picture.

As for MP4 (shared.media.isobmff), nothing is re-encoded and nothing moves: an element that goes
becomes an EBML `Void` element of the same length, its content zeroed, which every player skips.

- Kept at the segment's level: the seek index, the segment information, the tracks, the cues and
  the clusters. Tags, attachments (cover pictures and any file), chapters and any element we do not
  know go.
- In the segment information the title goes and the date of the recording is set to zero.
- Track names go; tracks other than video and audio (subtitles, metadata) go, with their blocks.
- Not removed: what the encoder wrote inside the VP8/VP9/AV1 bitstream itself.

A file that is not EBML with the DocType "webm", whose elements do not fit, or without a video
track is refused as not being the video its type says (422).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from shared.errors import InvalidInput

EBML, DOC_TYPE, SEGMENT = 0x1A45DFA3, 0x4282, 0x18538067
SEEK_HEAD, INFO, TRACKS, CUES, CLUSTER = 0x114D9B74, 0x1549A966, 0x1654AE6B, 0x1C53BB6B, 0x1F43B675
VOID, CRC32 = 0xEC, 0xBF
TIMESTAMP_SCALE, DURATION, DATE_UTC, TITLE = 0x2AD7B1, 0x4489, 0x4461, 0x7BA9
TRACK_ENTRY, TRACK_NUMBER, TRACK_TYPE, NAME, VIDEO, PIXEL_WIDTH, PIXEL_HEIGHT = (0xAE, 0xD7, 0x83, 0x536E, 0xE0,
                                                                                 0xB0, 0xBA)
SIMPLE_BLOCK, BLOCK_GROUP, BLOCK = 0xA3, 0xA0, 0xA1
_SEGMENT_KEPT = frozenset({SEEK_HEAD, INFO, TRACKS, CUES, CLUSTER, VOID, CRC32})
_CLUSTER_CHILDREN = frozenset({0xE7, 0x5854, 0xA7, 0xAB, SIMPLE_BLOCK, BLOCK_GROUP, 0xAF, VOID, CRC32})
_SEGMENT_LEVEL = frozenset({SEEK_HEAD, INFO, TRACKS, CUES, CLUSTER, 0x1254C367, 0x1941A469, 0x1043A770})
_VIDEO_TRACK, _AUDIO_TRACK = 1, 2


class NotAWebm(InvalidInput):
    """Bytes that are not a well-formed WebM video."""


def _invalid(reason: str) -> NotAWebm:
    return NotAWebm("The file is not the video its type says", errors=[{"field": "body", "message": reason}])


@dataclass
class Element:
    ident: int
    start: int
    header: int  # the id's and the size's bytes
    end: int
    children: list[Element] = field(default_factory=list)

    @property
    def content(self) -> int:
        return self.start + self.header


@dataclass(frozen=True)
class VideoInfo:
    data: bytes
    width: int
    height: int
    duration_seconds: float | None


def _vint_length(first: int, longest: int) -> int:
    if first == 0:
        raise _invalid("an element's number is too long")
    length = 9 - first.bit_length()
    if length > longest:
        raise _invalid("an element's number is too long")
    return length


def _element(buf: bytearray | bytes, pos: int, end: int) -> tuple[int, int, int | None]:
    """The id, header length and content size (None: unknown) of the element at `pos`."""
    if pos >= end:
        raise _invalid("an element is cut short")
    id_length = _vint_length(buf[pos], 4)
    if pos + id_length >= end:
        raise _invalid("an element is cut short")
    ident = int.from_bytes(buf[pos:pos + id_length], "big")
    size_at = pos + id_length
    size_length = _vint_length(buf[size_at], 8)
    if size_at + size_length > end:
        raise _invalid("an element is cut short")
    raw = int.from_bytes(buf[size_at:size_at + size_length], "big") & ((1 << (7 * size_length)) - 1)
    size = None if raw == (1 << (7 * size_length)) - 1 else raw
    return ident, id_length + size_length, size


def _children(buf: bytearray | bytes, start: int, end: int, *, until: frozenset[int] | None = None) -> list[Element]:
    """The elements from `start` to `end`; with `until`, the content of an element of unknown size, which ends
    at the first element that is not among its possible children."""
    found, pos = [], start
    while pos < end:
        ident, header, size = _element(buf, pos, end)
        if until is not None and ident not in until:
            break
        if size is None and ident == SEGMENT:
            element = Element(ident, pos, header, end)  # a live recording's segment: to the end of the file
        elif size is None:
            if ident != CLUSTER:
                raise _invalid("an element of unknown size")
            element = Element(ident, pos, header, end)
            element.children = _children(buf, pos + header, end, until=_CLUSTER_CHILDREN)
            element.end = element.children[-1].end if element.children else pos + header
        else:
            if pos + header + size > end:
                raise _invalid("an element does not fit in its parent")
            element = Element(ident, pos, header, pos + header + size)
            if ident == CLUSTER:
                element.children = _children(buf, element.content, element.end)
        found.append(element)
        pos = element.end
    if until is not None and pos < end:
        ident = _element(buf, pos, end)[0]
        if ident not in _SEGMENT_LEVEL:
            raise _invalid("a cluster holds an element that cannot be there")
    return found


def _void(buf: bytearray, element: Element) -> None:
    """Turn an element into a Void element of the same length, its content zeroed."""
    total = element.end - element.start
    size_length = min(8, element.header - 1)
    payload = total - 1 - size_length
    buf[element.start] = VOID
    buf[element.start + 1:element.start + 1 + size_length] = ((1 << (7 * size_length)) | payload).to_bytes(size_length,
                                                                                                            "big")
    buf[element.start + 1 + size_length:element.end] = bytes(payload)


def _uint(buf: bytearray, element: Element) -> int:
    return int.from_bytes(buf[element.content:element.end], "big")


def _float(buf: bytearray, element: Element) -> float | None:
    raw = bytes(buf[element.content:element.end])
    if len(raw) == 4:
        return struct.unpack(">f", raw)[0]
    if len(raw) == 8:
        return struct.unpack(">d", raw)[0]
    return None


def _doc_type(buf: bytearray, header: Element) -> str:
    for child in _children(buf, header.content, header.end):
        if child.ident == DOC_TYPE:
            return bytes(buf[child.content:child.end]).rstrip(b"\x00").decode("ascii", "replace")
    return ""


def _info(buf: bytearray, info: Element) -> float | None:
    scale, duration = 1_000_000, None
    for child in _children(buf, info.content, info.end):
        if child.ident == TITLE:
            _void(buf, child)
        elif child.ident == DATE_UTC:
            buf[child.content:child.end] = bytes(child.end - child.content)
        elif child.ident == TIMESTAMP_SCALE:
            scale = _uint(buf, child) or scale
        elif child.ident == DURATION:
            duration = _float(buf, child)
    return round(duration * scale / 1e9, 3) if duration and duration > 0 else None


def _tracks(buf: bytearray, tracks: Element) -> tuple[set[int], tuple[int, int] | None]:
    """Neutralise track names and the tracks neither video nor audio; their numbers, and the first video's size."""
    dropped: set[int] = set()
    size = None
    for entry in _children(buf, tracks.content, tracks.end):
        if entry.ident != TRACK_ENTRY:
            continue
        number, kind, width, height = None, None, 0, 0
        for child in _children(buf, entry.content, entry.end):
            if child.ident == TRACK_NUMBER:
                number = _uint(buf, child)
            elif child.ident == TRACK_TYPE:
                kind = _uint(buf, child)
            elif child.ident == NAME:
                _void(buf, child)
            elif child.ident == VIDEO:
                for part in _children(buf, child.content, child.end):
                    if part.ident == PIXEL_WIDTH:
                        width = _uint(buf, part)
                    elif part.ident == PIXEL_HEIGHT:
                        height = _uint(buf, part)
        if kind not in (_VIDEO_TRACK, _AUDIO_TRACK):
            if number is not None:
                dropped.add(number)
            _void(buf, entry)
        elif kind == _VIDEO_TRACK and size is None:
            size = (width, height)
    return dropped, size


def _block_track(buf: bytearray, at: int, end: int) -> int:
    if at >= end:
        raise _invalid("a block is empty")
    length = _vint_length(buf[at], 8)
    return int.from_bytes(buf[at:at + length], "big") & ((1 << (7 * length)) - 1)


def _drop_blocks(buf: bytearray, cluster: Element, dropped: set[int]) -> None:
    for child in cluster.children:
        if child.ident == SIMPLE_BLOCK:
            track = _block_track(buf, child.content, child.end)
        elif child.ident == BLOCK_GROUP:
            blocks = [part for part in _children(buf, child.content, child.end) if part.ident == BLOCK]
            if not blocks:
                continue
            track = _block_track(buf, blocks[0].content, blocks[0].end)
        else:
            continue
        if track in dropped:
            _void(buf, child)


def clean(data: bytes) -> VideoInfo:
    """The video with its metadata neutralised in place (see the module's docstring); 422 when malformed."""
    buf = bytearray(data)
    top = _children(buf, 0, len(buf)) if data else []
    if len(top) < 2 or top[0].ident != EBML or _doc_type(buf, top[0]) != "webm":
        raise _invalid("a WebM file starts with an EBML header of DocType webm")
    segments = [element for element in top if element.ident == SEGMENT]
    if len(segments) != 1:
        raise _invalid("a WebM file has one segment")
    segment = segments[0]
    children = _children(buf, segment.content, segment.end)
    dropped, size, duration = set(), None, None
    for child in children:
        if child.ident not in _SEGMENT_KEPT:
            _void(buf, child)
        elif child.ident == INFO:
            duration = _info(buf, child)
        elif child.ident == TRACKS:
            dropped, size = _tracks(buf, child)
    if size is None:
        raise _invalid("the file has no video track")
    if dropped:
        for child in children:
            if child.ident == CLUSTER:
                _drop_blocks(buf, child, dropped)
    return VideoInfo(data=bytes(buf), width=size[0], height=size[1], duration_seconds=duration)
