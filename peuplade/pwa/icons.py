"""The app's icons, drawn from the site's favicon (static/favicon.svg: a white house on a
rounded blue square) as PNG, which the manifest needs: ``flask pwa-icons`` writes them
to static/icons/; tests/test_pwa.py checks that the files there are what it draws.

- ``icon-<size>.png`` ("any"): the favicon as it is, rounded corners transparent;
- ``maskable-<size>.png``: the blue to the edges and the house inside the central
  circle of 80 % that every launcher's mask keeps (the "safe zone" of maskable icons).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

BLUE = (11, 79, 108, 255)  # #0b4f6c, the favicon's and the manifest's theme colour
WHITE = (255, 255, 255, 255)
# The favicon's house, in its 32 x 32 box (static/favicon.svg's path, as points).
HOUSE = [(6, 16), (16, 7), (26, 16), (23, 16), (23, 25), (18, 25), (18, 19), (14, 19),
         (14, 25), (9, 25), (9, 16)]  # fmt: skip
SIZES = (192, 512)
SUPERSAMPLE = 4  # drawn this much larger, then reduced: smooth edges


def draw(size: int, maskable: bool = False) -> Image.Image:
    """The icon at ``size`` pixels square (RGBA)."""
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if maskable:
        pen.rectangle((0, 0, big, big), fill=BLUE)
        # The house's box (x 6-26, y 7-25, centred on 16, 16) fits in the central 60 %:
        # well inside the circle of 80 % the masks keep.
        scale, offset = big * 0.6 / 20, big / 2 - 16 * (big * 0.6 / 20)
    else:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 6 / 32, fill=BLUE)
        scale, offset = big / 32, 0.0
    pen.polygon([(offset + x * scale, offset + y * scale) for x, y in HOUSE], fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def files() -> dict[str, tuple[int, bool]]:
    """The icons' file names (in static/icons/), with their size and whether maskable."""
    named = {}
    for size in SIZES:
        named[f"icon-{size}.png"] = (size, False)
        named[f"maskable-{size}.png"] = (size, True)
    return named


def write_all(folder: Path) -> list[Path]:
    """Draw every icon into ``folder``; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (size, maskable) in files().items():
        path = folder / name
        draw(size, maskable).save(path, format="PNG", optimize=True)
        written.append(path)
    return written
