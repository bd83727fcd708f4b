"""Rebuild data/places-paris.geojson (the public meeting points) from the open data.

Run from the repository root:
    .venv/bin/python data/tools/build_places.py SOURCE_DIR
where SOURCE_DIR holds paris-velib-stations.geojson (Vélib' stations, City of Paris,
ODbL). Keeps each station's name, id and position; the script is deterministic.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent

# The name a neighbour uses for the place a station stands at (the gazetteer's aliases).
FRIENDLY_NAMES = {
    "Brochant - Square des Batignolles": "Square des Batignolles",
    "Batignolles - Place de Clichy": "Place de Clichy",
    "Square des Epinettes": "Square des Épinettes",
    "Mairie du 17ème": "Mairie du 17e",
    "Mairie du 8ème": "Mairie du 8e",
}


def build(source: Path) -> None:
    stations = json.loads((source / "paris-velib-stations.geojson").read_text(encoding="utf-8"))
    features = stations["features"]
    names = Counter(f["properties"]["name"].strip() for f in features)
    places = []
    for feature in features:
        props = feature["properties"]
        station = " ".join(props["name"].split())
        name = FRIENDLY_NAMES.get(station, station)
        if names[props["name"].strip()] > 1:
            # A few town-hall squares outside Paris share a name: keep them apart.
            name = f"{name} (station {props['station_id']})"
        lon, lat = feature["geometry"]["coordinates"][:2]
        places.append(
            {
                "type": "Feature",
                "properties": {"name": name, "station_id": props["station_id"]},
                "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            }
        )
    places.sort(key=lambda f: f["properties"]["station_id"])
    out = {
        "type": "FeatureCollection",
        "source": "Données : Ville de Paris, ODbL (stations Vélib')",
        "features": places,
    }
    text = json.dumps(out, ensure_ascii=False, separators=(",", ":"))
    # One feature per line: readable diffs when the open data changes.
    text = text.replace(',{"type":"Feature"', ',\n{"type":"Feature"')
    (DATA / "places-paris.geojson").write_text(text + "\n", encoding="utf-8")
    print(f"{len(places)} places")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    build(Path(sys.argv[1]))
