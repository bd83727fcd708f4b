"""Photo processing at phone size: the app's whole path against Pillow merely decoding.

Makes, in memory, a 12-megapixel phone-like JPEG (4000 x 3000, detailed and noisy so
that it weighs what a phone's does, with EXIF and GPS), and times in the same run, N
times each (30 by default):

* **process**: ``peuplade.photos.processing.process`` — recognise, decode (at reduced
  scale), orient, sRGB, shrink to 1600 px, re-encode, thumbnail;
* **decode**: the baseline, ``Image.open(...).load()`` of the same file at full size.

It prints p50/p95 of each and their ratio, the peak memory of one run of each (maximum
resident set growth, in a fresh process), and checks the target: process p95 ≤ 300 ms.
A 23.5-megapixel PNG (5600 x 4200, under the budget of pictures decoded whole and the
10 MB limit) is the memory bound: the largest decode an upload can ask for (a JPEG is
decoded at reduced scale).

    .venv/bin/python bench/photos.py
    .venv/bin/python bench/photos.py --runs 60 --png-runs 3 --check
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from peuplade.photos.processing import LOSSLESS_PIXEL_BUDGET, MAX_BYTES, process

TARGET_P95_MS = 300.0
WARM_UP = 3


def phone_jpeg(size: tuple[int, int] = (4000, 3000), seed: int = 1) -> bytes:
    """A phone-like JPEG: smooth areas, sharp shapes and sensor noise, EXIF with GPS."""
    im = _scene(size, seed, noise=14)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Bench", "Phone 12MP"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (Fraction(48), Fraction(53), Fraction(7843, 1000))
    gps[3], gps[4] = "E", (Fraction(2), Fraction(20), Fraction(44441, 1000))
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def big_png(size: tuple[int, int] = (5600, 4200), seed: int = 2) -> bytes:
    """A 23.5-megapixel PNG (the most a PNG may have) light enough to upload: gradients
    and shapes, little noise."""
    buffer = io.BytesIO()
    _scene(size, seed, noise=0).save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def _scene(size: tuple[int, int], seed: int, noise: int) -> Image.Image:
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    radial = Image.radial_gradient("L").resize(size)
    im = Image.merge("RGB", (gradient, radial, gradient.transpose(Image.Transpose.ROTATE_180)))
    draw = ImageDraw.Draw(im)
    rng = random.Random(seed)
    for _ in range(400):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(10, min(size) // 8)
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.line(
                (x, y, x + rng.randrange(-r, r), y + r), fill=colour, width=rng.randrange(1, 9)
            )
    im = im.filter(ImageFilter.GaussianBlur(1))
    if noise:
        grain = Image.effect_noise(size, noise).convert("RGB")
        im = Image.blend(im, grain, 0.25)
    return im


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _series(fn: Callable[[], object], runs: int, warm_up: int) -> list[float]:
    for _ in range(warm_up):
        fn()
    return [_timed(fn) for _ in range(runs)]


def _p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as im:
        im.load()


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise LookupError(field)


def _peak_child(kind: str, path: str, queue) -> None:
    data = Path(path).read_bytes()
    # ru_maxrss survives fork and exec (it would report the parent's peak): reset and
    # read this process's own high-water mark instead.
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_mb("VmRSS")
    process(data) if kind == "process" else _decode(data)
    queue.put(_status_mb("VmHWM") - before)


def peak_memory_mb(kind: str, data: bytes) -> float:
    """Growth of the peak resident set over one run, in a fresh process (Linux)."""
    context = multiprocessing.get_context("spawn")
    with tempfile.NamedTemporaryFile(suffix=".bin") as file:
        file.write(data)
        file.flush()
        queue = context.Queue()
        child = context.Process(target=_peak_child, args=(kind, file.name, queue))
        child.start()
        result = queue.get(timeout=300)
        child.join()
    return result


HEADER = f"{'case':<28} {'p50':>8} {'p95':>8} {'peak MB':>8}"


def report(name: str, times: list[float], peak: float) -> None:
    print(f"{name:<28} {statistics.median(times):>8.1f} {_p95(times):>8.1f} {peak:>8.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs of the 12 MP JPEG")
    parser.add_argument("--png-runs", type=int, default=3, help="timed runs of the 23.5 MP PNG")
    parser.add_argument("--no-png", action="store_true", help="skip the 23.5 MP PNG")
    parser.add_argument("--check", action="store_true", help="exit 1 if the target is missed")
    args = parser.parse_args(argv)

    print("making the test files...", flush=True)
    jpeg = phone_jpeg()
    assert len(jpeg) <= MAX_BYTES, "the bench JPEG must be an acceptable upload"
    result = process(jpeg)
    print(
        f"12 MP JPEG: {len(jpeg) / 1e6:.1f} MB in -> full {result.full.width}x{result.full.height}"
        f" {len(result.full.data) / 1e3:.0f} KB, thumb {result.thumb.width}x{result.thumb.height}"
        f" {len(result.thumb.data) / 1e3:.0f} KB"
    )

    print(f"\nms per photo ({args.runs} runs, {WARM_UP} warm-up)")
    print("peak MB: growth of the resident set over one run, in a fresh process")
    print(HEADER)
    t_process = _series(lambda: process(jpeg), args.runs, WARM_UP)
    t_decode = _series(lambda: _decode(jpeg), args.runs, WARM_UP)
    report("12 MP JPEG process", t_process, peak_memory_mb("process", jpeg))
    report("12 MP JPEG decode (Pillow)", t_decode, peak_memory_mb("decode", jpeg))
    ratio50 = statistics.median(t_process) / statistics.median(t_decode)
    ratio95 = _p95(t_process) / _p95(t_decode)
    print(f"process / decode: p50 x{ratio50:.2f}, p95 x{ratio95:.2f}")

    if not args.no_png:
        png = big_png()
        assert len(png) <= MAX_BYTES and LOSSLESS_PIXEL_BUDGET >= 5600 * 4200
        print(f"\n23.5 MP PNG: {len(png) / 1e6:.1f} MB in ({args.png_runs} runs, 1 warm-up)")
        print(HEADER)
        report(
            "23.5 MP PNG process",
            _series(lambda: process(png), args.png_runs, 1),
            peak_memory_mb("process", png),
        )
        report(
            "23.5 MP PNG decode (Pillow)",
            _series(lambda: _decode(png), args.png_runs, 1),
            peak_memory_mb("decode", png),
        )

    p95 = _p95(t_process)
    verdict = "met" if p95 <= TARGET_P95_MS else "MISSED"
    print(f"\ntarget: 12 MP JPEG process p95 {p95:.0f} ms <= {TARGET_P95_MS:.0f} ms: {verdict}")
    return 1 if args.check and verdict != "met" else 0


if __name__ == "__main__":
    sys.exit(main())
