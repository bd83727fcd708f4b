"""Turning an uploaded file into the two clean JPEGs we store, or a clear refusal.

A photo taken at home says where home is: phones write the position in EXIF and XMP,
editors add IPTC, comments and colour profiles. Nothing of the upload is kept but its
pixels: the file is recognised by its content (never its name or declared type),
decoded within a pixel budget, turned upright, converted to sRGB, shrunk, and the
pixels are copied into a fresh image that is encoded again. Every file we cannot read
this way is refused with a sentence the member can act on (``PhotoRefused``); no other
exception leaves ``process``.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import warnings
import zipfile
from dataclasses import dataclass
from typing import IO

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from PIL import Image, ImageCms, UnidentifiedImageError

log = logging.getLogger(__name__)


@functools.cache
def _open_heif() -> None:
    """Teach Pillow to open HEIC/HEIF (iPhone photos), once per process."""
    # Nested: pillow-heif (~7 MiB of a worker's memory) is loaded on the first upload,
    # not by every worker that never decodes one (docs/SCALING.md, worker memory).
    import pillow_heif

    pillow_heif.register_heif_opener()


MAX_BYTES = 10 * 1024 * 1024
MAX_SIDE = 1600
THUMB_SIDE = 400
# 50 megapixels: a 48 MP phone photo passes. A JPEG is decoded at reduced scale (draft),
# so this costs little; other formats are decoded whole, hence the two bounds below.
PIXEL_BUDGET = 50_000_000
# Pillow's own guard, at our budget: it warns past it (turned into a refusal in
# ``process``) and refuses twice as much outright, as it opens the file.
Image.MAX_IMAGE_PIXELS = PIXEL_BUDGET
# PNG and WebP are decoded whole (RGBA: 4 bytes a pixel, and copies): at most 24 MP.
LOSSLESS_PIXEL_BUDGET = 24_000_000
LOSSLESS_FORMATS = ("PNG", "WEBP")
# A real picture holds at least a byte for every few hundred pixels; a small file that
# announces millions of pixels is a decompression bomb (seconds of CPU, hundreds of MB
# for a few KB sent). Checked above SMALL_PIXELS (small images cost little anyway).
MAX_PIXELS_PER_BYTE = 200
SMALL_PIXELS = 4_000_000
CONTENT_TYPE = "image/jpeg"
JPEG_QUALITY = 82
# By content only. AVIF is refused: pillow-heif does not open it, Pillow's own AVIF
# plugin is left out of this list.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
# For the file input's ``accept``: a hint to the file chooser, never a check.
FILE_INPUT_ACCEPT = (
    "image/jpeg,image/png,image/webp,image/heic,image/heif,.jpg,.jpeg,.png,.webp,.heic,.heif"
)

EMPTY = _l("Le fichier est vide.")
TOO_BIG = _l(
    "La photo dépasse 10 Mo : choisissez une image plus légère (10 Mo au plus) "
    "ou réduisez-la avant de l'envoyer."
)
NOT_AN_IMAGE = _l(
    "Ce fichier n'est pas une image : envoyez une photo au format JPEG, PNG, WebP ou HEIC."
)
NOT_ACCEPTED = _l(
    "Ce fichier n'est pas une photo que nous acceptons (SVG, GIF, PDF, vidéo…) : "
    "envoyez une image JPEG, PNG, WebP ou HEIC."
)
ANIMATED = _l("Les images animées ne sont pas acceptées : envoyez une photo fixe.")
TOO_MANY_PIXELS = _l(
    "Cette image est trop grande (plus de %(millions)s millions de pixels) : "
    "réduisez-la avant de l'envoyer.",
    millions=PIXEL_BUDGET // 1_000_000,
)
HIDDEN_DATA = _l(
    "Cette image cache des données annexes démesurées : enregistrez-la à nouveau "
    "(ou faites-en une capture d'écran) et envoyez-la."
)
DAMAGED = _l(
    "Cette image est incomplète ou abîmée : envoyez-la à nouveau, ou choisissez-en une autre."
)
TOO_MANY_PIXELS_LOSSLESS = _l(
    "Cette image est trop grande (plus de %(millions)s millions de pixels) : "
    "réduisez-la avant de l'envoyer.",
    millions=LOSSLESS_PIXEL_BUDGET // 1_000_000,
)
INFLATED = _l(
    "Cette image annonce bien plus de pixels que son fichier n'en contient : "
    "enregistrez-la à nouveau en JPEG (ou faites-en une capture d'écran) et envoyez-la."
)
POLYGLOT = _l(
    "Ce fichier mêle une image et un autre fichier (une archive, un document…) : "
    "envoyez la photo seule."
)

# Signatures of formats we recognise but refuse: images, documents, videos.
_FOREIGN_SIGNATURES = (
    b"GIF87a",
    b"GIF89a",
    b"%PDF-",
    b"%!PS",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"8BPS",
    b"\x00\x00\x01\x00",
    b"\xff\x0a",
    b"\x00\x00\x00\x0cJXL ",
    b"\x76\x2f\x31\x01",
)
# Signatures of what we accept: a file that starts like one but does not open is damaged.
_ACCEPTED_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
# What may not follow a JPEG's end: archives, documents, markup, programs. Anything
# else is tolerated (phones append the video of a "motion photo" after the picture).
_FOREIGN_TRAILERS = (
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"%PDF",
    b"%!PS",
    b"<",
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x1f\x8b",
    b"MZ",
    b"#!",
    b"\x89PNG",
    b"GIF8",
)
# In entropy-coded data FF is followed by 00 (stuffing), D0-D7 (restart) or FF (fill);
# any other byte after FF is the next marker.
_NEXT_JPEG_MARKER = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")

# Transposition undoing each EXIF orientation (as ImageOps.exif_transpose does).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class PhotoRefused(ValueError):
    """An upload we will not store; ``message`` tells the member why, in their language."""

    def __init__(self, message: LazyString | str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


@dataclass(frozen=True)
class Variant:
    """One stored picture: clean JPEG bytes and their size in pixels."""

    data: bytes
    width: int
    height: int
    content_type: str = CONTENT_TYPE


@dataclass(frozen=True)
class Processed:
    """What an upload becomes: the photo (≤ MAX_SIDE) and its thumbnail (≤ THUMB_SIDE)."""

    full: Variant
    thumb: Variant


def read_upload(stream: IO[bytes]) -> bytes:
    """The bytes of an uploaded file, read up to ``MAX_BYTES + 1`` and no further.

    Raises PhotoRefused for an empty file or one over ``MAX_BYTES``."""
    chunks: list[bytes] = []
    wanted = MAX_BYTES + 1
    while wanted > 0:
        chunk = stream.read(wanted)
        if not chunk:
            break
        chunks.append(chunk)
        wanted -= len(chunk)
    data = b"".join(chunks)
    if not data:
        raise PhotoRefused(EMPTY)
    if len(data) > MAX_BYTES:
        raise PhotoRefused(TOO_BIG)
    return data


def process(data: bytes) -> Processed:
    """The clean photo and thumbnail of an upload: JPEG, upright, sRGB, no metadata.

    Raises PhotoRefused — and nothing else — for a file that is empty, too big, not an
    accepted photo (by content), animated, over the pixel budget, damaged or mixed with
    another file."""
    if not data:
        raise PhotoRefused(EMPTY)
    if len(data) > MAX_BYTES:
        raise PhotoRefused(TOO_BIG)
    _open_heif()  # outside the try: a broken install is an error, not a "damaged" photo
    try:
        with warnings.catch_warnings():
            # Decoders warn about every oddity of a hostile file: noise, not news.
            warnings.simplefilter("ignore")
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that: refuse as well.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = _decode(data)
            full = _encode(picture)
            thumb = _encode(_fit(picture, THUMB_SIDE))
    except PhotoRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRefused(TOO_MANY_PIXELS) from exc
    except ValueError as exc:
        # PngImagePlugin's guard against zTXt/iTXt/iCCP chunks that inflate without end.
        text = str(exc)
        if "MAX_TEXT_CHUNK" in text or "memory used in text chunks" in text:
            raise PhotoRefused(HIDDEN_DATA) from exc
        raise PhotoRefused(DAMAGED) from exc
    except Exception as exc:  # any decoder failure on hostile input is a damaged file
        log.info("photo refused as damaged: %s: %s", type(exc).__name__, exc)
        raise PhotoRefused(DAMAGED) from exc
    return Processed(full=full, thumb=thumb)


def _decode(data: bytes) -> Image.Image:
    """The upload's pixels as a fresh RGB image, upright, sRGB, at most MAX_SIDE."""
    try:
        source = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except UnidentifiedImageError as exc:
        raise PhotoRefused(_unrecognised(data)) from exc
    with source:
        if zipfile.is_zipfile(io.BytesIO(data)) or _foreign_trailer(data, source.format):
            raise PhotoRefused(POLYGLOT)
        # MPO is a phone JPEG with extra views (depth, preview): we keep the first.
        if source.format != "MPO" and getattr(source, "is_animated", False):
            raise PhotoRefused(ANIMATED)
        width, height = source.size
        pixels = width * height
        if pixels > PIXEL_BUDGET:
            raise PhotoRefused(TOO_MANY_PIXELS)
        if source.format not in ("JPEG", "MPO"):
            if source.format in LOSSLESS_FORMATS and pixels > LOSSLESS_PIXEL_BUDGET:
                raise PhotoRefused(TOO_MANY_PIXELS_LOSSLESS)
            if pixels > SMALL_PIXELS and pixels > len(data) * MAX_PIXELS_PER_BYTE:
                raise PhotoRefused(INFLATED)
        orientation = _orientation(source)
        icc = source.info.get("icc_profile")
        if source.format in ("JPEG", "MPO"):
            # Decode at 1/2, 1/4 or 1/8 scale when the result still covers MAX_SIDE.
            source.draft("RGB", _fitted_size(source.size, MAX_SIDE))
        source.load()
        picture = _fit(_common_mode(source), MAX_SIDE)
    picture = _flatten(_to_srgb(picture, icc))
    if orientation in _UPRIGHT:
        picture = picture.transpose(_UPRIGHT[orientation])
    # Pixels only: a new image whose info (EXIF, XMP, ICC, comments…) is empty.
    return Image.frombytes("RGB", picture.size, picture.tobytes())


def _unrecognised(data: bytes) -> LazyString:
    """The refusal for a file no accepted format opens."""
    head = data[:1024]
    if head.startswith(_ACCEPTED_SIGNATURES) or (head[8:12] == b"WEBP" and head[:4] == b"RIFF"):
        return DAMAGED
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"hevc", b"heim"):
        return DAMAGED
    lowered = head.lower()
    if head.startswith(_FOREIGN_SIGNATURES) or head[4:8] == b"ftyp" or b"<svg" in lowered:
        return NOT_ACCEPTED
    return NOT_AN_IMAGE


def _jpeg_end(data: bytes) -> int | None:
    """The offset just past a JPEG's EOI marker, walking its segments; None if unsure."""
    pos, size = 2, len(data)
    while pos + 2 <= size:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
        elif marker == 0xD9:
            return pos + 2
        elif 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
        else:
            if pos + 4 > size:
                return None
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
            if marker == 0xDA:
                found = _NEXT_JPEG_MARKER.search(data, pos)
                if found is None:
                    return None
                pos = found.start()
    return None


def _foreign_trailer(data: bytes, image_format: str | None) -> bool:
    """Whether a JPEG is followed by an archive, a document, markup or a program."""
    if image_format not in ("JPEG", "MPO"):
        return False
    end = _jpeg_end(data)
    if end is None:
        return False
    return data[end:].lstrip(b"\x00\t\r\n ").startswith(_FOREIGN_TRAILERS)


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block must not cost the photo
        return 1


def _fitted_size(size: tuple[int, int], side: int) -> tuple[int, int]:
    width, height = size
    if max(width, height) <= side:
        return size
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _fit(im: Image.Image, side: int) -> Image.Image:
    """``im`` shrunk so that its long side is at most ``side`` (never enlarged)."""
    size = _fitted_size(im.size, side)
    if size == im.size:
        return im
    # reducing_gap 2 (as Image.thumbnail): a box reduction first, then Lanczos.
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def _common_mode(im: Image.Image) -> Image.Image:
    """``im`` in L, RGB, RGBA or CMYK: the modes resizing and colour management handle."""
    mode = im.mode
    if mode in ("L", "RGB", "RGBA", "CMYK"):
        return im
    if mode == "P":
        return im.convert("RGBA" if "transparency" in im.info else "RGB")
    if mode in ("LA", "La", "PA", "RGBa"):
        return im.convert("RGBA")
    if mode.startswith("I;16") or mode == "I":
        # 16-bit grey: scale to 8 bits (a plain convert would clip everything above 255).
        return im.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if mode in ("1", "F"):
        return im.convert("L")
    return im.convert("RGB")


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """``im`` converted from its embedded colour profile to sRGB (unchanged if none or
    if the profile is unusable: the pixels are then taken as sRGB)."""
    if not icc:
        return im.convert("RGB") if im.mode == "CMYK" else im
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        output = "RGBA" if im.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(im, profile, _SRGB, outputMode=output)
    except Exception:  # noqa: BLE001 - a broken or mismatched profile: keep the pixels
        return im.convert("RGB") if im.mode == "CMYK" else im


def _flatten(im: Image.Image) -> Image.Image:
    """``im`` in RGB, transparency laid on white."""
    if im.mode == "RGBA":
        background = Image.new("RGB", im.size, (255, 255, 255))
        background.paste(im, mask=im.getchannel("A"))
        return background
    return im if im.mode == "RGB" else im.convert("RGB")


def _encode(im: Image.Image) -> Variant:
    buffer = io.BytesIO()
    # No exif/icc_profile/xmp/comment argument, and ``im.info`` is empty: pixels only.
    im.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return Variant(data=buffer.getvalue(), width=im.width, height=im.height)
