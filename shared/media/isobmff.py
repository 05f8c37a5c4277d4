"""MP4 and QuickTime videos: read box by box, and cleaned in place of what they say beyond sound and picture.

No video tool runs on the host, so nothing is re-encoded: the file keeps its bytes and its layout,
and what it carries besides the picture and the sound is neutralised where it lies. A box that goes
becomes a `free` box of the same size with its content zeroed, which every player skips: no offset
moves, so the sample tables stay right whether the `moov` box comes before or after the media data.

- Kept, box by box (an allowlist at each level): the file type, the movie and track headers, the
  edit lists and track references, the media headers and handlers, the sample tables, fragments.
  Everything else at those levels goes: `udta` (Android's `©xyz` position, make, model, dates),
  `meta` (Apple's `com.apple.quicktime.location.ISO6709`, make, model, software, creation date),
  `uuid` vendor boxes (XMP among them), QuickTime previews and any box we do not know.
- The creation and modification times of the movie, its tracks and their media are set to zero.
- Tracks other than video and sound (timed metadata, such as a phone's or action camera's GPS
  track, timecode, text) go: the `trak` box is neutralised and the bytes of its samples zeroed. In a
  fragmented file their samples cannot be found this way: such a file is refused (422).
- Not removed: what the encoder wrote inside the video bitstream itself (H.264/HEVC SEI user data,
  which some drones and dash cameras use for position); the file would have to be re-encoded.

A file whose boxes do not add up, without a movie box, with a compressed movie header or without a
video track is refused as not being the video its type says (422).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.errors import InvalidInput

_TOP_KEPT = frozenset({b"ftyp", b"moov", b"mdat", b"moof", b"mfra", b"free", b"skip", b"wide", b"sidx", b"ssix",
                       b"styp", b"prft"})
_MOOV_KEPT = frozenset({b"mvhd", b"trak", b"mvex", b"iods", b"free", b"skip", b"wide"})
_TRAK_KEPT = frozenset({b"tkhd", b"tref", b"edts", b"mdia", b"tapt", b"load", b"imap", b"matt", b"trgr", b"txas",
                        b"free", b"skip", b"wide"})
_MDIA_KEPT = frozenset({b"mdhd", b"hdlr", b"minf", b"elng", b"free", b"skip", b"wide"})
_MINF_KEPT = frozenset({b"vmhd", b"smhd", b"hmhd", b"nmhd", b"gmhd", b"sthd", b"dinf", b"stbl", b"hdlr", b"free",
                        b"skip", b"wide"})
_KEPT_HANDLERS = frozenset({b"vide", b"soun"})
_FREE = b"free"


class NotAVideo(InvalidInput):
    """Bytes that are not a well-formed MP4 or QuickTime video."""


def _invalid(reason: str) -> NotAVideo:
    return NotAVideo("The file is not the video its type says", errors=[{"field": "body", "message": reason}])


@dataclass(frozen=True)
class Box:
    kind: bytes
    start: int
    header: int  # bytes before the content: 8, 16 with a 64-bit size
    end: int

    @property
    def content(self) -> int:
        return self.start + self.header


@dataclass
class _Track:
    handler: bytes = b""
    width: int = 0
    height: int = 0
    tables: dict[bytes, Box] = field(default_factory=dict)


@dataclass(frozen=True)
class VideoInfo:
    """A cleaned video: its bytes, its display size and its duration (None when the file does not say)."""

    data: bytes
    width: int
    height: int
    duration_seconds: float | None


def _u32(buf: bytearray, at: int) -> int:
    return int.from_bytes(buf[at:at + 4], "big")


def _u64(buf: bytearray, at: int) -> int:
    return int.from_bytes(buf[at:at + 8], "big")


def boxes(buf: bytearray | bytes, start: int, end: int, *, top: bool = False) -> list[Box]:
    """The boxes from `start` to `end`, each checked to fit; trailing zero padding is allowed at the top only."""
    found, pos = [], start
    while pos < end:
        if end - pos < 8:
            if top and not any(buf[pos:end]):
                break
            raise _invalid("a box is cut short")
        size, header = int.from_bytes(buf[pos:pos + 4], "big"), 8
        if size == 1:
            if end - pos < 16:
                raise _invalid("a box is cut short")
            size, header = int.from_bytes(buf[pos + 8:pos + 16], "big"), 16
        elif size == 0:
            size = end - pos  # to the end of its parent
        if size < header or pos + size > end:
            if top and size == 0 and not any(buf[pos:end]):
                break
            raise _invalid("a box does not fit in its parent")
        found.append(Box(bytes(buf[pos + 4:pos + 8]), pos, header, pos + size))
        pos += size
    return found


def _neutralise(buf: bytearray, box: Box) -> None:
    buf[box.start + 4:box.start + 8] = _FREE
    buf[box.content:box.end] = bytes(box.end - box.content)


def _clean_level(buf: bytearray, children: list[Box], kept: frozenset[bytes]) -> list[Box]:
    """Neutralise the children not in `kept`; the ones kept."""
    left = []
    for child in children:
        if child.kind in kept:
            left.append(child)
        else:
            _neutralise(buf, child)
    return left


def _full_box_version(buf: bytearray, box: Box, minimum: int) -> int:
    if box.end - box.content < minimum:
        raise _invalid(f"a {box.kind.decode('latin-1')} box is too short")
    return buf[box.content]


def _zero_times(buf: bytearray, box: Box) -> int:
    """Zero a movie, track or media header's creation and modification times; its version."""
    version = _full_box_version(buf, box, 4 + 16)
    at, width = box.content + 4, (8 if version == 1 else 4)
    buf[at:at + 2 * width] = bytes(2 * width)
    return version


def _duration(buf: bytearray, mvhd: Box) -> float | None:
    version = _full_box_version(buf, mvhd, 4 + 28)
    timescale, duration = ((_u32(buf, mvhd.content + 20), _u64(buf, mvhd.content + 24)) if version == 1
                           else (_u32(buf, mvhd.content + 12), _u32(buf, mvhd.content + 16)))
    if not timescale or not duration or duration == (1 << (64 if version == 1 else 32)) - 1:
        return None
    return round(duration / timescale, 3)


def _display_size(buf: bytearray, tkhd: Box) -> tuple[int, int]:
    version = buf[tkhd.content]
    matrix = tkhd.content + 4 + (32 if version == 1 else 20) + 16
    if tkhd.end < matrix + 44:
        raise _invalid("a track header is too short")
    a = int.from_bytes(buf[matrix:matrix + 4], "big", signed=True)
    b = int.from_bytes(buf[matrix + 4:matrix + 8], "big", signed=True)
    width, height = _u32(buf, matrix + 36) >> 16, _u32(buf, matrix + 40) >> 16
    return (height, width) if a == 0 and abs(b) == 1 << 16 else (width, height)  # a quarter turn: portrait


def _track(buf: bytearray, trak: Box) -> _Track:
    track = _Track()
    for child in _clean_level(buf, boxes(buf, trak.content, trak.end), _TRAK_KEPT):
        if child.kind == b"tkhd":
            _zero_times(buf, child)
            track.width, track.height = _display_size(buf, child)
        elif child.kind == b"mdia":
            _media(buf, child, track)
    return track


def _media(buf: bytearray, mdia: Box, track: _Track) -> None:
    for child in _clean_level(buf, boxes(buf, mdia.content, mdia.end), _MDIA_KEPT):
        if child.kind == b"mdhd":
            _zero_times(buf, child)
        elif child.kind == b"hdlr":
            _full_box_version(buf, child, 12)
            track.handler = bytes(buf[child.content + 8:child.content + 12])
        elif child.kind == b"minf":
            for part in _clean_level(buf, boxes(buf, child.content, child.end), _MINF_KEPT):
                if part.kind == b"stbl":
                    track.tables = {table.kind: table for table in boxes(buf, part.content, part.end)}


def _sample_sizes(buf: bytearray, tables: dict[bytes, Box]) -> list[int] | int:
    """Each sample's size, or the one size of them all."""
    if b"stsz" in tables:
        box = tables[b"stsz"]
        _full_box_version(buf, box, 12)
        fixed, count = _u32(buf, box.content + 4), _u32(buf, box.content + 8)
        if fixed:
            return fixed
        if box.content + 12 + 4 * count > box.end:
            raise _invalid("a sample size table does not fit")
        return [_u32(buf, box.content + 12 + 4 * i) for i in range(count)]
    if b"stz2" in tables:
        box = tables[b"stz2"]
        _full_box_version(buf, box, 12)
        bits, count = buf[box.content + 7], _u32(buf, box.content + 8)
        if bits not in (4, 8, 16) or box.content + 12 + (bits * count + 7) // 8 > box.end:
            raise _invalid("a compact sample size table does not fit")
        data = box.content + 12
        if bits == 4:
            return [(buf[data + i // 2] >> (0 if i % 2 else 4)) & 0xF for i in range(count)]
        step = bits // 8
        return [int.from_bytes(buf[data + step * i:data + step * (i + 1)], "big") for i in range(count)]
    return []


def _chunk_offsets(buf: bytearray, tables: dict[bytes, Box]) -> list[int]:
    for kind, width in ((b"stco", 4), (b"co64", 8)):
        if kind in tables:
            box = tables[kind]
            _full_box_version(buf, box, 8)
            count = _u32(buf, box.content + 4)
            if box.content + 8 + width * count > box.end:
                raise _invalid("a chunk offset table does not fit")
            return [int.from_bytes(buf[box.content + 8 + width * i:box.content + 8 + width * (i + 1)], "big")
                    for i in range(count)]
    return []


def _samples_per_chunk(buf: bytearray, tables: dict[bytes, Box], chunks: int) -> list[int]:
    if b"stsc" not in tables:
        return [0] * chunks
    box = tables[b"stsc"]
    _full_box_version(buf, box, 8)
    count = _u32(buf, box.content + 4)
    if box.content + 8 + 12 * count > box.end:
        raise _invalid("a sample-to-chunk table does not fit")
    runs = [(_u32(buf, box.content + 8 + 12 * i), _u32(buf, box.content + 12 + 12 * i)) for i in range(count)]
    per_chunk = [0] * chunks
    for index, (first, samples) in enumerate(runs):
        last = runs[index + 1][0] - 1 if index + 1 < len(runs) else chunks
        for chunk in range(max(first, 1), min(last, chunks) + 1):
            per_chunk[chunk - 1] = samples
    return per_chunk


def _wipe_samples(buf: bytearray, track: _Track) -> None:
    """Zero the bytes of every sample of a track (its chunks, through its sample tables)."""
    sizes = _sample_sizes(buf, track.tables)
    offsets = _chunk_offsets(buf, track.tables)
    sample = 0
    for offset, samples in zip(offsets, _samples_per_chunk(buf, track.tables, len(offsets)), strict=True):
        length = sizes * samples if isinstance(sizes, int) else sum(sizes[sample:sample + samples])
        sample += samples
        if offset + length > len(buf):
            raise _invalid("a sample lies outside the file")
        buf[offset:offset + length] = bytes(length)


def clean(data: bytes) -> VideoInfo:
    """The video with its metadata neutralised in place (see the module's docstring); 422 when malformed."""
    buf = bytearray(data)
    top = _clean_level(buf, boxes(buf, 0, len(buf), top=True), _TOP_KEPT)
    movies = [box for box in top if box.kind == b"moov"]
    if len(movies) != 1:
        raise _invalid("a video has one movie box")
    fragmented = any(box.kind == b"moof" for box in top)
    children = boxes(buf, movies[0].content, movies[0].end)
    if any(child.kind == b"cmov" for child in children):
        raise _invalid("a compressed movie header is not taken")
    duration, tracks = None, []
    for child in _clean_level(buf, children, _MOOV_KEPT):
        if child.kind == b"mvhd":
            _zero_times(buf, child)
            duration = _duration(buf, child)
        elif child.kind == b"trak":
            tracks.append((child, _track(buf, child)))
    for box, track in tracks:
        if track.handler in _KEPT_HANDLERS:
            continue
        if fragmented:
            raise _invalid("a fragmented video with a track that is neither picture nor sound is not taken")
        _wipe_samples(buf, track)
        _neutralise(buf, box)
    video = [track for _, track in tracks if track.handler == b"vide"]
    if not video:
        raise _invalid("the file has no video track")
    return VideoInfo(data=bytes(buf), width=video[0].width, height=video[0].height, duration_seconds=duration)
