"""Photos re-encoded from their pixels: orientation applied, colours in sRGB, no metadata left.

What a photo says beyond its pixels (EXIF with GPS position, camera and date, XMP, comments, text
chunks, the colour profile's descriptive text) never reaches the blob: the image is decoded, its
EXIF orientation applied to the pixels, its colours converted to sRGB from the profile it carries
(then no profile is written: sRGB is what viewers assume), and a fresh image written from the pixels
alone, in the format it came in (JPEG, PNG or WebP). An animated PNG or WebP keeps its first frame
only: a conversation photo is a still (docs/decisions/0044-conversation-media.md).

Decompression bombs are refused before any pixel is decoded: the header's width times height must
be at most MAX_PIXELS (413). Photos larger than MAX_EDGE on a side are scaled down to it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from shared.errors import InvalidInput
from shared.media.types import MediaTooLarge

MAX_PIXELS = 50_000_000
MAX_EDGE = 4096
JPEG_QUALITY = 85
WEBP_QUALITY = 85
_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
_PNG_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA"})
_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class Photo:
    """A re-encoded photo: its bytes, type and size in pixels (as displayed)."""

    data: bytes
    content_type: str
    width: int
    height: int


def _undecodable(media: str) -> InvalidInput:
    return InvalidInput("The file is not the image its type says",
                        errors=[{"field": "body", "message": f"not a valid {media} image"}])


def _bomb() -> MediaTooLarge:
    return MediaTooLarge(f"A conversation photo is at most {MAX_PIXELS // 1_000_000} megapixels", maxPixels=MAX_PIXELS)


def _to_srgb(image: Image.Image) -> Image.Image:
    """The pixels in sRGB, from the ICC profile the file carried (none: they are sRGB already)."""
    icc = image.info.get("icc_profile")
    if not icc:
        return image
    if image.mode not in ("RGB", "RGBA", "L", "CMYK"):
        image = image.convert("RGBA" if "A" in image.mode or "transparency" in image.info else "RGB")
    output = {"CMYK": "RGB", "L": "L"}.get(image.mode, image.mode)
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, source, _SRGB, outputMode=output) or image
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image.convert(output) if image.mode != output else image  # a broken profile: the pixels as they are


def _for_format(image: Image.Image, fmt: str) -> Image.Image:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if fmt == "JPEG":
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    if fmt == "WEBP":
        wanted = "RGBA" if has_alpha else "RGB"
        return image if image.mode == wanted else image.convert(wanted)
    if image.mode in _PNG_MODES:
        return image
    return image.convert("RGBA" if has_alpha else "RGB")


def _open(data: bytes, media: str) -> Image.Image:
    fmt = _FORMATS[media]
    # Pillow's own bomb check refuses past twice its limit (itself above ours); our check below is the one
    # that counts, made from the header before any pixel is decoded.
    try:
        image = Image.open(io.BytesIO(data), formats=[fmt])
    except Image.DecompressionBombError as exc:
        raise _bomb() from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _undecodable(media) from exc
    if image.format != fmt:
        raise _undecodable(media)
    width, height = image.size
    if width < 1 or height < 1:
        raise _undecodable(media)
    if width * height > MAX_PIXELS:
        raise _bomb()
    return image


def reencode(data: bytes, media: str) -> Photo:
    """The photo written again from its pixels alone; 422 when it does not decode, 413 over MAX_PIXELS."""
    fmt = _FORMATS[media]
    image = _open(data, media)
    try:
        if fmt == "JPEG":
            image.draft("RGB", (MAX_EDGE, MAX_EDGE))  # big JPEGs decode at a reduced scale: less memory, faster
        image.seek(0)  # an animation's first frame
        image.load()
        oriented = ImageOps.exif_transpose(image) or image
        pixels = _for_format(_to_srgb(oriented), fmt)
        if max(pixels.size) > MAX_EDGE:
            pixels = pixels.copy()
            pixels.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
        transparency = pixels.info.get("transparency") if fmt == "PNG" else None
        clean = pixels.copy()
        clean.info = {"transparency": transparency} if transparency is not None else {}
        out = io.BytesIO()
        if fmt == "JPEG":
            clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        elif fmt == "WEBP":
            clean.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
        else:
            clean.save(out, "PNG", compress_level=6)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # truncated or corrupt pixel data
        raise _undecodable(media) from exc
    finally:
        image.close()
    return Photo(data=out.getvalue(), content_type=media, width=clean.width, height=clean.height)
