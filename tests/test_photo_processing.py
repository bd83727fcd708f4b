"""Photo processing on its own: what comes out of an upload (a clean JPEG, upright, no
metadata, no trace of the author's home) and what never gets in (hostile files, each
with its own clear refusal). No database, no app: pure Pillow and exiftool.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from peuplade.photos import processing
from peuplade.photos.processing import (
    MAX_BYTES,
    MAX_SIDE,
    THUMB_SIDE,
    PhotoRefused,
    process,
    read_upload,
)
from tests import photofiles

HOME = photofiles.HOME
NEEDLES = photofiles.coordinate_needles(*HOME)

# What a clean JPEG may still say about itself, per reader.
CLEAN_INFO_KEYS = {
    "jfif",
    "jfif_version",
    "jfif_unit",
    "jfif_density",
    "dpi",
    "progressive",
    "progression",
}
CLEAN_EXIFTOOL_GROUPS = {"SourceFile", "ExifTool", "System", "File", "JFIF", "Composite"}
# JPEG markers allowed before the picture data: APP0 (JFIF), tables, frame, scan.
CLEAN_MARKERS = {0xE0, 0xDB, 0xC4, 0xC0, 0xC1, 0xC2, 0xDD, 0xDA}

# Every accepted format, carrying the author's home wherever the format allows it.
ACCEPTED = {
    "jpeg-gps": lambda: photofiles.jpeg_with_gps(*HOME),
    "jpeg-large": lambda: photofiles.jpeg_with_gps(*HOME, size=(2400, 1800)),
    "jpeg-portrait": lambda: photofiles.jpeg_with_gps(*HOME, size=(900, 2000)),
    "jpeg-grey": lambda: photofiles.jpeg_bytes(mode="L"),
    "jpeg-cmyk": lambda: photofiles.jpeg_bytes(mode="CMYK"),
    "mpo": photofiles.mpo_bytes,
    "png": photofiles.png_bytes,
    "png-alpha": lambda: photofiles.png_bytes(alpha=True),
    "png-palette": lambda: photofiles.png_bytes(mode="P"),
    "png-grey-alpha": lambda: photofiles.png_bytes(mode="LA"),
    "png-16-bit": lambda: photofiles.png_bytes(mode="I;16"),
    "png-small": lambda: photofiles.png_bytes((120, 90)),
    "webp": photofiles.webp_bytes,
    "webp-alpha": lambda: photofiles.webp_bytes(alpha=True),
    "heic": photofiles.heic_bytes,
}


def expected_size(size: tuple[int, int], side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1, side / max(width, height))
    return round(width * scale), round(height * scale)


@pytest.fixture(scope="module")
def results() -> dict[str, tuple[bytes, processing.Processed]]:
    """Each accepted upload and what processing made of it (processed once per module)."""
    out = {}
    for name, make in ACCEPTED.items():
        data = make()
        out[name] = (data, process(data))
    return out


def exiftool(blobs: dict[str, bytes], tmp_path) -> dict[str, dict]:
    """``exiftool -j -a -G1`` on each blob, in a single run."""
    paths = []
    for name, blob in blobs.items():
        path = tmp_path / f"{name}.bin"
        path.write_bytes(blob)
        paths.append(str(path))
    run = subprocess.run(
        [shutil.which("exiftool") or "/usr/bin/exiftool", "-j", "-a", "-G1", *paths],
        capture_output=True,
        check=False,
        timeout=120,
    )
    return {entry["SourceFile"].rsplit("/", 1)[1][:-4]: entry for entry in json.loads(run.stdout)}


def exiftool_groups(tags: dict) -> set[str]:
    return {key.split(":", 1)[0] for key in tags}


def jpeg_markers(data: bytes) -> list[int]:
    """The markers of a JPEG's segments, up to its first scan."""
    assert data[:2] == b"\xff\xd8"
    markers, pos = [], 2
    while True:
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:
            return markers
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]


# --- the files of the tests really carry what must be removed ----------------------------


def test_the_phone_photo_gives_the_home_away_before_processing(tmp_path):
    original = photofiles.jpeg_with_gps(*HOME)
    found = [needle for needle in NEEDLES if needle in original]
    assert b"48.885512" in found and b"2,20.7407E" in found and len(found) >= 12

    tags = exiftool({"original": original}, tmp_path)["original"]
    assert {"GPS", "IFD0", "ExifIFD", "XMP-exif", "IPTC", "ICC_Profile"} <= exiftool_groups(tags)
    assert tags["File:Comment"].startswith("GPS 48.885512")
    im = Image.open(io.BytesIO(original))
    assert {"exif", "xmp", "icc_profile", "comment"} <= set(im.info)


# --- what comes out ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ACCEPTED)
def test_every_accepted_format_gives_a_jpeg_and_a_thumbnail(results, name):
    original, result = results[name]
    source_size = Image.open(io.BytesIO(original)).size
    for variant, side in ((result.full, MAX_SIDE), (result.thumb, THUMB_SIDE)):
        im = Image.open(io.BytesIO(variant.data))
        assert im.format == "JPEG" and im.mode == "RGB"
        assert variant.content_type == "image/jpeg"
        assert im.size == (variant.width, variant.height)
        assert max(im.size) <= side
        wanted = expected_size(source_size, side)
        assert abs(im.width - wanted[0]) <= 1 and abs(im.height - wanted[1]) <= 1
    if max(source_size) > THUMB_SIDE:
        assert max(result.thumb.width, result.thumb.height) == THUMB_SIDE


@pytest.mark.parametrize("name", ACCEPTED)
def test_no_metadata_survives(results, name):
    _, result = results[name]
    for variant in (result.full, result.thumb):
        im = Image.open(io.BytesIO(variant.data))
        assert set(im.info) <= CLEAN_INFO_KEYS, set(im.info) - CLEAN_INFO_KEYS
        assert len(im.getexif()) == 0
        assert set(jpeg_markers(variant.data)) <= CLEAN_MARKERS
        assert [needle for needle in NEEDLES if needle in variant.data] == []


def test_exiftool_finds_nothing_but_the_basics(results, tmp_path):
    blobs = {}
    for name, (_, result) in results.items():
        blobs[f"{name}-full"] = result.full.data
        blobs[f"{name}-thumb"] = result.thumb.data
    report = exiftool(blobs, tmp_path)
    assert set(report) == set(blobs)
    for name, tags in report.items():
        assert exiftool_groups(tags) <= CLEAN_EXIFTOOL_GROUPS, (name, tags)
        assert not [key for key in tags if "GPS" in key or "Comment" in key], (name, tags)


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_the_orientation_is_applied(image_format):
    result = process(photofiles.rotated_image(image_format))
    im = Image.open(io.BytesIO(result.full.data))
    assert im.size == photofiles.ROTATED_SIZE
    width, height = im.size

    def near(pixel, colour):
        return all(abs(a - b) <= 24 for a, b in zip(pixel, colour, strict=True))

    assert near(im.getpixel((5, 5)), photofiles.GREEN)
    assert near(im.getpixel((width - 5, 5)), photofiles.RED)
    assert near(im.getpixel((5, height - 5)), photofiles.BLUE)
    assert near(im.getpixel((width - 5, height - 5)), photofiles.BLUE)
    thumb = Image.open(io.BytesIO(result.thumb.data))
    assert near(thumb.getpixel((2, 2)), photofiles.GREEN)


def test_transparency_is_laid_on_white(results):
    im = Image.open(io.BytesIO(results["png-alpha"][1].full.data))
    assert all(channel >= 250 for channel in im.getpixel((10, im.height // 2)))
    assert im.getpixel((im.width - 10, im.height // 2)) != (255, 255, 255)


def test_sixteen_bit_grey_is_scaled_not_clipped(results):
    grey = Image.open(io.BytesIO(results["jpeg-grey"][1].full.data)).convert("L")
    deep = Image.open(io.BytesIO(results["png-16-bit"][1].full.data)).convert("L")
    mean = sum(deep.histogram()[i] * i for i in range(256)) / (deep.width * deep.height)
    reference = sum(grey.histogram()[i] * i for i in range(256)) / (grey.width * grey.height)
    assert abs(mean - reference) < 10


def test_truncated_images_are_never_loaded_leniently():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


# --- what never gets in ---------------------------------------------------------------------

HOSTILE = {
    "png-bomb": (photofiles.png_bomb, processing.TOO_MANY_PIXELS),
    "png-huge-ztxt": (photofiles.png_huge_ztxt, processing.HIDDEN_DATA),
    "svg-with-script": (photofiles.svg_with_script, processing.NOT_ACCEPTED),
    "gif": (photofiles.gif_animated, processing.NOT_ACCEPTED),
    "pdf-named-jpg": (photofiles.pdf_named_jpg, processing.NOT_ACCEPTED),
    "avif": (photofiles.avif_bytes, processing.NOT_ACCEPTED),
    "apng": (photofiles.png_animated, processing.ANIMATED),
    "animated-webp": (photofiles.webp_animated, processing.ANIMATED),
    "jpeg-zip-polyglot": (photofiles.jpeg_zip_polyglot, processing.POLYGLOT),
    "jpeg-then-html": (
        lambda: photofiles.jpeg_then(b"<html><script>alert(1)</script></html>"),
        processing.POLYGLOT,
    ),
    "truncated-jpeg": (photofiles.truncated_jpeg, processing.DAMAGED),
    "truncated-png": (lambda: photofiles.png_bytes(gps=False)[:5000], processing.DAMAGED),
    "jpeg-header-only": (lambda: photofiles.jpeg_bytes()[:40], processing.DAMAGED),
    "text": (lambda: b"Bonjour, voici ma photo !\n" * 40, processing.NOT_AN_IMAGE),
    "empty": (photofiles.empty, processing.EMPTY),
    "eleven-megabytes": (photofiles.eleven_megabytes, processing.TOO_BIG),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_each_hostile_file_gets_its_own_refusal(name):
    make, message = HOSTILE[name]
    with pytest.raises(PhotoRefused) as refused:
        process(make())
    assert str(refused.value) == str(message)
    assert refused.value.message is message


def test_each_family_of_refusal_reads_differently():
    families = {id(message): message for _, message in HOSTILE.values()}
    messages = {str(message) for message in families.values()}
    assert len(families) == 9
    assert len(messages) == len(families)  # one sentence per family, none reused
    assert "10 Mo" in str(processing.TOO_BIG)
    assert "50 millions de pixels" in str(processing.TOO_MANY_PIXELS)
    for message in messages:
        assert message.endswith(".") and "%(" not in message


def test_a_motion_photo_trailer_is_not_a_polyglot():
    # Phones append the short video of a "motion photo" after the JPEG: keep the photo.
    video = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(2000)
    result = process(photofiles.jpeg_then(video))
    assert (result.full.width, result.full.height) == (200, 150)


def test_a_multi_picture_phone_jpeg_is_not_an_animation(results):
    assert Image.open(io.BytesIO(photofiles.mpo_bytes())).n_frames == 2
    assert results["mpo"][1].full.width == 640


def test_the_pixel_budget_applies_before_decoding():
    # 8000 x 7000 = 56 MP, under Pillow's own limit (89 MP), over ours; a tiny file.
    header = Image.new("1", (8000, 7000))
    buffer = io.BytesIO()
    header.save(buffer, "PNG")
    with pytest.raises(PhotoRefused) as refused:
        process(buffer.getvalue())
    assert refused.value.message is processing.TOO_MANY_PIXELS


def _tiny_png(size: tuple[int, int], mode: str = "P") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, "PNG")
    return buffer.getvalue()


def test_pictures_decoded_whole_have_a_lower_budget_and_must_weigh_their_pixels():
    """PNG and WebP are decoded whole (no reduced-scale decoding as for JPEG): 24 MP at
    most; and a few KB announcing millions of pixels (seconds of CPU and hundreds of MB
    to decode) is refused before decoding."""
    lossless = _tiny_png((6000, 5000))  # 30 MP: under the JPEG budget, over this one
    with pytest.raises(PhotoRefused) as refused:
        process(lossless)
    assert refused.value.message is processing.TOO_MANY_PIXELS_LOSSLESS
    inflated = _tiny_png((5000, 4000))  # 20 MP in a few KB
    assert len(inflated) * processing.MAX_PIXELS_PER_BYTE < 20_000_000
    with pytest.raises(PhotoRefused) as refused:
        process(inflated)
    assert refused.value.message is processing.INFLATED
    # A small flat picture is cheap: accepted however well it compresses.
    assert process(_tiny_png((1600, 1200), "RGB")).full.width == 1600


# --- reading the upload -------------------------------------------------------------------


class EndlessStream:
    """A client that never stops sending; counts what the server read."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "an unbounded read of an upload"
        size = min(size, 1 << 20)
        self.read_bytes += size
        return b"\xff" * size


def test_read_upload_stops_just_past_the_limit():
    stream = EndlessStream()
    with pytest.raises(PhotoRefused) as refused:
        read_upload(stream)
    assert refused.value.message is processing.TOO_BIG
    assert stream.read_bytes == MAX_BYTES + 1


def test_read_upload_refuses_an_empty_file_and_keeps_a_full_one():
    with pytest.raises(PhotoRefused) as refused:
        read_upload(io.BytesIO(b""))
    assert str(refused.value) == "Le fichier est vide."
    assert len(read_upload(io.BytesIO(bytes(MAX_BYTES)))) == MAX_BYTES
    photo = photofiles.jpeg_with_gps(*HOME)
    assert read_upload(io.BytesIO(photo)) == photo


# --- fuzzing: a refusal or a photo, never anything else ----------------------------------------

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SEEDS = [
    photofiles.jpeg_bytes((96, 72)),
    photofiles.png_bytes((96, 72), alpha=True, gps=False),
    photofiles.webp_bytes((96, 72), gps=False),
    photofiles.rotated_jpeg(),
]


def processed_or_refused(data: bytes) -> None:
    try:
        result = process(data)
    except PhotoRefused as refused:
        assert str(refused)
        return
    for variant in (result.full, result.thumb):
        im = Image.open(io.BytesIO(variant.data))
        assert im.format == "JPEG" and max(im.size) <= MAX_SIDE
        assert set(im.info) <= CLEAN_INFO_KEYS


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_are_refused_cleanly(data):
    processed_or_refused(data)


@FUZZ
@given(st.data())
def test_damaged_photos_are_processed_or_refused_cleanly(data):
    seed = bytearray(data.draw(st.sampled_from(SEEDS)))
    flips = data.draw(
        st.lists(st.tuples(st.integers(0, len(seed) - 1), st.integers(0, 255)), max_size=8)
    )
    for position, value in flips:
        seed[position] = value
    end = data.draw(st.integers(0, len(seed)))
    if data.draw(st.booleans()):
        seed = seed[:end]
    processed_or_refused(bytes(seed))
