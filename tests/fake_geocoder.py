"""A real local HTTP server that answers like a geocoding provider's public API.

One server imitates one provider (``nominatim``, ``ban`` or ``photon``), from a small
table of places. It runs in a thread on 127.0.0.1 (free port), records every query
it receives, and can be told to be slow or to fail:

    with FakeGeocoder("ban", {"12 rue des dames": [FakePlace(...)]}) as fake:
        app = make_app(GEOCODER="ban", GEOCODER_DOMAIN=fake.domain, GEOCODER_SCHEME="http")
        fake.delay = 30      # answer only after 30 s (or when the server stops)
        fake.status = 503    # answer with this HTTP error

Answers follow the providers' documented formats:
- Nominatim ``/search?q=&format=json``: a JSON list of ``{lat, lon, display_name,
  importance, ...}`` (lat/lon as strings, as Nominatim sends them);
- BAN ``/search/?q=``: a GeoJSON FeatureCollection, ``properties.label`` and ``score``;
- Photon ``/api?q=``: a GeoJSON FeatureCollection, ``properties.name/street/housenumber/
  postcode/city/country``.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PATHS = {"nominatim": ("/search",), "ban": ("/search", "/search/"), "photon": ("/api", "/api/")}


@dataclass(frozen=True)
class FakePlace:
    lat: float
    lon: float
    street: str
    housenumber: str = ""
    postcode: str = "75017"
    city: str = "Paris"
    score: float = 0.9

    @property
    def label(self) -> str:
        return f"{self.housenumber} {self.street} {self.postcode} {self.city}".strip()


def table_key(query: str) -> str:
    """How the fake matches queries: case, accents and punctuation do not matter."""
    text = unicodedata.normalize("NFKD", query)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


class FakeGeocoder:
    def __init__(self, provider: str, places: dict[str, list[FakePlace]]):
        if provider not in PATHS:
            raise ValueError(provider)
        self.provider = provider
        self.places = {table_key(k): v for k, v in places.items()}
        self.delay = 0.0
        self.status = 200
        self.body: str | None = None  # a raw body to send instead of the real answer
        self.queries: list[str] = []
        self.paths: list[str] = []
        self.user_agents: list[str] = []
        self.in_flight = 0
        self._lock = threading.Lock()
        self._release = threading.Event()  # set at stop: slow answers end at once
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def domain(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> FakeGeocoder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeGeocoder:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- answers -------------------------------------------------------------------

    def answer(self, path: str, params: dict[str, list[str]]) -> tuple[int, str]:
        if path not in PATHS[self.provider]:
            return 404, json.dumps({"error": "not found"})
        query = (params.get("q") or [""])[0]
        limit = int((params.get("limit") or ["10"])[0])
        found = self.places.get(table_key(query), [])[:limit]
        if self.provider == "nominatim":
            if (params.get("format") or [""])[0] != "json":
                return 400, "format=json expected"
            return 200, json.dumps([self._nominatim(i, p) for i, p in enumerate(found)])
        features = [
            self._ban(p) if self.provider == "ban" else self._photon(i, p)
            for i, p in enumerate(found)
        ]
        return 200, json.dumps({"type": "FeatureCollection", "features": features})

    @staticmethod
    def _nominatim(i: int, p: FakePlace) -> dict:
        return {
            "place_id": 1000 + i,
            "licence": "Data © OpenStreetMap contributors, ODbL 1.0.",
            "osm_type": "node",
            "lat": f"{p.lat:.7f}",
            "lon": f"{p.lon:.7f}",
            "boundingbox": [
                f"{p.lat - 0.0001:.7f}",
                f"{p.lat + 0.0001:.7f}",
                f"{p.lon - 0.0001:.7f}",
                f"{p.lon + 0.0001:.7f}",
            ],
            "class": "place",
            "type": "house",
            "importance": p.score,
            "display_name": ", ".join(
                x
                for x in (
                    p.housenumber,
                    p.street,
                    "Paris 17e Arrondissement",
                    p.city,
                    "Île-de-France",
                    "France métropolitaine",
                    p.postcode,
                    "France",
                )
                if x
            ),
        }

    @staticmethod
    def _ban(p: FakePlace) -> dict:
        name = f"{p.housenumber} {p.street}".strip()
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
            "properties": {
                "label": f"{name} {p.postcode} {p.city}",
                "score": p.score,
                "housenumber": p.housenumber or None,
                "name": name,
                "postcode": p.postcode,
                "citycode": "75117",
                "city": p.city,
                "district": "Paris 17e Arrondissement",
                "context": "75, Paris, Île-de-France",
                "type": "housenumber" if p.housenumber else "street",
                "street": p.street,
            },
        }

    @staticmethod
    def _photon(i: int, p: FakePlace) -> dict:
        props = {
            "osm_id": 5000 + i,
            "osm_type": "N",
            "country": "France",
            "city": p.city,
            "postcode": p.postcode,
            "street": p.street,
            "type": "house" if p.housenumber else "street",
        }
        if p.housenumber:
            props["housenumber"] = p.housenumber
        else:
            props["name"] = p.street
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
            "properties": props,
        }

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlsplit(self.path)
                params = parse_qs(url.query)
                with fake._lock:
                    fake.queries.append((params.get("q") or [""])[0])
                    fake.paths.append(url.path)
                    fake.user_agents.append(self.headers.get("User-Agent", ""))
                    fake.in_flight += 1
                try:
                    if fake.delay:
                        fake._release.wait(fake.delay)
                    if fake.status != 200:
                        status, body = fake.status, json.dumps({"error": "unavailable"})
                    elif fake.body is not None:
                        status, body = 200, fake.body
                    else:
                        status, body = fake.answer(url.path, params)
                    payload = body.encode()
                    try:
                        self.send_response(status)
                        self.send_header("Content-Type", "application/json; charset=utf-8")
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        self.wfile.write(payload)
                    except OSError:
                        pass  # the client gave up (timeout): nothing to answer to
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def log_message(self, *args):  # keep test output quiet
                pass

        return Handler
