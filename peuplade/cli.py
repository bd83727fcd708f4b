"""flask commands: ``import-quartiers``, ``import-places`` and ``seed-demo``.

Each writes everything in one transaction: on any error nothing is written and
the command exits non-zero with one readable line per problem.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from shapely import force_2d
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.validation import explain_validity
from sqlalchemy import func, select

from peuplade.config import ROOT

DEMO_PASSWORD = "voisins de la rue des Dames"  # noqa: S105 - public, documented demo password
DEFAULT_QUARTIERS = ROOT / "data" / "quartiers-paris.geojson"
DEFAULT_MEMBERS = ROOT / "data" / "demo-members.json"
DEFAULT_PLACES = ROOT / "data" / "places-paris.geojson"
DEFAULT_EXCHANGES = ROOT / "data" / "demo-exchanges.json"
DEFAULT_ITEMS = ROOT / "data" / "demo-items.json"
DEFAULT_NEWS = ROOT / "data" / "demo-news.json"
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
    from peuplade.validation import clean_text

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
    from peuplade.config import ARGON2_OWASP_MINIMUM
    from peuplade.geocoding import OfflineGazetteer
    from peuplade.validation import normalise_email

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
    _settle_demo_crowds([normalise_email(p["email"]) for p in people])
    return created, skipped, normalise_email(people[0]["email"]) if people else ""


def _settle_demo_crowds(emails: list[str]) -> None:
    """The demo neighbours joined two months ago and confirmed their e-mail: they are
    established, and their crowds have held (as the daily ``privacy-refresh`` would
    find them), so they are shown in the cells a real street of theirs would have."""
    from sqlalchemy import update

    from peuplade.account import blur
    from peuplade.extensions import db
    from peuplade.models import Member, utcnow

    now = utcnow()
    joined = now - timedelta(days=60)
    db.session.execute(
        update(Member)
        .where(Member.email.in_(emails), Member.email_confirmed_at.is_(None))
        .values(email_confirmed_at=joined, created_at=joined)
    )
    stable = timedelta(days=current_app.config["PRIVACY_STABLE_DAYS"] + 1)
    blur.refresh_all(now=now - stable)
    blur.refresh_all(now=now)


def _seed_one(person: dict[str, Any], password: str, gazetteer: Any) -> bool:
    """Register one demo member; False when the email is already taken."""
    from peuplade.account import queries, services
    from peuplade.errors import ValidationFailed
    from peuplade.location import LocationInput
    from peuplade.validation import normalise_email

    try:
        email = normalise_email(person["email"])
    except ValidationFailed as exc:
        raise CommandFailed(f"{person['email']} : {exc.message}") from None
    if queries.member_by_email(email) is not None:
        return False
    location = LocationInput(address=person["address"])
    if gazetteer is not None:
        place = gazetteer.geocode(person["address"], exactly_one=True)
        if place is None:
            raise CommandFailed(f"{person['address']} absent du gazetteer.")
        location = LocationInput(lat=place.latitude, lon=place.longitude)
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


def _load_demo_entries(path: Path, key: str) -> list[dict[str, Any]]:
    """The list ``key`` of a demo data file (``{"exchanges": [...]}``, ``{"items": [...]}``)."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))[key]
    except FileNotFoundError:
        raise CommandFailed(f"fichier introuvable : {path}") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CommandFailed(f"{path} illisible ({type(exc).__name__}).") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CommandFailed(f"{path} : « {key} » doit être une liste d'objets.")
    return entries


def seed_demo_exchanges(path: Path) -> tuple[int, int]:
    """Post the demo exchanges through the exchange services; flush, no commit.

    An exchange already posted by the same author with the same title is skipped, so
    the command can run again. Returns (created, skipped).
    """
    from peuplade.models import utcnow

    entries = _load_demo_entries(path, "exchanges")
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
    from peuplade.account import queries
    from peuplade.errors import ValidationFailed
    from peuplade.validation import normalise_email

    try:
        member = queries.member_by_email(normalise_email(email))
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
    from peuplade.localtime import today
    from peuplade.location import LocationInput
    from peuplade.models import Exchange
    from peuplade.posts import services as posts

    author = _demo_member(entry["author"])
    already = db.session.scalar(
        select(Exchange.id).where(Exchange.author_id == author.id, Exchange.title == entry["title"])
    )
    if already is not None:
        return False
    first_day = today()
    starts = entry.get("starts_in_days")
    ends = entry.get("ends_in_days")
    location = None
    if entry.get("place"):
        location = LocationInput(place_id=_demo_place(author, entry["place"]))
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
                # Posted for a neighbour without internet, who agreed (demo data).
                on_behalf_of=entry.get("on_behalf_of"),
                behalf_consent=bool(entry.get("on_behalf_of")),
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


# --- demo objects and loans ------------------------------------------------------------

# A loan whose period started in the past cannot be asked for today (the services refuse
# a start in the past, as they should for real members). Such a demo loan is asked for
# this far ahead, walked through its steps, then moved back to its real dates.
PAST_LOAN_PARKING_DAYS = 300
# The steps each final state of a demo loan goes through, after the request.
LOAN_STEPS = {
    "requested": (),
    "accepted": ("accept",),
    "declined": ("decline",),
    "lent": ("accept", "handover"),
    "returned": ("accept", "handover", "return"),
    "cancelled": ("cancel",),
}


def seed_demo_items(path: Path) -> tuple[int, int, int]:
    """Put the demo objects on the shelf with their loans, through the loan services;
    flush, no commit.

    An object already offered by the same lender with the same title is skipped with its
    loans, so the command can run again. Returns (objects created, skipped, loans created).
    """
    from peuplade.models import utcnow

    entries = _load_demo_entries(path, "items")
    now = utcnow()
    created = skipped = loans = 0
    for index, entry in enumerate(entries):
        where = f"objet de démonstration n°{index + 1} « {entry.get('title', '?')} »"
        try:
            made = _seed_item(entry, index, now)
        except CommandFailed as exc:
            raise CommandFailed(f"{where} : {exc.message}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise CommandFailed(f"{where} : champ manquant ou invalide ({exc}).") from None
        if made is None:
            skipped += 1
        else:
            created += 1
            loans += made
    return created, skipped, loans


def _seed_item(entry: dict[str, Any], index: int, now: datetime) -> int | None:
    """Offer one demo object and create its loans; None if already there, else how many
    loans were created."""
    from peuplade.errors import ServiceError
    from peuplade.extensions import db
    from peuplade.loans import services as loans
    from peuplade.models import Item

    lender = _demo_member(entry["lender"])
    already = db.session.scalar(
        select(Item.id).where(Item.author_id == lender.id, Item.title == entry["title"])
    )
    if already is not None:
        return None
    created_at = now - timedelta(
        days=entry["created_days_ago"], hours=(index * 5) % 11, minutes=(index * 17) % 60 + 1
    )
    try:
        # Available while its loans are made: an unavailable object cannot be asked for.
        item = loans.offer_item(
            lender,
            loans.ItemInput(
                title=entry["title"],
                description=entry.get("description", ""),
                category=entry["category"],
                condition=entry.get("condition", "bon"),
                notes=entry.get("notes", ""),
                available=True,
            ),
        )
    except ServiceError as exc:
        raise CommandFailed(_field_messages(exc)) from None
    # Oldest request first: a lender declines one request before accepting another for
    # the same dates, as a real lender would.
    requests = sorted(
        enumerate(entry.get("loans", [])), key=lambda pair: -pair[1]["asked_days_ago"]
    )
    for number, request in requests:
        try:
            problem = demo_loan_problem(request, entry["created_days_ago"])
            if problem:
                raise CommandFailed(problem)
            _seed_loan(item, request, index + number, now)
        except CommandFailed as exc:
            raise CommandFailed(
                f"prêt n°{number + 1} ({request['borrower']}) : {exc.message}"
            ) from None
    item.available = bool(entry.get("available", True))
    item.created_at = item.updated_at = created_at
    db.session.flush()
    return len(requests)


def demo_loan_problem(request: dict[str, Any], offered_days_ago: int) -> str | None:
    """Why a demo loan's state and relative dates do not fit together, or None.

    The services check the rest (period length, order, own object...) when it is made.
    """
    status = request["status"]
    if status not in LOAN_STEPS:
        return f"état « {status} » inconnu ({', '.join(LOAN_STEPS)})."
    first, last = int(request["start_in_days"]), int(request["due_in_days"])
    asked = int(request["asked_days_ago"])
    handed_over = "handover" in LOAN_STEPS[status]
    if handed_over and first >= 0:
        return "un prêt remis ou rendu commence dans le passé."
    if status == "returned" and last >= 0:
        return "un prêt rendu se termine dans le passé."
    if not handed_over and first < 0:
        return f"un prêt « {status} » commence aujourd'hui ou plus tard."
    if asked >= offered_days_ago:
        return "demandé avant que l'objet soit proposé."
    if asked < max(1 if handed_over else 0, -first):
        return "la demande doit précéder le premier jour du prêt."
    return None


def _local(day: date, hour: int) -> datetime:
    """That hour of a local day, in UTC."""
    from peuplade.localtime import local_zone

    return datetime.combine(day, time(hour), tzinfo=local_zone()).astimezone(UTC)


def _seed_loan(item: Any, request: dict[str, Any], jitter: int, now: datetime) -> None:
    """Ask for the object as the borrower, then walk the loan to its final state."""
    from sqlalchemy.exc import IntegrityError

    from peuplade.errors import NotFound, ServiceError
    from peuplade.extensions import db
    from peuplade.loans import queries as loan_queries
    from peuplade.loans import services as loans
    from peuplade.localtime import today

    status = request["status"]
    first, last = request["start_in_days"], request["due_in_days"]
    asked = request["asked_days_ago"]
    handed_over = "handover" in LOAN_STEPS[status]
    borrower = _demo_member(request["borrower"])
    lender = item.author
    try:
        # Only a neighbour who really sees the object may ask for it.
        seen = loan_queries.get_item_or_404(borrower, item.id)
    except NotFound:
        raise CommandFailed(
            f"{request['borrower']} ne voit pas cet objet (hors de son voisinage)."
        ) from None
    day = today()
    real_start, real_due = day + timedelta(days=first), day + timedelta(days=last)
    parking = timedelta(days=PAST_LOAN_PARKING_DAYS - first) if first < 0 else timedelta(0)
    try:
        loan = loans.request_loan(
            seen, borrower, real_start + parking, real_due + parking, request.get("message", "")
        )
        for step in LOAN_STEPS[status]:
            if step == "cancel":
                if request.get("accepted_first"):
                    loans.accept(loan, lender)
                by = borrower if request.get("cancelled_by", "borrower") == "borrower" else lender
                loans.cancel(loan, by)
            else:
                loans.STEPS[step](loan, lender)
    except ServiceError as exc:
        raise CommandFailed(_field_messages(exc)) from None
    # The demo must look lived-in: asked days ago, handed over on its first day, back on
    # its due date (each moment kept in order and before now).
    asked_at = now - timedelta(days=asked, hours=(jitter * 3) % 7, minutes=(jitter * 13) % 60 + 1)
    lent_at = returned_at = None
    if handed_over:
        lent_at = min(
            max(_local(real_start, 18), asked_at + timedelta(hours=2)), now - timedelta(minutes=20)
        )
    if status == "returned":
        returned_at = min(
            max(_local(real_due, 19), lent_at + timedelta(hours=1)), now - timedelta(minutes=10)
        )
    loan.created_at = asked_at
    if status != "requested":
        loan.decided_at = asked_at + ((lent_at or now) - asked_at) / 3
    loan.lent_at, loan.returned_at = lent_at, returned_at
    loan.updated_at = returned_at or lent_at or loan.decided_at or asked_at
    # Back to its real dates; the database's overlap guard checks them again here.
    loan.start, loan.due = real_start, real_due
    try:
        db.session.flush()
    except IntegrityError as exc:
        if "loans_no_overlap" not in str(exc.orig):
            raise
        raise CommandFailed("ses dates chevauchent un autre prêt accepté ou en cours.") from None


# --- demo news and outings ------------------------------------------------------------


def seed_demo_news(path: Path) -> tuple[int, int, int, int]:
    """Publish the demo news (with comments) and outings (with RSVPs) through the news and
    event services; flush, no commit.

    Dates are relative to now, so the demo never goes stale. A news or an outing already
    posted by the same author with the same title is skipped with its comments or RSVPs.
    Returns (news created, events created, comments and RSVPs created, skipped).
    """
    from peuplade.models import utcnow

    now = utcnow()
    posted = announced = answers = skipped = 0
    for index, entry in enumerate(_load_demo_entries(path, "news")):
        where = f"info de démonstration n°{index + 1} « {entry.get('title', '?')} »"
        with _named(where):
            made = _seed_news(entry, index, now)
        if made is None:
            skipped += 1
        else:
            posted += 1
            answers += made
    for index, entry in enumerate(_load_demo_entries(path, "events")):
        where = f"sortie de démonstration n°{index + 1} « {entry.get('title', '?')} »"
        with _named(where):
            made = _seed_event(entry, index, now)
        if made is None:
            skipped += 1
        else:
            announced += 1
            answers += made
    return posted, announced, answers, skipped


@contextmanager
def _named(where: str) -> Iterator[None]:
    """Prefix a demo entry's refusal with which entry it is (one readable line)."""
    try:
        yield
    except CommandFailed as exc:
        raise CommandFailed(f"{where} : {exc.message}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise CommandFailed(f"{where} : champ manquant ou invalide ({exc}).") from None


def _seed_news(entry: dict[str, Any], index: int, now: datetime) -> int | None:
    """Publish one demo news and its comments; None if already there, else the comments."""
    from peuplade.errors import NotFound, ServiceError
    from peuplade.extensions import db
    from peuplade.models import NewsPost
    from peuplade.news import queries as news_queries
    from peuplade.news import services as news
    from peuplade.posts import services as posts

    author = _demo_member(entry["author"])
    already = db.session.scalar(
        select(NewsPost.id).where(NewsPost.author_id == author.id, NewsPost.title == entry["title"])
    )
    if already is not None:
        return None
    created_at = now - timedelta(hours=entry["created_hours_ago"], minutes=(index * 17) % 60 + 1)
    comments = entry.get("comments", [])
    steps = DemoTimeline(created_at, now, len(comments))
    try:
        item = news.post_news(
            author,
            news.NewsInput(
                kind=entry["kind"],
                title=entry["title"],
                body=entry["body"],
                link=entry.get("link"),
                scope=entry.get("scope", "radius"),
            ),
        )
        for step, note in enumerate(comments, start=1):
            reader = _demo_member(note["from"])
            try:
                # Only a neighbour who really reads the news may comment on it.
                seen = news_queries.get_news_or_404(reader, item.id)
            except NotFound:
                raise CommandFailed(
                    f"{note['from']} ne voit pas cette info (hors de son voisinage)."
                ) from None
            news.comment(seen, reader, note["body"]).created_at = steps.at(step)
    except ServiceError as exc:
        raise CommandFailed(_field_messages(exc)) from None
    item.created_at = item.updated_at = created_at
    item.expires_at = posts.expiry(None, created_at)
    db.session.flush()
    return len(comments)


def _seed_event(entry: dict[str, Any], index: int, now: datetime) -> int | None:
    """Announce one demo outing at a public place and record its RSVPs; None if already
    there, else how many RSVPs."""
    from peuplade.errors import NotFound, ServiceError
    from peuplade.events import queries as event_queries
    from peuplade.events import services as events
    from peuplade.extensions import db
    from peuplade.localtime import today
    from peuplade.location import LocationInput
    from peuplade.models import Event

    organiser = _demo_member(entry["organiser"])
    already = db.session.scalar(
        select(Event.id).where(Event.author_id == organiser.id, Event.title == entry["title"])
    )
    if already is not None:
        return None
    if int(entry["starts_in_days"]) < 1:
        raise CommandFailed("une sortie de démonstration commence demain ou plus tard.")
    starts_at = _local(today() + timedelta(days=entry["starts_in_days"]), entry["start_hour"])
    hours = entry.get("duration_hours")
    created_at = now - timedelta(days=entry["created_days_ago"], minutes=(index * 23) % 60 + 1)
    rsvps = entry.get("rsvps", [])
    steps = DemoTimeline(created_at, now, len(rsvps))
    try:
        event = events.create_event(
            organiser,
            events.EventInput(
                title=entry["title"],
                body=entry["body"],
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=hours) if hours else None,
                location=LocationInput(place_id=_demo_place(organiser, entry["place"])),
                capacity=entry.get("capacity"),
            ),
        )
        for step, answer in enumerate(rsvps, start=1):
            neighbour = _demo_member(answer["from"])
            try:
                # Only a neighbour who really sees the outing may answer.
                seen = event_queries.get_event_or_404(neighbour, event.id)
            except NotFound:
                raise CommandFailed(
                    f"{answer['from']} ne voit pas cette sortie (hors de son voisinage)."
                ) from None
            reply = events.rsvp(seen, neighbour, bool(answer["going"]))
            reply.created_at = reply.updated_at = steps.at(step)
    except ServiceError as exc:
        raise CommandFailed(_field_messages(exc)) from None
    event.created_at = event.updated_at = created_at
    db.session.flush()
    return len(rsvps)


DEMO_DOMAIN = "demo.example.org"


def _no_demo_emails() -> None:
    """The demo's own activity fills the demo members' bells, but their addresses are
    not real: none of those notifications is emailed."""
    from sqlalchemy import update

    from peuplade.extensions import db
    from peuplade.models import Member, Notification

    demo = select(Member.id).where(Member.email.like(f"%@{DEMO_DOMAIN}"))
    db.session.execute(
        update(Notification)
        .where(
            Notification.email_state.in_(("pending", "digest")),
            Notification.member_id.in_(demo),
        )
        .values(email_state="skipped")
    )


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
@click.option(
    "--items",
    "items_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_ITEMS,
    show_default=True,
    help="Objets à prêter et leurs prêts.",
)
@click.option(
    "--news",
    "news_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_NEWS,
    show_default=True,
    help="Infos du quartier (avec commentaires) et sorties (avec réponses).",
)
@click.option("--force", is_flag=True, help="Autoriser en production (déconseillé).")
@with_appcontext
def seed_demo_command(
    password: str,
    members_path: Path,
    quartiers_path: Path,
    places_path: Path,
    exchanges_path: Path,
    items_path: Path,
    news_path: Path,
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
    _require_schema("quartiers", "places", "exchanges", "items", "loans", "news_posts", "events")
    try:
        imported = places = None
        if _count(Quartier) == 0:
            imported = import_quartiers(quartiers_path)
        if _count(Place) == 0:
            places = import_places(places_path)
        created, skipped, email = seed_demo(password, members_path)
        posted, present = seed_demo_exchanges(exchanges_path)
        offered, shelved, lent = seed_demo_items(items_path)
        news, events, answers, announced = seed_demo_news(news_path)
        _no_demo_emails()
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
    click.echo(f"{offered} objets de démonstration créés ({lent} prêts), {shelved} déjà présents.")
    click.echo(
        f"{news} infos et {events} sorties de démonstration créées "
        f"({answers} commentaires et réponses), {announced} déjà présentes."
    )
    if email:
        click.echo(f"Connectez-vous avec {email} et le mot de passe « {password} ».")


def register_cli(app: Flask) -> None:
    app.cli.add_command(import_quartiers_command)
    app.cli.add_command(import_places_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(send_notifications_command)
    app.cli.add_command(send_digests_command)
    app.cli.add_command(purge_old_data_command)
    app.cli.add_command(privacy_refresh_command)
    from peuplade import backup

    backup.register(app)  # backup, restore


@click.command("send-notifications")
@with_appcontext
def send_notifications_command() -> None:
    """Make the reminders that are due (loans due tomorrow or late, "still needed?")
    and send every notification email still waiting (retries included). Run by cron
    every few minutes."""
    from peuplade.notifications import mail, scheduled

    made = scheduled.make_reminders()
    report = mail.deliver()
    click.echo(
        f"{made['loan_due_tomorrow']} rappels « à rendre demain », "
        f"{made['loan_overdue']} rappels de retard, {made['nudge']} « toujours d'actualité ? » ; "
        f"{report.sent} emails envoyés, {report.failed} à réessayer, "
        f"{report.given_up} abandonnés."
    )
    if report.failed or report.given_up:
        raise SystemExit(1)


@click.command("send-digests")
@with_appcontext
def send_digests_command() -> None:
    """Send each member the daily digest of what they asked to receive that way (new
    requests near them that match their skills, by default). Run by cron once a day."""
    from peuplade.notifications import scheduled

    report = scheduled.send_digests()
    click.echo(f"{report.sent} résumés envoyés, {report.failed} à réessayer.")
    if report.failed:
        raise SystemExit(1)


@click.command("purge-old-data")
@with_appcontext
def purge_old_data_command() -> None:
    """Delete what the privacy policy (/privacy) says is kept no longer: notifications
    after a year, expired password resets, ended sessions, expired or revoked API
    tokens, old home changes (of deleted accounts too), handled reports and the
    moderation log after a year. Run by cron once a day."""
    from peuplade.extensions import db
    from peuplade.gdpr import services

    counts = services.purge_old_data()
    db.session.commit()
    click.echo("Lignes effacées : " + ", ".join(f"{table} {n}" for table, n in counts.items()))


@click.command("privacy-refresh")
@with_appcontext
def privacy_refresh_command() -> None:
    """Note which privacy cells hold enough established members (and since when), and
    show members in a finer cell once its crowd has held for PRIVACY_STABLE_DAYS: the
    only way a public position becomes finer (docs/privacy.md). Run by cron once a day."""
    from peuplade.account import blur
    from peuplade.extensions import db

    summary = blur.refresh_all(commit_batches=True)
    db.session.commit()
    click.echo(
        f"{summary.crowded} carrés assez peuplés ({summary.newly_crowded} nouveaux), "
        f"{summary.qualified} stables ; {summary.finer} membres montrés plus précisément, "
        f"{summary.coarser} plus largement."
    )
