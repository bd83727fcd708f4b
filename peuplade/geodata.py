"""GeoJSON imports: ``flask import-quartiers`` (the quartier polygons) and ``flask
import-places`` (public places, points), with their validators.

Each command writes everything in one transaction: on any error nothing is written and
the command exits non-zero with one readable line per problem (the first
``MAX_REPORTED_PROBLEMS``, then how many more). ``seed-demo`` (peuplade/demo/) runs the
same imports.
"""

from __future__ import annotations

import csv
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext
from shapely import force_2d
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.validation import explain_validity
from sqlalchemy import select

from peuplade import geo
from peuplade.account.queries import quartier_at
from peuplade.commands import CommandFailed, require_schema
from peuplade.config import ROOT
from peuplade.extensions import db
from peuplade.models import Member, Place, Quartier
from peuplade.validation import clean_text

MAX_REPORTED_PROBLEMS = 20
# The names of the Paris quartiers as French writes them (the open data drops accents):
# source reference and open-data name -> the name pages show (data/README.md).
QUARTIER_NAMES = ROOT / "data" / "quartiers-paris-noms.csv"
QUARTIER_NAMES_REF_FIELD = "c_quinsee"


def slugify(name: str) -> str:
    """``"Épinettes"`` -> ``"epinettes"``; ``"Plaine de Monceaux"`` -> ``"plaine-de-monceaux"``."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^0-9a-z]+", "-", text).strip("-")[:70] or "quartier"


@dataclass
class QuartierFeature:
    name: str
    source_ref: str
    arrondissement: int | None
    geometry: MultiPolygon


def _read_geojson(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CommandFailed(f"fichier introuvable : {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CommandFailed(f"{path} n'est pas un fichier texte UTF-8.") from None
    except json.JSONDecodeError as exc:
        raise CommandFailed(
            f"{path} n'est pas du JSON valide "
            f"(ligne {exc.lineno}, colonne {exc.colno} : {exc.msg})."
        ) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise CommandFailed(f"{path} n'est pas une FeatureCollection GeoJSON.")
    if not isinstance(data.get("features"), list) or not data["features"]:
        raise CommandFailed(f"{path} ne contient aucune entité (« features » vide).")
    crs = (data.get("crs") or {}).get("properties", {}).get("name", "")
    if crs and not re.search(r"(CRS84|4326)$", str(crs)):
        raise CommandFailed(f"{path} est en {crs} : seules les coordonnées WGS84 sont acceptées.")
    return data


def _refuse(path: Path, problems: list[str]) -> CommandFailed:
    shown = problems[:MAX_REPORTED_PROBLEMS]
    more = len(problems) - len(shown)
    return CommandFailed(
        f"{path} refusé, rien n'a été importé ({len(problems)} problème(s)) :\n  "
        + "\n  ".join(shown)
        + (f"\n  ... et {more} autre(s)" if more > 0 else "")
    )


def _polygon_problem(geom: Any) -> str | None:
    """Why this shape cannot be a quartier, or None."""
    if not isinstance(geom, Polygon | MultiPolygon):
        return f"géométrie {geom.geom_type} (Polygon ou MultiPolygon attendu)"
    if geom.is_empty:
        return "géométrie vide"
    west, south, east, north = geom.bounds
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        return "coordonnées non numériques"
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        return "coordonnées hors WGS84 (longitude -180..180, latitude -90..90)"
    if not geom.is_valid:
        # Not repaired silently: a "fixed" polygon may not be the quartier the author meant.
        return f"polygone invalide ({explain_validity(geom)})"
    return None


def parse_quartiers(
    data: dict[str, Any], name_field: str, ref_field: str, arrondissement_field: str
) -> tuple[list[QuartierFeature], list[str]]:
    """The quartiers of a FeatureCollection, and the problems found (nothing is repaired)."""
    found: list[QuartierFeature] = []
    problems: list[str] = []
    refs: set[str] = set()
    for index, feature in enumerate(data["features"], start=1):
        if not isinstance(feature, dict):
            problems.append(f"entité n°{index} : ce n'est pas une Feature GeoJSON")
            continue
        props = feature.get("properties")
        props = props if isinstance(props, dict) else {}
        raw_name = props.get(name_field)
        name = " ".join(str(raw_name).split()) if raw_name not in (None, "") else ""
        where = f"entité n°{index}" + (f" « {name} »" if name else "")
        if not name:
            problems.append(f"{where} : champ de nom « {name_field} » absent ou vide")
            continue
        raw_ref = props.get(ref_field) if ref_field else name
        if raw_ref in (None, ""):
            problems.append(f"{where} : champ de référence « {ref_field} » absent ou vide")
            continue
        source_ref = f"{ref_field or 'nom'} {raw_ref}"[:80]
        if source_ref in refs:
            problems.append(f"{where} : référence {source_ref} en double dans le fichier")
            continue
        refs.add(source_ref)
        arrondissement = props.get(arrondissement_field) if arrondissement_field else None
        try:
            arrondissement = int(arrondissement) if arrondissement not in (None, "") else None
        except (TypeError, ValueError):
            problems.append(f"{where} : « {arrondissement_field} » n'est pas un nombre entier")
            continue
        try:
            geom = force_2d(shape(feature["geometry"]))  # the column is 2D
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            problems.append(f"{where} : géométrie illisible ({type(exc).__name__})")
            continue
        problem = _polygon_problem(geom)
        if problem:
            problems.append(f"{where} : {problem}")
            continue
        multi = geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])
        found.append(QuartierFeature(name[:120], source_ref, arrondissement, multi))
    return found, problems


def import_quartiers(
    path: Path,
    name_field: str = "l_qu",
    ref_field: str = "c_quinsee",
    arrondissement_field: str = "c_ar",
) -> tuple[int, int]:
    """Upsert the quartiers of a GeoJSON file by source reference; flush, no commit.

    Returns (created, updated). Raises CommandFailed, having written nothing.
    """
    data = _read_geojson(path)
    features, problems = parse_quartiers(data, name_field, ref_field, arrondissement_field)
    if problems:
        raise _refuse(path, problems)
    corrections = quartier_display_names()
    existing = {q.source_ref: q for q in db.session.scalars(select(Quartier))}
    taken = {q.slug for q in existing.values()}
    created = updated = 0
    for feature in features:
        quartier = existing.get(feature.source_ref)
        if quartier is None:
            quartier = Quartier(slug=_unique_slug(feature, taken), source_ref=feature.source_ref)
            db.session.add(quartier)
            created += 1
        else:
            updated += 1  # the slug stays: it may already be in links
        quartier.name = feature.name
        quartier.display_name = display_name(feature, corrections)
        quartier.arrondissement = feature.arrondissement
        quartier.geom = geo.geometry_from_wkt(feature.geometry.wkt)
    db.session.flush()
    return created, updated


def quartier_display_names(path: Path = QUARTIER_NAMES) -> dict[str, tuple[str, str]]:
    """The correction table: source reference (``"c_quinsee 7511704"``, as the import
    stores it) -> (the open-data name it corrects, the name to show). No file: none."""
    if not path.is_file():
        return {}
    table: dict[str, tuple[str, str]] = {}
    with path.open(encoding="utf-8", newline="") as rows:
        for line, row in enumerate(csv.DictReader(rows), start=2):
            code, raw, shown = (row.get(k) or "" for k in (QUARTIER_NAMES_REF_FIELD, "l_qu", "nom"))
            if not (code.strip() and raw.strip() and shown.strip()):
                raise CommandFailed(
                    f"{path}, ligne {line} : il faut {QUARTIER_NAMES_REF_FIELD}, l_qu et nom."
                )
            table[f"{QUARTIER_NAMES_REF_FIELD} {code.strip()}"] = (raw.strip(), shown.strip())
    return table


def display_name(feature: QuartierFeature, corrections: dict[str, tuple[str, str]]) -> str:
    """The name to show: the table's, when it corrects this very quartier under this very
    name (a quartier renamed in newer open data shows its new name, not a stale
    correction); else the name as the file gives it (other cities)."""
    raw, shown = corrections.get(feature.source_ref, ("", ""))
    return shown if raw == feature.name else feature.name


def _unique_slug(feature: QuartierFeature, taken: set[str]) -> str:
    base = slugify(feature.name)
    candidates = [base]
    if feature.arrondissement is not None:
        candidates.append(f"{base}-{feature.arrondissement}")
    candidates += [f"{base}-{n}" for n in range(2, 1000)]
    slug = next(c for c in candidates if c not in taken)
    taken.add(slug)
    return slug


def reassign_quartiers() -> int:
    """Recompute every member's quartier from their public cell (after an import, the
    polygons may have changed). Returns how many members changed quartier."""
    changed = 0
    for member in db.session.scalars(select(Member)).all():
        quartier = quartier_at(geo.from_element(member.public_position))
        if quartier is not member.quartier:
            member.quartier = quartier
            changed += 1
    db.session.flush()
    return changed


@click.command("import-quartiers")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name-field", default="l_qu", show_default=True, help="Propriété du nom.")
@click.option(
    "--ref-field",
    default="c_quinsee",
    show_default=True,
    help="Propriété identifiant chaque quartier (une ré-importation met à jour "
    "au lieu de dupliquer). Vide : le nom sert de référence.",
)
@click.option(
    "--arrondissement-field",
    default="c_ar",
    show_default=True,
    help="Propriété de l'arrondissement.",
)
@with_appcontext
def import_quartiers_command(
    path: Path, name_field: str, ref_field: str, arrondissement_field: str
) -> None:
    """Importer (ou mettre à jour) les quartiers d'un fichier GeoJSON en WGS84."""
    require_schema()
    try:
        created, updated = import_quartiers(path, name_field, ref_field, arrondissement_field)
        assigned = reassign_quartiers()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    click.echo(
        f"{created + updated} quartiers importés ({created} nouveaux, {updated} mis à jour)."
    )
    if assigned:
        click.echo(f"{assigned} membre(s) rattaché(s) à leur quartier.")


# --- import-places ---------------------------------------------------------------------

PLACE_NAME_MAX = 160
SOURCE_REF_MAX = 80


@dataclass
class PlaceFeature:
    name: str
    source_ref: str
    lat: float
    lon: float


def _point_problem(geometry: Any) -> tuple[str | None, tuple[float, float] | None]:
    """Why this GeoJSON geometry cannot be a public place, or its (lat, lon)."""
    if not isinstance(geometry, dict):
        return "géométrie absente", None
    if geometry.get("type") != "Point":
        return f"géométrie {geometry.get('type')} (Point attendu)", None
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2:
        return "géométrie illisible (deux coordonnées attendues)", None
    lon, lat = coords[0], coords[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
        return "coordonnées non numériques", None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return "coordonnées non numériques", None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return "coordonnées hors WGS84 (longitude -180..180, latitude -90..90)", None
    return None, (float(lat), float(lon))


def parse_places(
    data: dict[str, Any], name_field: str, ref_field: str, ref_prefix: str
) -> tuple[list[PlaceFeature], list[str]]:
    """The public places of a FeatureCollection of Points, and the problems found."""
    found: list[PlaceFeature] = []
    problems: list[str] = []
    refs: set[str] = set()
    for index, feature in enumerate(data["features"], start=1):
        if not isinstance(feature, dict):
            problems.append(f"entité n°{index} : ce n'est pas une Feature GeoJSON")
            continue
        props = feature.get("properties")
        props = props if isinstance(props, dict) else {}
        raw_name = props.get(name_field)
        name = " ".join(clean_text(raw_name).split()) if isinstance(raw_name, str) else ""
        where = f"entité n°{index}" + (f" « {name[:60]} »" if name else "")
        if not name:
            problems.append(f"{where} : champ de nom « {name_field} » absent ou vide")
            continue
        if len(name) > PLACE_NAME_MAX:
            problems.append(f"{where} : nom de plus de {PLACE_NAME_MAX} caractères")
            continue
        raw_ref = props.get(ref_field) if ref_field else name
        if raw_ref in (None, "") or isinstance(raw_ref, dict | list | bool):
            problems.append(f"{where} : champ de référence « {ref_field} » absent ou vide")
            continue
        source_ref = f"{ref_prefix}:{raw_ref}" if ref_prefix else str(raw_ref)
        if len(source_ref) > SOURCE_REF_MAX:
            problems.append(f"{where} : référence de plus de {SOURCE_REF_MAX} caractères")
            continue
        if source_ref in refs:
            problems.append(f"{where} : référence {source_ref} en double dans le fichier")
            continue
        refs.add(source_ref)
        problem, position = _point_problem(feature.get("geometry"))
        if problem or position is None:
            problems.append(f"{where} : {problem}")
            continue
        found.append(PlaceFeature(name, source_ref, *position))
    return found, problems


def import_places(
    path: Path,
    name_field: str = "name",
    ref_field: str = "station_id",
    ref_prefix: str = "velib",
) -> tuple[int, int]:
    """Upsert the public places of a GeoJSON file by source reference; flush, no commit.

    Places missing from the file are kept. Returns (created, updated). Raises
    CommandFailed, having written nothing.
    """
    data = _read_geojson(path)
    features, problems = parse_places(data, name_field, ref_field, ref_prefix)
    if problems:
        raise _refuse(path, problems)
    existing = {p.source_ref: p for p in db.session.scalars(select(Place))}
    created = updated = 0
    for feature in features:
        place = existing.get(feature.source_ref)
        if place is None:
            place = Place(source_ref=feature.source_ref)
            db.session.add(place)
            created += 1
        else:
            # Posts already placed there keep their own copy of the name and position.
            updated += 1
        place.name = feature.name
        place.position = geo.to_element(geo.lat_lon(feature.lat, feature.lon))
    db.session.flush()
    return created, updated


@click.command("import-places")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name-field", default="name", show_default=True, help="Propriété du nom.")
@click.option(
    "--ref-field",
    default="station_id",
    show_default=True,
    help="Propriété identifiant chaque lieu (une ré-importation met à jour au lieu de "
    "dupliquer). Vide : le nom sert de référence.",
)
@click.option(
    "--ref-prefix",
    default="velib",
    show_default=True,
    help="Préfixe des références (« velib » : velib:12109), pour distinguer les sources.",
)
@with_appcontext
def import_places_command(path: Path, name_field: str, ref_field: str, ref_prefix: str) -> None:
    """Importer (ou mettre à jour) des lieux publics (points GeoJSON en WGS84)."""
    require_schema("places")
    try:
        created, updated = import_places(path, name_field, ref_field, ref_prefix)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    click.echo(
        f"{created + updated} lieux publics importés ({created} nouveaux, {updated} mis à jour)."
    )


COMMANDS = (import_quartiers_command, import_places_command)
