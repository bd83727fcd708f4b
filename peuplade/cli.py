"""flask commands: ``import-quartiers``, ``import-places`` and ``seed-demo``.

Both write everything in one transaction: on any error nothing is written and
the command exits non-zero with one readable line per problem.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from shapely import force_2d
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.validation import explain_validity
from sqlalchemy import func, select

from peuplade import ROOT

DEMO_PASSWORD = "voisins de la rue des Dames"  # noqa: S105 - public, documented demo password
DEFAULT_QUARTIERS = ROOT / "data" / "quartiers-paris.geojson"
DEFAULT_MEMBERS = ROOT / "data" / "demo-members.json"
DEFAULT_PLACES = ROOT / "data" / "places-paris.geojson"
DEFAULT_EXCHANGES = ROOT / "data" / "demo-exchanges.json"
MAX_REPORTED_PROBLEMS = 20


class CommandFailed(click.ClickException):
    """A one-line French error; click exits with status 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"Erreur : {self.format_message()}", err=True)


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
    from peuplade import geo
    from peuplade.extensions import db
    from peuplade.models import Quartier

    data = _read_geojson(path)
    features, problems = parse_quartiers(data, name_field, ref_field, arrondissement_field)
    if problems:
        raise _refuse(path, problems)
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
        quartier.arrondissement = feature.arrondissement
        quartier.geom = geo.geometry_from_wkt(feature.geometry.wkt)
    db.session.flush()
    return created, updated


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
    from peuplade import geo
    from peuplade.account.queries import quartier_at
    from peuplade.extensions import db
    from peuplade.models import Member

    changed = 0
    for member in db.session.scalars(select(Member)).all():
        quartier = quartier_at(geo.from_element(member.public_position))
        if quartier is not member.quartier:
            member.quartier = quartier
            changed += 1
    db.session.flush()
    return changed


def _require_schema(*tables: str) -> None:
    from sqlalchemy import inspect

    from peuplade.extensions import db

    inspector = inspect(db.engine)
    if not all(inspector.has_table(name) for name in tables or ("quartiers",)):
        raise CommandFailed("la base n'est pas à jour : lancez d'abord « flask db upgrade ».")


def _count(model) -> int:
    from peuplade.extensions import db

    return db.session.scalar(select(func.count()).select_from(model)) or 0


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
    from peuplade.extensions import db

    _require_schema()
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
    from peuplade.account.services import clean_text

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
    from peuplade import geo
    from peuplade.extensions import db
    from peuplade.models import Place

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
    from peuplade.extensions import db

    _require_schema("places")
    try:
        created, updated = import_places(path, name_field, ref_field, ref_prefix)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    click.echo(
        f"{created + updated} lieux publics importés ({created} nouveaux, {updated} mis à jour)."
    )


def _field_messages(exc: Any) -> str:
    fields = getattr(exc, "fields", None) or {}
    if fields:
        return "; ".join(f"{name} : {message}" for name, message in fields.items())
    return str(getattr(exc, "message", exc))


def seed_demo(password: str, members_path: Path) -> tuple[int, int, str]:
    """Register the demo members (skipping existing emails); flush, no commit.

    Returns (created, skipped, one demo email).
    """
    from peuplade.account import services
    from peuplade.config import ARGON2_OWASP_MINIMUM
    from peuplade.geocoding import OfflineGazetteer

    try:
        people = json.loads(members_path.read_text(encoding="utf-8"))["members"]
    except FileNotFoundError:
        raise CommandFailed(f"fichier introuvable : {members_path}") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CommandFailed(f"{members_path} illisible ({type(exc).__name__}).") from None
    # The demo addresses live in the offline gazetteer; with a real provider configured we
    # still place them from it, as points, instead of asking a remote service.
    gazetteer = None
    if current_app.config["GEOCODER"] != "offline":
        gazetteer = OfflineGazetteer(current_app.config["GAZETTEER_PATH"])
    created = skipped = 0
    # The demo password is public: the OWASP minimum cost (upgraded by authenticate() at the
    # first login) keeps seeding 40 members to a few seconds instead of ~20 s.
    config = current_app.config
    saved, config["ARGON2_PARAMETERS"] = config["ARGON2_PARAMETERS"], ARGON2_OWASP_MINIMUM
    try:
        for person in people:
            if _seed_one(person, password, gazetteer):
                created += 1
            else:
                skipped += 1
    finally:
        config["ARGON2_PARAMETERS"] = saved
    return created, skipped, services.normalise_email(people[0]["email"]) if people else ""


def _seed_one(person: dict[str, Any], password: str, gazetteer: Any) -> bool:
    """Register one demo member; False when the email is already taken."""
    from peuplade.account import queries, services
    from peuplade.errors import ValidationFailed

    try:
        email = services.normalise_email(person["email"])
    except ValidationFailed as exc:
        raise CommandFailed(f"{person['email']} : {exc.message}") from None
    if queries.member_by_email(email) is not None:
        return False
    location = services.LocationInput(address=person["address"])
    if gazetteer is not None:
        place = gazetteer.geocode(person["address"], exactly_one=True)
        if place is None:
            raise CommandFailed(f"{person['address']} absent du gazetteer.")
        location = services.LocationInput(lat=place.latitude, lon=place.longitude)
    try:
        services.register_member(
            email=email,
            password=password,
            display_name=person["display_name"],
            location=location,
            radius_m=person.get("radius_m"),
            skills=person.get("skills", []),
            tags=person.get("tags", []),
            bio=person.get("bio", ""),
            locale="fr",
        )
    except ValidationFailed as exc:
        raise CommandFailed(
            f"membre de démonstration {person['email']} refusé : {_field_messages(exc)}"
        ) from None
    return True


# --- demo exchanges ------------------------------------------------------------------


@dataclass
class DemoTimeline:
    """When things happened, spread between the exchange's creation and now."""

    created: datetime
    now: datetime
    steps: int

    def at(self, step: int) -> datetime:
        return self.created + (self.now - self.created) * step / (self.steps + 1)


def _load_demo_exchanges(path: Path) -> list[dict[str, Any]]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["exchanges"]
    except FileNotFoundError:
        raise CommandFailed(f"fichier introuvable : {path}") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CommandFailed(f"{path} illisible ({type(exc).__name__}).") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CommandFailed(f"{path} : « exchanges » doit être une liste d'objets.")
    return entries


def seed_demo_exchanges(path: Path) -> tuple[int, int]:
    """Post the demo exchanges through the exchange services; flush, no commit.

    An exchange already posted by the same author with the same title is skipped, so
    the command can run again. Returns (created, skipped).
    """
    from peuplade.models import utcnow

    entries = _load_demo_exchanges(path)
    now = utcnow()
    created = skipped = 0
    for index, entry in enumerate(entries):
        where = f"échange de démonstration n°{index + 1} « {entry.get('title', '?')} »"
        try:
            if _seed_exchange(entry, index, now):
                created += 1
            else:
                skipped += 1
        except CommandFailed as exc:
            raise CommandFailed(f"{where} : {exc.message}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise CommandFailed(f"{where} : champ manquant ou invalide ({exc}).") from None
    return created, skipped


def _demo_member(email: str) -> Any:
    from peuplade.account import queries, services
    from peuplade.errors import ValidationFailed

    try:
        member = queries.member_by_email(services.normalise_email(email))
    except ValidationFailed:
        member = None
    if member is None:
        raise CommandFailed(f"{email} n'est pas un membre de démonstration.")
    return member


def _demo_place(author: Any, name: str) -> int:
    """The public place of that name the author's own form would offer."""
    from peuplade.posts.services import places_near

    place = next((p for p in places_near(author, limit=2000) if p.name == name), None)
    if place is None:
        raise CommandFailed(
            f"lieu « {name} » introuvable dans le voisinage de {author.email} "
            "(lancez « flask import-places data/places-paris.geojson »)."
        )
    return place.id


def _seed_exchange(entry: dict[str, Any], index: int, now: datetime) -> bool:
    """Post one demo exchange with its responses, outcome and thanks; False if present."""
    from peuplade.errors import NotFound, ServiceError
    from peuplade.exchanges import queries as exchange_queries
    from peuplade.exchanges import services as exchanges
    from peuplade.extensions import db
    from peuplade.models import Exchange
    from peuplade.posts import services as posts

    author = _demo_member(entry["author"])
    already = db.session.scalar(
        select(Exchange.id).where(Exchange.author_id == author.id, Exchange.title == entry["title"])
    )
    if already is not None:
        return False
    first_day = posts.today()
    starts = entry.get("starts_in_days")
    ends = entry.get("ends_in_days")
    location = None
    if entry.get("place"):
        location = posts.PostLocation(place_id=_demo_place(author, entry["place"]))
    responses = entry.get("responses", [])
    outcome = entry.get("outcome")
    try:
        exchange = exchanges.create_exchange(
            author,
            exchanges.ExchangeInput(
                kind=entry["kind"],
                title=entry["title"],
                body=entry["body"],
                category=entry["category"],
                starts_on=None if starts is None else first_day + timedelta(days=starts),
                ends_on=None if ends is None else first_day + timedelta(days=ends),
                location=location,
                reach_m=entry.get("reach_m"),
            ),
        )
        # Spread over the last weeks (a few hours apart) so the timeline looks alive.
        created_at = now - timedelta(
            days=entry["created_days_ago"], hours=(index * 5) % 11, minutes=(index * 17) % 60
        )
        steps = DemoTimeline(created_at, now, len(responses) + (3 if outcome else 0))
        for step, answer in enumerate(responses, start=1):
            neighbour = _demo_member(answer["from"])
            try:
                # Only a neighbour who really sees the exchange may answer it.
                seen = exchange_queries.get_exchange_or_404(neighbour, exchange.id)
            except NotFound:
                raise CommandFailed(
                    f"{answer['from']} ne voit pas cet échange (hors de son voisinage)."
                ) from None
            response = exchanges.respond(seen, neighbour, answer["message"])
            response.created_at = steps.at(step)
        if outcome:
            helper = _demo_member(entry["helper"]) if entry.get("helper") else None
            exchanges.close_exchange(exchange, author, outcome, helper.id if helper else None)
            exchange.closed_at = steps.at(len(responses) + 1)
            thanks = entry.get("thanks", {})
            if helper is not None and thanks.get("author"):
                note = exchanges.thank(exchange, author, thanks["author"])
                note.created_at = steps.at(len(responses) + 2)
            if helper is not None and thanks.get("helper"):
                note = exchanges.thank(exchange, helper, thanks["helper"])
                note.created_at = steps.at(len(responses) + 3)
    except ServiceError as exc:
        raise CommandFailed(_field_messages(exc)) from None
    exchange.created_at = created_at
    exchange.updated_at = exchange.closed_at or created_at
    exchange.expires_at = posts.expiry(exchange.ends_on or exchange.starts_on, created_at)
    db.session.flush()
    return True


@click.command("seed-demo")
@click.option(
    "--password",
    default=DEMO_PASSWORD,
    show_default=True,
    help="Mot de passe commun des membres de démonstration.",
)
@click.option(
    "--members",
    "members_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_MEMBERS,
    show_default=True,
)
@click.option(
    "--quartiers",
    "quartiers_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_QUARTIERS,
    show_default=True,
    help="Quartiers importés d'abord si la base n'en contient aucun.",
)
@click.option(
    "--places",
    "places_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_PLACES,
    show_default=True,
    help="Lieux publics (stations Vélib') importés d'abord si la base n'en contient aucun.",
)
@click.option(
    "--exchanges",
    "exchanges_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_EXCHANGES,
    show_default=True,
)
@click.option("--force", is_flag=True, help="Autoriser en production (déconseillé).")
@with_appcontext
def seed_demo_command(
    password: str,
    members_path: Path,
    quartiers_path: Path,
    places_path: Path,
    exchanges_path: Path,
    force: bool,
) -> None:
    """Charger le voisinage de démonstration (17e arrondissement de Paris)."""
    from peuplade.extensions import db
    from peuplade.models import Place, Quartier

    if current_app.config["PEUPLADE_ENV"] == "production" and not force:
        raise CommandFailed(
            "PEUPLADE_ENV=production : les membres de démonstration n'ont rien à faire en "
            "production. Ajoutez --force si vous le voulez vraiment."
        )
    _require_schema("quartiers", "places", "exchanges")
    try:
        imported = places = None
        if _count(Quartier) == 0:
            imported = import_quartiers(quartiers_path)
        if _count(Place) == 0:
            places = import_places(places_path)
        created, skipped, email = seed_demo(password, members_path)
        posted, present = seed_demo_exchanges(exchanges_path)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if imported:
        click.echo(f"{sum(imported)} quartiers importés ({imported[0]} nouveaux, 0 mis à jour).")
    if places:
        click.echo(f"{sum(places)} lieux publics importés ({places[0]} nouveaux, 0 mis à jour).")
    click.echo(f"{created} membres de démonstration créés, {skipped} déjà présents.")
    click.echo(f"{posted} échanges de démonstration créés, {present} déjà présents.")
    if email:
        click.echo(f"Connectez-vous avec {email} et le mot de passe « {password} ».")


def register_cli(app: Flask) -> None:
    app.cli.add_command(import_quartiers_command)
    app.cli.add_command(import_places_command)
    app.cli.add_command(seed_demo_command)
