"""A real local HTTP server that answers like a slippy-map tile server (``/{z}/{x}/{y}``).

Map tiles come from an external service (OpenStreetMap's in production), which tests
and screenshots cannot reach: this server stands in for it. It draws each 256 px tile
as SVG from the open data shipped in ``data/`` - the quartier polygons of Paris, their
names, and the public places (Vélib' stations) as dots - so a map shows a recognisable
neighbourhood. It runs in a thread on 127.0.0.1 (free port) and counts the tiles served:

    with FakeTiles() as tiles:
        app = make_app(MAP_TILE_URL=tiles.url_template)   # http://127.0.0.1:PORT/{z}/{x}/{y}.svg
"""

from __future__ import annotations

import json
import math
import re
import threading
from functools import lru_cache
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from shapely.geometry import box, shape

DATA = Path(__file__).resolve().parent.parent / "data"
TILE = 256
TILE_PATH = re.compile(r"^/(\d{1,2})/(\d+)/(\d+)\.svg$")


def _pixel(lon: float, lat: float, z: int, x: int, y: int) -> tuple[float, float]:
    """Web Mercator: a point's pixel inside tile (z, x, y)."""
    n = 2**z
    px = ((lon + 180.0) / 360.0 * n - x) * TILE
    rad = math.radians(lat)
    py = ((1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * n - y) * TILE
    return px, py


def _tile_bounds(z: int, x: int, y: int):
    n = 2**z

    def lat(row: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return box(x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y))


@lru_cache(maxsize=1)
def _features() -> tuple[list, list]:
    quartiers = [
        (shape(f["geometry"]), f["properties"].get("l_qu", ""))
        for f in json.loads((DATA / "quartiers-paris.geojson").read_text())["features"]
    ]
    places = [
        tuple(f["geometry"]["coordinates"][:2])
        for f in json.loads((DATA / "places-paris.geojson").read_text())["features"]
        if f.get("geometry", {}).get("type") == "Point"
    ]
    return quartiers, places


def render_tile(z: int, x: int, y: int) -> str:
    """One tile as an SVG document."""
    bounds = _tile_bounds(z, x, y)
    quartiers, places = _features()
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{TILE}" height="{TILE}" '
        f'viewBox="0 0 {TILE} {TILE}">',
        f'<rect width="{TILE}" height="{TILE}" fill="#eef0e6"/>',
    ]
    labels = []
    for polygon, name in quartiers:
        if not polygon.intersects(bounds):
            continue
        ring = " ".join(
            f"{px:.1f},{py:.1f}"
            for px, py in (_pixel(lon, lat, z, x, y) for lon, lat in polygon.exterior.coords)
        )
        parts.append(f'<polygon points="{ring}" fill="#f8f6ef" stroke="#9aa39a" stroke-width="2"/>')
        centre = polygon.representative_point()
        if z >= 14 and bounds.contains(centre):
            cx, cy = _pixel(centre.x, centre.y, z, x, y)
            labels.append(
                f'<text x="{cx:.1f}" y="{cy:.1f}" font-family="sans-serif" font-size="13" '
                f'fill="#4a524a" text-anchor="middle">{escape(name)}</text>'
            )
    if z >= 15:
        for lon, lat in places:
            px, py = _pixel(lon, lat, z, x, y)
            if -4 <= px <= TILE + 4 and -4 <= py <= TILE + 4:
                parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="#b9c2b9"/>')
    parts.extend(labels)
    parts.append("</svg>")
    return "".join(parts)


class FakeTiles:
    def __init__(self) -> None:
        self.served = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                found = TILE_PATH.match(self.path.split("?", 1)[0])
                if not found:
                    self.send_error(404)
                    return
                z, x, y = (int(v) for v in found.groups())
                if z > 19 or not (0 <= x < 2**z and 0 <= y < 2**z):
                    self.send_error(404)
                    return
                body = render_tile(z, x, y).encode()
                fake.served += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/svg+xml")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "max-age=3600")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url_template(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/{{z}}/{{x}}/{{y}}.svg"

    def __enter__(self) -> FakeTiles:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
