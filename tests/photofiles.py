"""Test images, made in memory: a phone photo that gives its author's home away, the
formats we accept, and the hostile files every upload must refuse.

Nothing is read from disk and every factory is deterministic (seeded noise), so a test
that fails fails the same way on every run.
"""

from __future__ import annotations

import functools
import io
import random
import struct
import zipfile
import zlib
from fractions import Fraction

import pillow_heif
from PIL import Image, ImageCms, ImageDraw
from PIL.PngImagePlugin import PngInfo

pillow_heif.register_heif_opener()

# A home in the 18th arrondissement: the position a leak would give away.
HOME = (48.885512, 2.345678)

# The upright picture inside rotated_jpeg(): what a viewer sees once the EXIF
# orientation is applied. Green top-left corner, red top half, blue bottom half.
ROTATED_SIZE = (300, 200)
GREEN, RED, BLUE = (0, 200, 0), (220, 0, 0), (0, 0, 220)

_SECONDS_DENOMINATOR = 10_000


# --- the position, written the ways a camera writes it ------------------------------------


def _dms(value: float) -> tuple[int, int, Fraction]:
    """Degrees, minutes and seconds of ``abs(value)``, seconds as the camera's rational."""
    value = abs(value)
    degrees = int(value)
    minutes_float = (value - degrees) * 60
    minutes = int(minutes_float)
    seconds = Fraction(
        round((minutes_float - minutes) * 60 * _SECONDS_DENOMINATOR), _SECONDS_DENOMINATOR
    )
    return degrees, minutes, seconds


def _xmp_dms(value: float, positive: str, negative: str) -> str:
    """The XMP spelling of a coordinate: ``"48,53.1307N"`` (degrees, decimal minutes)."""
    value_abs = abs(value)
    degrees = int(value_abs)
    minutes = (value_abs - degrees) * 60
    return f"{degrees},{minutes:.4f}{positive if value >= 0 else negative}"


def _rationals(value: float) -> list[tuple[int, int]]:
    degrees, minutes, seconds = _dms(value)
    return [(degrees, 1), (minutes, 1), (seconds.numerator, seconds.denominator)]


def coordinate_needles(lat: float, lon: float) -> list[bytes]:
    """The byte sequences a file leaking ``(lat, lon)`` would contain: decimal text at
    several precisions, the EXIF rationals (both byte orders), the XMP DMS text.

    A file uses one byte order, so no file holds every needle: a clean file holds none."""
    needles: list[bytes] = []
    for value in (lat, lon):
        text = f"{value:.6f}"
        for digits in (3, 4, 5, 6):  # truncated: a prefix of any longer spelling
            needles.append(text[: text.index(".") + 1 + digits].encode())
        for order in ("<", ">"):
            rationals = _rationals(value)
            needles.append(b"".join(struct.pack(order + "LL", *r) for r in rationals))
            needles.append(struct.pack(order + "LL", *rationals[2]))  # the seconds alone
    needles.append(_xmp_dms(lat, "N", "S").encode())
    needles.append(_xmp_dms(lon, "E", "W").encode())
    return list(dict.fromkeys(needles))


def _exif(lat: float, lon: float, orientation: int | None = None) -> Image.Exif:
    """A phone's EXIF: make, model, date, a maker note and user comment, the GPS IFD."""
    exif = Image.Exif()
    exif[0x010F] = "Peuplade Phone"  # Make
    exif[0x0110] = "Model 22 Pro"  # Model
    exif[0x0132] = "2026:12:06 11:45:00"  # DateTime
    if orientation is not None:
        exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)  # the Exif IFD
    sub[0x9286] = b"ASCII\0\0\0" + f"at home {lat:.6f},{lon:.6f}".encode()  # UserComment
    sub[0x927C] = b"MAKERNOTE\0" + f"{lat:.6f};{lon:.6f}".encode()  # MakerNote
    gps = exif.get_ifd(0x8825)
    gps[0x0000] = b"\x02\x03\x00\x00"  # GPSVersionID
    gps[0x0001] = "N" if lat >= 0 else "S"
    gps[0x0002] = tuple(Fraction(n, d) for n, d in _rationals(lat))
    gps[0x0003] = "E" if lon >= 0 else "W"
    gps[0x0004] = tuple(Fraction(n, d) for n, d in _rationals(lon))
    return exif


def _xmp(lat: float, lon: float) -> bytes:
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/"
    exif:GPSLatitude="{_xmp_dms(lat, "N", "S")}"
    exif:GPSLongitude="{_xmp_dms(lon, "E", "W")}"
    drone-dji:GpsLatitude="{lat:.6f}"
    drone-dji:GpsLongitude="{lon:.6f}"/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()


def _iptc_app13(lat: float, lon: float) -> bytes:
    """An APP13 Photoshop segment holding IPTC (city, caption with the position): Pillow
    reads IPTC but cannot write it."""

    def dataset(number: int, value: bytes) -> bytes:
        return b"\x1c\x02" + bytes([number]) + struct.pack(">H", len(value)) + value

    iptc = (
        dataset(0, b"\x00\x04")
        + dataset(90, b"Paris")
        + dataset(120, f"Mon balcon {lat:.6f} {lon:.6f}".encode())
    )
    if len(iptc) % 2:
        iptc += b"\0"
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">L", len(iptc)) + iptc
    payload = b"Photoshop 3.0\0" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def _insert_segment(jpeg: bytes, segment: bytes) -> bytes:
    """``jpeg`` with ``segment`` inserted after its APPn/COM segments (before the tables)."""
    pos = 2
    while jpeg[pos] == 0xFF and (0xE0 <= jpeg[pos + 1] <= 0xEF or jpeg[pos + 1] == 0xFE):
        pos += 2 + struct.unpack(">H", jpeg[pos + 2 : pos + 4])[0]
    return jpeg[:pos] + segment + jpeg[pos:]


def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _picture(size: tuple[int, int], mode: str = "RGB", seed: int = 22) -> Image.Image:
    """A detailed picture (gradients, shapes, noise) that does not compress to nothing."""
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 40)
    im = Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.ROTATE_180)))
    draw = ImageDraw.Draw(im)
    rng = random.Random(seed)
    for _ in range(30):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(5, max(6, min(size) // 6))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    return im.convert(mode) if mode != "RGB" else im


# --- photos we accept ------------------------------------------------------------------------


@functools.cache
def jpeg_with_gps(lat: float, lon: float, size: tuple[int, int] = (1200, 900)) -> bytes:
    """A phone JPEG that gives ``(lat, lon)`` away everywhere a phone does: EXIF with the
    GPS IFD, a maker note and user comment, XMP, IPTC (APP13), a COM comment, an ICC
    profile."""
    buffer = io.BytesIO()
    _picture(size).save(
        buffer,
        "JPEG",
        quality=90,
        exif=_exif(lat, lon),
        xmp=_xmp(lat, lon),
        icc_profile=_srgb_icc(),
        comment=f"GPS {lat:.6f} {lon:.6f}".encode(),
    )
    return _insert_segment(buffer.getvalue(), _iptc_app13(lat, lon))


def jpeg_bytes(size: tuple[int, int] = (800, 600), mode: str = "RGB") -> bytes:
    """A plain JPEG (``mode`` RGB, L or CMYK)."""
    buffer = io.BytesIO()
    _picture(size, mode).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def png_bytes(
    size: tuple[int, int] = (800, 600),
    *,
    alpha: bool = False,
    mode: str | None = None,
    gps: bool = True,
) -> bytes:
    """A PNG; with ``alpha`` a transparent left half, ``mode`` for P, LA, I;16 and the
    like. With ``gps`` it also carries the HOME position (eXIf, tEXt, iTXt XMP)."""
    im = _picture(size)
    if alpha:
        im = im.convert("RGBA")
        mask = Image.new("L", size, 255)
        mask.paste(0, (0, 0, size[0] // 2, size[1]))
        im.putalpha(mask)
    if mode == "I;16":
        im = im.convert("L").point(lambda v: v * 257, "I").convert("I;16")
    elif mode is not None:
        im = im.convert(mode)
    info = PngInfo()
    kwargs = {}
    if gps:
        info.add_text("Comment", f"{HOME[0]:.6f},{HOME[1]:.6f}")
        info.add_itxt("XML:com.adobe.xmp", _xmp(*HOME).decode())
        kwargs = (
            {"exif": _exif(*HOME), "icc_profile": _srgb_icc()} if im.mode in ("RGB", "RGBA") else {}
        )
    buffer = io.BytesIO()
    im.save(buffer, "PNG", pnginfo=info, **kwargs)
    return buffer.getvalue()


def webp_bytes(
    size: tuple[int, int] = (800, 600), *, alpha: bool = False, gps: bool = True
) -> bytes:
    """A WebP (lossy; lossless with ``alpha``), with EXIF+GPS, XMP and ICC if ``gps``."""
    im = _picture(size)
    if alpha:
        im.putalpha(Image.linear_gradient("L").resize(size))
    kwargs = {"exif": _exif(*HOME), "xmp": _xmp(*HOME), "icc_profile": _srgb_icc()} if gps else {}
    buffer = io.BytesIO()
    im.save(buffer, "WEBP", quality=85, lossless=alpha, **kwargs)
    return buffer.getvalue()


@functools.cache  # encoding HEIF is slow (x265); bytes are immutable, so share them
def heic_bytes(with_gps: bool = True, size: tuple[int, int] = (640, 480)) -> bytes:
    """An iPhone-like HEIC, with EXIF+GPS and XMP when ``with_gps``."""
    kwargs = {"exif": _exif(*HOME).tobytes(), "xmp": _xmp(*HOME)} if with_gps else {}
    buffer = io.BytesIO()
    _picture(size).save(buffer, "HEIF", quality=85, **kwargs)
    return buffer.getvalue()


def rotated_jpeg() -> bytes:
    """A JPEG stored on its side with EXIF Orientation 6 (rotate 90° clockwise to view):
    upright it is ROTATED_SIZE, GREEN top-left corner, RED top half, BLUE bottom half."""
    return rotated_image("JPEG")


def rotated_image(image_format: str = "JPEG") -> bytes:
    """rotated_jpeg() in ``image_format`` (JPEG, PNG, WEBP, HEIF). HEIF has no
    orientation tag of its own: pillow-heif writes it as a rotation the decoder applies."""
    width, height = ROTATED_SIZE
    upright = Image.new("RGB", ROTATED_SIZE, BLUE)
    upright.paste(RED, (0, 0, width, height // 2))
    upright.paste(GREEN, (0, 0, width // 4, height // 4))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what orientation 6 undoes
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(
        buffer, image_format, quality=95, exif=exif.tobytes() if image_format == "HEIF" else exif
    )
    return buffer.getvalue()


def mpo_bytes() -> bytes:
    """A phone's multi-picture JPEG (MPO: the photo and a second view): not an animation."""
    frames = [_picture((640, 480)), _picture((320, 240), seed=23)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "MPO", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def jpeg_then(trailer: bytes) -> bytes:
    """A valid JPEG with ``trailer`` after its end (a motion photo's video, an HTML page…)."""
    return jpeg_bytes((200, 150)) + trailer


def avif_bytes() -> bytes:
    """An AVIF: a modern photo format we do not accept."""
    buffer = io.BytesIO()
    _picture((64, 48)).save(buffer, "AVIF")
    return buffer.getvalue()


# --- hostile files ---------------------------------------------------------------------------


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">L", len(payload))
        + kind
        + payload
        + struct.pack(">L", zlib.crc32(kind + payload))
    )


def png_bomb(side: int = 30_000) -> bytes:
    """A ``side`` x ``side`` one-bit PNG of zeros (900 megapixels): ~110 KB on disk,
    gigabytes once decoded as RGB. Written by hand, compressed row by row."""
    ihdr = struct.pack(">LLBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    row = bytes(1 + (side + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    block = row * 256
    parts = [compressor.compress(block) for _ in range(side // 256)]
    parts.append(compressor.compress(row * (side % 256)))
    parts.append(compressor.flush())
    stream = b"".join(parts)
    idat = b"".join(
        _png_chunk(b"IDAT", stream[i : i + 65536]) for i in range(0, len(stream), 65536)
    )
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + idat + _png_chunk(b"IEND", b"")


def png_huge_ztxt(megabytes: int = 64) -> bytes:
    """A small valid PNG with a zTXt chunk that inflates to ``megabytes`` MB."""
    small = png_bytes((32, 32), gps=False)
    compressor = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    text = b"".join(compressor.compress(chunk) for _ in range(megabytes)) + compressor.flush()
    ztxt = _png_chunk(b"zTXt", b"Comment\0\0" + text)
    return small[:33] + ztxt + small[33:]  # right after IHDR (8 + 25 bytes)


def svg_with_script() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300">'
        b"<script>alert(document.cookie)</script>"
        b'<rect width="400" height="300" fill="red"/></svg>\n'
    )


def gif_animated() -> bytes:
    frames = [Image.new("RGB", (64, 64), colour) for colour in (RED, GREEN, BLUE)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def png_animated() -> bytes:
    """An animated PNG (APNG): a PNG, but not a photo."""
    frames = [Image.new("RGB", (64, 64), colour) for colour in (RED, GREEN, BLUE)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


def webp_animated() -> bytes:
    frames = [Image.new("RGB", (64, 64), colour) for colour in (RED, GREEN, BLUE)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


def pdf_named_jpg() -> bytes:
    """A one-page PDF (upload it as ``scan.jpg``: the name must not matter)."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def jpeg_zip_polyglot() -> bytes:
    """A valid JPEG followed by a ZIP archive: an image viewer and an unzip tool both
    open it."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("payload.html", "<script>alert(1)</script>")
    return jpeg_bytes((200, 150)) + archive.getvalue()


def truncated_jpeg() -> bytes:
    """A JPEG cut in the middle of its picture data (an upload that broke off)."""
    data = jpeg_bytes((800, 600))
    return data[: len(data) * 6 // 10]


def empty() -> bytes:
    return b""


def eleven_megabytes() -> bytes:
    """A valid-looking JPEG header, then padding to 11 MB."""
    header = jpeg_bytes((16, 16))[:20]
    return header + bytes(11 * 1024 * 1024 - len(header))
