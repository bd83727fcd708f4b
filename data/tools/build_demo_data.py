"""Rebuild data/quartiers-paris.geojson and data/gazetteer.json from the open data.

Run from the repository root:  .venv/bin/python data/tools/build_demo_data.py SOURCE_DIR
where SOURCE_DIR holds paris-quartiers.geojson and paris-velib-stations.geojson
(open data of the City of Paris, ODbL). The script is deterministic.

Street addresses are INVENTED for the demo: each street is a few anchor points
(number, lat, lon) taken from real corners (Vélib' stations) and interpolated by
house number, then checked against the quartier polygon it claims.
"""

from __future__ import annotations

import json
import sys
from itertools import pairwise
from pathlib import Path

from geopy.distance import geodesic
from shapely.geometry import Point, shape

DATA = Path(__file__).resolve().parent.parent
SQUARE_DES_BATIGNOLLES = (48.8873, 2.3155)
PLACES_RADIUS_M = 2000
QUARTIER_FIELDS = ("l_qu", "c_qu", "c_ar", "c_quinsee", "surface")

# Well-known names for some stations: what a neighbour would type.
PLACE_ALIASES = {
    "Brochant - Square des Batignolles": ["Square des Batignolles"],
    "Batignolles - Place de Clichy": ["Place de Clichy"],
    "Square des Epinettes": ["Square des Épinettes"],
    "Mairie du 17ème": ["Mairie du 17e", "Mairie du 17e arrondissement"],
    "Gare de Pont-Cardinet": ["Pont Cardinet", "Gare Pont-Cardinet"],
    "Place de Lévis": ["Marché de Lévis"],
    "Parc Monceau": ["Entrée du parc Monceau"],
}

# street -> (quartier, [(number, lat, lon), ...]); anchors ordered by number.
STREETS: dict[str, tuple[str, list[tuple[int, float, float]]]] = {
    "rue des Dames": (
        "Batignolles",
        [(1, 48.88492, 2.32590), (40, 48.88468, 2.32140), (100, 48.88390, 2.31720)],
    ),
    "rue des Batignolles": (
        "Batignolles",
        [(2, 48.88250, 2.32030), (50, 48.88620, 2.31870)],
    ),
    "rue Lemercier": (
        "Batignolles",
        [(1, 48.88480, 2.32070), (130, 48.88990, 2.31750)],
    ),
    "rue Nollet": (
        "Batignolles",
        [(1, 48.88490, 2.32000), (60, 48.88760, 2.32020), (100, 48.88900, 2.32000)],
    ),
    "rue Brochant": (
        "Batignolles",
        [(1, 48.88760, 2.31720), (40, 48.88950, 2.31800)],
    ),
    "rue Truffaut": (
        "Batignolles",
        [(1, 48.88440, 2.31860), (70, 48.88920, 2.31650)],
    ),
    "rue La Condamine": (
        "Batignolles",
        [(1, 48.88690, 2.32460), (80, 48.88650, 2.32070)],
    ),
    "rue Dulong": (
        "Batignolles",
        [(1, 48.88310, 2.31780), (60, 48.88600, 2.31580)],
    ),
    "rue Legendre": (
        "",  # three quartiers, see LEGENDRE_QUARTIERS
        [
            (1, 48.88170, 2.30970),
            (50, 48.88355, 2.31319),
            (80, 48.88533, 2.31642),
            (110, 48.88774, 2.32029),
            (140, 48.88896, 2.32253),
            (180, 48.89110, 2.32580),
        ],
    ),
    "rue Cardinet": (
        "",  # Plaine de Monceaux west of the railway, Batignolles east of it
        [
            (60, 48.88370, 2.30880),
            (80, 48.88496, 2.31099),
            (100, 48.88714, 2.31449),
            (140, 48.89000, 2.31720),
        ],
    ),
    "rue de la Jonquière": (
        "Epinettes",
        [(1, 48.89260, 2.32660), (50, 48.89390, 2.32250), (90, 48.89480, 2.31871)],
    ),
    "rue Guy Môquet": (
        "Epinettes",
        [(1, 48.88990, 2.32190), (60, 48.89214, 2.32322), (120, 48.89500, 2.32520)],
    ),
    "rue des Épinettes": (
        "Epinettes",
        [(1, 48.89450, 2.32620), (60, 48.89588, 2.32268)],
    ),
    "rue Pouchet": (
        "Epinettes",
        [(1, 48.89190, 2.31840), (60, 48.89700, 2.32220)],
    ),
    "rue Davy": (
        "Epinettes",
        [(1, 48.89160, 2.32620), (50, 48.89330, 2.32400)],
    ),
    "rue de Lévis": (
        "Plaine de Monceaux",
        [(10, 48.88170, 2.31500), (80, 48.88355, 2.31319)],
    ),
    "rue de Tocqueville": (
        "Plaine de Monceaux",
        [(1, 48.88220, 2.31430), (60, 48.88496, 2.31099), (100, 48.88640, 2.30780)],
    ),
    "avenue de Villiers": (
        "Plaine de Monceaux",
        [(10, 48.88150, 2.31450), (60, 48.88242, 2.30905), (100, 48.88422, 2.30565)],
    ),
    "rue Jouffroy-d'Abbans": (
        "Plaine de Monceaux",
        [(20, 48.88200, 2.30113), (60, 48.88422, 2.30565), (80, 48.88501, 2.30707)],
    ),
}
LEGENDRE_QUARTIERS = ((55, "Plaine de Monceaux"), (116, "Batignolles"), (999, "Epinettes"))
CARDINET_QUARTIERS = ((85, "Plaine de Monceaux"), (999, "Batignolles"))

# The demo addresses: numbers spread along each street (so "rue X" alone is ambiguous).
ADDRESSES: dict[str, list[int]] = {
    "rue des Dames": [3, 12, 27, 44, 58, 71, 86],
    "rue des Batignolles": [9, 22, 41],
    "rue Lemercier": [15, 38, 67, 104],
    "rue Nollet": [8, 33, 57, 92],
    "rue Brochant": [5, 24, 36],
    "rue Truffaut": [11, 29, 52],
    "rue La Condamine": [14, 47, 70],
    "rue Dulong": [6, 35],
    "rue Legendre": [30, 63, 97, 112, 130, 158, 172],
    "rue Cardinet": [72, 118, 135],
    "rue de la Jonquière": [7, 42, 76],
    "rue Guy Môquet": [18, 55, 98],
    "rue des Épinettes": [9, 31, 50],
    "rue Pouchet": [12, 45],
    "rue Davy": [10, 37],
    "rue de Lévis": [22, 61],
    "rue de Tocqueville": [17, 48, 88],
    "avenue de Villiers": [40, 85],
    "rue Jouffroy-d'Abbans": [33, 71],
}


def _interpolate(anchors: list[tuple[int, float, float]], number: int) -> tuple[float, float]:
    if number <= anchors[0][0]:
        return anchors[0][1], anchors[0][2]
    for (n0, la0, lo0), (n1, la1, lo1) in pairwise(anchors):
        if n0 <= number <= n1:
            t = (number - n0) / (n1 - n0)
            # Odd and even sides a few metres apart, like a real street.
            side = 0.00003 if number % 2 else -0.00003
            return la0 + t * (la1 - la0) + side, lo0 + t * (lo1 - lo0) - side
    return anchors[-1][1], anchors[-1][2]


def _quartier_for(street: str, number: int) -> str:
    ranges = {"rue Legendre": LEGENDRE_QUARTIERS, "rue Cardinet": CARDINET_QUARTIERS}.get(street)
    if ranges is None:
        return STREETS[street][0]
    return next(name for limit, name in ranges if number <= limit)


def build(source: Path) -> None:
    quartiers = json.loads((source / "paris-quartiers.geojson").read_text(encoding="utf-8"))
    slim = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {k: f["properties"][k] for k in QUARTIER_FIELDS},
                "geometry": f["geometry"],
            }
            for f in sorted(quartiers["features"], key=lambda f: f["properties"]["c_qu"])
        ],
    }
    (DATA / "quartiers-paris.geojson").write_text(
        json.dumps(slim, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    polygons = [
        (f["properties"]["l_qu"], f["properties"]["c_ar"], shape(f["geometry"]))
        for f in slim["features"]
    ]

    def where(lat: float, lon: float) -> tuple[str, int] | None:
        pt = Point(lon, lat)
        return next(((n, a) for n, a, g in polygons if g.contains(pt)), None)

    entries = []
    for street, numbers in ADDRESSES.items():
        anchors = STREETS[street][1]
        for number in numbers:
            lat, lon = _interpolate(anchors, number)
            claimed = _quartier_for(street, number)
            found = where(lat, lon)
            if found is None or found[0] != claimed:
                raise SystemExit(f"{number} {street}: in {found}, not in {claimed}")
            entries.append(
                {
                    "label": f"{number} {street}, 75017 Paris",
                    "lat": round(lat, 6),
                    "lon": round(lon, 6),
                    "aliases": [],
                    "kind": "demo-address",
                    "quartier": claimed,
                }
            )

    stations = json.loads((source / "paris-velib-stations.geojson").read_text(encoding="utf-8"))
    places = []
    for f in stations["features"]:
        p = f["properties"]
        distance = geodesic(SQUARE_DES_BATIGNOLLES, (p["lat"], p["lon"])).meters
        found = where(p["lat"], p["lon"])
        if distance > PLACES_RADIUS_M or found is None:
            continue  # too far, or outside Paris (no quartier polygon)
        name, arrondissement = found
        places.append(
            (
                round(distance),
                {
                    "label": f"{p['name']}, Paris {arrondissement}e",
                    "lat": round(p["lat"], 6),
                    "lon": round(p["lon"], 6),
                    "aliases": [p["name"], *PLACE_ALIASES.get(p["name"], [])],
                    "kind": "place",
                    "quartier": name,
                },
            )
        )
    places.sort(key=lambda item: (item[0], item[1]["label"]))
    entries.extend(entry for _, entry in places)
    gazetteer = {
        "source": "Données : Ville de Paris, ODbL (Vélib' stations, quartiers); "
        "street addresses invented for the demo",
        "entries": entries,
    }
    (DATA / "gazetteer.json").write_text(
        json.dumps(gazetteer, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print(
        f"{len(slim['features'])} quartiers, {len(entries) - len(places)} addresses, "
        f"{len(places)} places"
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    build(Path(sys.argv[1]))
