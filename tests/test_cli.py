"""flask import-quartiers, import-places and seed-demo, on both backends, with the shipped
data (members, exchanges, objects and loans)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from peuplade import geo
from peuplade.account import queries, services
from peuplade.config import ROOT
from peuplade.demo.cli import DEMO_PASSWORD
from peuplade.demo.seed import demo_loan_problem
from peuplade.errors import Conflict
from peuplade.events import queries as event_queries
from peuplade.events import services as event_services
from peuplade.exchanges.queries import for_you, get_exchange_or_404, near_me, thanks_on
from peuplade.extensions import db
from peuplade.geodata import slugify
from peuplade.loans import queries as loan_queries
from peuplade.localtime import today
from peuplade.location import LocationInput
from peuplade.models import (
    CONDITIONS,
    HOLDING,
    LOAN_STATUSES,
    MAX_LOAN_DAYS,
    NEWS_KINDS,
    Event,
    Exchange,
    ExchangeResponse,
    Item,
    Loan,
    Member,
    NewsComment,
    NewsPost,
    Place,
    Quartier,
    Rsvp,
    Thanks,
    utcnow,
)
from peuplade.news import queries as news_queries
from peuplade.posts.services import expiry, places_near
from peuplade.timeline.queries import timeline
from tests.conftest import BATIGNOLLES, PASSWORD

QUARTIERS = ROOT / "data" / "quartiers-paris.geojson"
GAZETTEER = ROOT / "data" / "gazetteer.json"
DEMO_MEMBERS = ROOT / "data" / "demo-members.json"
DEMO_EXCHANGES = ROOT / "data" / "demo-exchanges.json"
DEMO_ITEMS = ROOT / "data" / "demo-items.json"
PLACES = ROOT / "data" / "places-paris.geojson"
QUARTIERS_OF_THE_17E = {"Batignolles", "Epinettes", "Plaine de Monceaux", "Ternes"}


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _import(runner, *args):
    return runner.invoke(args=["import-quartiers", *map(str, args)])


def _write(tmp_path: Path, name: str, content) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return path


def _feature(name: str, ref: int, rings, kind: str = "Polygon") -> dict:
    return {
        "type": "Feature",
        "properties": {"l_qu": name, "c_quinsee": ref, "c_ar": 17},
        "geometry": {"type": kind, "coordinates": rings},
    }


SQUARE = [[[2.30, 48.88], [2.31, 48.88], [2.31, 48.89], [2.30, 48.89], [2.30, 48.88]]]
# A self-intersecting "bowtie": its two triangles touch in the middle.
BOWTIE = [[[2.30, 48.88], [2.31, 48.89], [2.31, 48.88], [2.30, 48.89], [2.30, 48.88]]]


# --- import-quartiers ----------------------------------------------------------------


def test_import_quartiers_loads_the_80_quartiers_of_paris(app, runner):
    result = _import(runner, QUARTIERS)

    assert result.exit_code == 0, result.output
    assert "80 quartiers importés (80 nouveaux, 0 mis à jour)" in result.output
    assert _count(Quartier) == 80
    seventeenth = db.session.scalars(
        select(Quartier).where(Quartier.arrondissement == 17).order_by(Quartier.slug)
    ).all()
    assert [(q.name, q.slug) for q in seventeenth] == [
        ("Batignolles", "batignolles"),
        ("Epinettes", "epinettes"),
        ("Plaine de Monceaux", "plaine-de-monceaux"),
        ("Ternes", "ternes"),
    ]
    assert seventeenth[0].source_ref == "c_quinsee 7511703"


def test_a_member_at_the_square_des_batignolles_lands_in_batignolles(app, runner, make_member):
    assert _import(runner, QUARTIERS).exit_code == 0
    square = services.register_member(
        email="square@example.org",
        password=PASSWORD,
        display_name="Agathe",
        location=LocationInput(address="Square des Batignolles"),
    )
    db.session.commit()
    assert square.quartier.name == "Batignolles"
    assert make_member(at=BATIGNOLLES).quartier.name == "Batignolles"
    # Square des Épinettes, across the avenue de Clichy: the next quartier.
    assert make_member(at=(48.89384, 2.32595)).quartier.name == "Epinettes"
    assert make_member(at=(48.84, 2.40)).quartier.arrondissement == 12  # Nation


def test_reimport_updates_instead_of_duplicating(app, runner, tmp_path):
    assert _import(runner, QUARTIERS).exit_code == 0
    ids = {q.source_ref: q.id for q in db.session.scalars(select(Quartier))}

    data = json.loads(QUARTIERS.read_text("utf-8"))
    for feature in data["features"]:
        if feature["properties"]["l_qu"] == "Epinettes":
            feature["properties"]["l_qu"] = "Épinettes"
    result = _import(runner, _write(tmp_path, "renamed.geojson", data))

    assert result.exit_code == 0, result.output
    assert "80 quartiers importés (0 nouveaux, 80 mis à jour)" in result.output
    assert _count(Quartier) == 80
    assert {q.source_ref: q.id for q in db.session.scalars(select(Quartier))} == ids
    epinettes = db.session.scalar(select(Quartier).where(Quartier.slug == "epinettes"))
    assert epinettes.name == "Épinettes"


def test_import_gives_members_registered_earlier_their_quartier(app, runner, make_member):
    early = make_member(at=BATIGNOLLES)
    assert early.quartier is None
    result = _import(runner, QUARTIERS)
    assert "1 membre(s) rattaché(s)" in result.output
    db.session.expire_all()
    assert db.session.get(Member, early.id).quartier.name == "Batignolles"


def test_import_converts_polygons_and_makes_unique_slugs(app, runner, tmp_path):
    east = [[[x + 0.02, y] for x, y in SQUARE[0]]]
    data = {
        "type": "FeatureCollection",
        "features": [
            _feature("Épinettes", 1, [[[x, y, 35.0] for x, y in SQUARE[0]]]),  # with altitude
            _feature("Epinettes", 2, [east], kind="MultiPolygon"),
        ],
    }
    result = _import(runner, _write(tmp_path, "two.geojson", data))

    assert result.exit_code == 0, result.output
    slugs = sorted(db.session.scalars(select(Quartier.slug)))
    assert slugs == ["epinettes", "epinettes-17"]
    inside = queries.quartier_at(geo.lat_lon(48.885, 2.305))
    assert inside is not None and inside.source_ref == "c_quinsee 1"


def test_invalid_polygon_is_refused_and_nothing_is_written(app, runner, tmp_path):
    data = {
        "type": "FeatureCollection",
        "features": [_feature("Carré", 1, SQUARE), _feature("Nœud papillon", 2, BOWTIE)],
    }
    result = _import(runner, _write(tmp_path, "bowtie.geojson", data))

    assert result.exit_code != 0
    assert "Nœud papillon" in result.output
    assert "polygone invalide" in result.output
    assert "rien n'a été importé" in result.output
    assert "Carré" not in result.output  # only the broken one is named
    assert _count(Quartier) == 0


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        ({"type": "Point", "coordinates": [2.3, 48.88]}, "Polygon ou MultiPolygon attendu"),
        ({"type": "Polygon", "coordinates": []}, "géométrie vide"),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[600000, 6800000], [600100, 6800000], [600100, 6800100], [600000, 6800000]]
                ],
            },
            "hors WGS84",
        ),
        ({"type": "Polygon", "coordinates": "nope"}, "géométrie illisible"),
    ],
)
def test_unusable_geometries_are_refused(app, runner, tmp_path, geometry, message):
    feature = {"type": "Feature", "properties": {"l_qu": "Essai", "c_quinsee": 1}}
    data = {"type": "FeatureCollection", "features": [{**feature, "geometry": geometry}]}
    result = _import(runner, _write(tmp_path, "bad.geojson", data))
    assert result.exit_code != 0
    assert "Essai" in result.output and message in result.output
    assert _count(Quartier) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "fichier introuvable"),
        ("{not json", "n'est pas du JSON valide (ligne 1"),
        ({"type": "Feature", "geometry": None}, "n'est pas une FeatureCollection"),
        ([1, 2], "n'est pas une FeatureCollection"),
        ({"type": "FeatureCollection", "features": []}, "aucune entité"),
    ],
)
def test_bad_files_get_one_clear_line(app, runner, tmp_path, content, message):
    path = tmp_path / "missing.geojson" if content is None else _write(tmp_path, "f.json", content)
    result = _import(runner, path)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_custom_field_names(app, runner, tmp_path):
    feature = {
        "type": "Feature",
        "properties": {"nom": "La Croix-Rousse", "code": "69004-1"},
        "geometry": {"type": "Polygon", "coordinates": SQUARE},
    }
    path = _write(tmp_path, "lyon.geojson", {"type": "FeatureCollection", "features": [feature]})
    missing = _import(runner, path)
    assert missing.exit_code == 1 and "« l_qu » absent" in missing.output

    result = _import(
        runner, path, "--name-field", "nom", "--ref-field", "code", "--arrondissement-field", ""
    )
    assert result.exit_code == 0, result.output
    quartier = db.session.scalar(select(Quartier))
    assert (quartier.slug, quartier.source_ref, quartier.arrondissement) == (
        "la-croix-rousse",
        "code 69004-1",
        None,
    )


def test_slugify():
    assert slugify("Épinettes") == "epinettes"
    assert slugify("Faubourg-du-Roule") == "faubourg-du-roule"
    assert slugify("Chaussée-d'Antin") == "chaussee-d-antin"
    assert slugify("  !! ") == "quartier"


# --- import-places -------------------------------------------------------------------


def _import_places(runner, *args):
    return runner.invoke(args=["import-places", *map(str, args)])


def _station(name, ref, lon=2.3155, lat=48.8873, kind="Point") -> dict:
    return {
        "type": "Feature",
        "properties": {"name": name, "station_id": ref},
        "geometry": {"type": kind, "coordinates": [lon, lat]},
    }


def _collection(*features) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def test_import_places_loads_the_stations_and_a_reimport_updates_them(app, runner, tmp_path):
    result = _import_places(runner, PLACES)

    assert result.exit_code == 0, result.output
    assert "1358 lieux publics importés (1358 nouveaux, 0 mis à jour)" in result.output
    assert _count(Place) == 1358
    square = db.session.scalar(select(Place).where(Place.name == "Square des Batignolles"))
    assert square.source_ref == "velib:129089749"
    # The friendly name is the station at the square's north gate; the form of a member
    # living south of the square offers it.
    here = geo.lat_lon(*BATIGNOLLES)
    assert geo.geodesic_distance_m(here, geo.from_element(square.position)) < 600
    member = services.register_member(
        email="square@example.org",
        password=PASSWORD,
        display_name="Agathe",
        location=LocationInput(lat=BATIGNOLLES[0], lon=BATIGNOLLES[1]),
    )
    near = [p.name for p in places_near(member)]
    assert {"Square des Batignolles", "Mairie du 17e", "Place de Clichy"} <= set(near)
    assert "Square des Épinettes" not in near  # 1.3 km away
    ids = dict(db.session.execute(select(Place.source_ref, Place.id)).all())

    data = json.loads(PLACES.read_text("utf-8"))
    for feature in data["features"]:
        if feature["properties"]["station_id"] == 129089749:
            feature["properties"]["name"] = "Square des Batignolles (entrée Brochant)"
            feature["geometry"]["coordinates"] = [2.3160, 48.8876]
    again = _import_places(runner, _write(tmp_path, "moved.geojson", data))

    assert again.exit_code == 0, again.output
    assert "1358 lieux publics importés (0 nouveaux, 1358 mis à jour)" in again.output
    assert _count(Place) == 1358
    assert dict(db.session.execute(select(Place.source_ref, Place.id)).all()) == ids
    square = db.session.get(Place, ids["velib:129089749"])
    assert square.name == "Square des Batignolles (entrée Brochant)"
    assert geo.from_element(square.position) == geo.lat_lon(48.8876, 2.3160)


@pytest.mark.parametrize(
    ("feature", "message"),
    [
        (_station("Parvis", 2, kind="LineString"), "géométrie LineString (Point attendu)"),
        (_station("Parvis", 2, lon=float("nan")), "coordonnées non numériques"),
        (_station("Parvis", 2, lat=98.5), "hors WGS84"),
        (_station("Parvis", 2, lon="2,31"), "coordonnées non numériques"),
        ({**_station("Parvis", 2), "geometry": None}, "géométrie absente"),
        (_station("   ", 2), "« name » absent ou vide"),
        (_station("P" * 161, 2), "nom de plus de 160 caractères"),
        (_station("Parvis", None), "« station_id » absent ou vide"),
        (_station("Parvis", 1), "référence velib:1 en double"),
    ],
)
def test_a_bad_place_is_refused_and_nothing_is_written(app, runner, tmp_path, feature, message):
    first = _import_places(
        runner, _write(tmp_path, "ok.geojson", _collection(_station("Kiosque", 1)))
    )
    assert first.exit_code == 0, first.output

    renamed = _station("Kiosque à musique", 1)
    result = _import_places(runner, _write(tmp_path, "bad.geojson", _collection(renamed, feature)))

    assert result.exit_code == 1
    assert "rien n'a été importé (1 problème(s))" in result.output
    assert "entité n°2" in result.output and message in result.output
    assert "Traceback" not in result.output
    assert db.session.scalars(select(Place.name)).all() == ["Kiosque"]  # not renamed


def test_import_places_with_other_field_names(app, runner, tmp_path):
    feature = {
        "type": "Feature",
        "properties": {"nom": "Place Bellecour", "code": "69002-1"},
        "geometry": {"type": "Point", "coordinates": [4.8320, 45.7578, 170.0]},
    }
    path = _write(tmp_path, "lyon.geojson", _collection(feature))
    missing = _import_places(runner, path)
    assert missing.exit_code == 1 and "« name » absent" in missing.output

    result = _import_places(
        runner, path, "--name-field", "nom", "--ref-field", "code", "--ref-prefix", "lyon"
    )
    assert result.exit_code == 0, result.output
    assert "1 lieux publics importés (1 nouveaux, 0 mis à jour)" in result.output
    place = db.session.scalar(select(Place))
    assert (place.name, place.source_ref) == ("Place Bellecour", "lyon:69002-1")
    assert geo.from_element(place.position) == geo.lat_lon(45.7578, 4.8320)


def test_shipped_places_keep_only_name_id_and_position():
    data = json.loads(PLACES.read_text("utf-8"))
    assert "ODbL" in data["source"]
    props = [f["properties"] for f in data["features"]]
    assert all(set(p) == {"name", "station_id"} for p in props)
    names = [p["name"] for p in props]
    assert len(set(names)) == len(names) == 1358  # one name, one place
    assert {"Square des Batignolles", "Place de Clichy", "Square des Épinettes"} <= set(names)
    assert "ODbL" in (ROOT / "data" / "README.md").read_text("utf-8")


# --- the shipped data ----------------------------------------------------------------


def test_every_gazetteer_entry_lies_in_the_quartier_it_claims(app, runner):
    assert _import(runner, QUARTIERS).exit_code == 0
    entries = json.loads(GAZETTEER.read_text("utf-8"))["entries"]
    demo = [e for e in entries if e["kind"] == "demo-address"]
    assert len(demo) >= 60
    assert {e["quartier"] for e in demo} <= QUARTIERS_OF_THE_17E
    wrong = [
        (e["label"], e["quartier"], getattr(found, "name", None))
        for e in entries
        if (found := queries.quartier_at(geo.lat_lon(e["lat"], e["lon"]))) is None
        or found.name != e["quartier"]
    ]
    assert wrong == []


def test_demo_members_use_gazetteer_addresses_and_known_skills():
    from peuplade.categories import SLUGS

    labels = {e["label"] for e in json.loads(GAZETTEER.read_text("utf-8"))["entries"]}
    members = json.loads(DEMO_MEMBERS.read_text("utf-8"))["members"]
    assert 35 <= len(members) <= 45
    assert all(m["address"] in labels for m in members)
    assert all(set(m["skills"]) <= set(SLUGS) for m in members)
    assert len({m["email"] for m in members}) == len(members)


# --- seed-demo -----------------------------------------------------------------------


# One seed for all the checks of the shipped demo data: seeding takes seconds per backend.
def test_seed_demo_creates_the_neighbourhood_its_exchanges_and_objects_once(app, runner):
    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert "80 quartiers importés" in result.output
    assert "1358 lieux publics importés" in result.output
    assert "40 membres de démonstration créés, 0 déjà présents" in result.output
    assert "35 échanges de démonstration créés, 0 déjà présents" in result.output
    assert "26 objets de démonstration créés (36 prêts), 0 déjà présents" in result.output
    assert (
        "15 infos et 8 sorties de démonstration créées (49 commentaires et réponses), "
        "0 déjà présentes"
    ) in result.output
    assert DEMO_PASSWORD in result.output and "camille.b@demo.example.org" in result.output
    _check_demo_members()
    _check_demo_exchanges()
    _check_demo_items()
    _check_demo_loans()
    _check_demo_news()
    _check_demo_events()

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert "0 membres de démonstration créés, 40 déjà présents" in again.output
    assert "0 échanges de démonstration créés, 35 déjà présents" in again.output
    assert "0 objets de démonstration créés (0 prêts), 26 déjà présents" in again.output
    assert (
        "0 infos et 0 sorties de démonstration créées (0 commentaires et réponses), "
        "23 déjà présentes"
    ) in again.output
    assert "quartiers importés" not in again.output  # already there
    assert "lieux publics importés" not in again.output
    assert _count(Member) == 40
    assert _count(Quartier) == 80
    assert _count(Place) == 1358
    assert _count(Exchange) == 35
    assert _count(ExchangeResponse) == 49
    assert _count(Thanks) == 18
    assert _count(Item) == 26
    assert _count(Loan) == 36
    assert _count(NewsPost) == 15 and _count(NewsComment) == 17
    assert _count(Event) == 8 and _count(Rsvp) == 32


def _check_demo_members() -> None:
    members = db.session.scalars(select(Member)).all()
    assert len(members) == 40
    # A member's quartier is the one of their public cell (never of their home).
    from peuplade.account.queries import quartier_at

    assert all(m.quartier == quartier_at(geo.from_element(m.public_position)) for m in members)
    in_17e = [m for m in members if m.quartier is not None and m.quartier.arrondissement == 17]
    assert len(in_17e) >= 36  # a few cells near the boundary lie in the 8e or 18e
    assert {m.quartier.name for m in in_17e} >= {"Batignolles", "Epinettes"}
    assert sum(m.radius_m == 1000 for m in members) > 20
    assert any("tricot" in m.tag_names for m in members)
    assert services.authenticate("camille.b@demo.example.org", DEMO_PASSWORD) is not None


def _check_demo_exchanges() -> None:
    now = utcnow()
    exchanges = db.session.scalars(select(Exchange)).all()
    assert len(exchanges) == 35
    behalf = [e for e in exchanges if e.on_behalf_of]
    assert [e.on_behalf_of for e in behalf] == ["Mme Dupont, ma voisine du 2e"]
    assert behalf[0].behalf_consent_at is not None
    statuses = Counter(e.status for e in exchanges)
    assert statuses["open"] >= 20 and statuses["done"] >= 8 and statuses["cancelled"] == 2
    assert {e.kind for e in exchanges} == {"request", "offer"}
    assert len({e.category for e in exchanges}) >= 12
    assert all(e.author.email.endswith("@demo.example.org") for e in exchanges)
    places = {p.label: geo.from_element(p.position) for p in db.session.scalars(select(Place))}
    at_places = [e for e in exchanges if e.place_name]
    assert len(at_places) >= 5
    for exchange in exchanges:
        # Shown at the author's public cell, or at the public place they picked.
        expected = places[exchange.place_name] if exchange.place_name else None
        expected = expected or geo.from_element(exchange.author.public_position)
        assert geo.from_element(exchange.position) == expected, exchange.title
        # Alive timeline: spread over the last weeks, the expiry follows creation.
        assert now - timedelta(days=40) < exchange.created_at < now
        last_day = exchange.ends_on or exchange.starts_on
        expected_expiry = expiry(last_day, exchange.created_at)
        assert abs(exchange.expires_at - expected_expiry) < timedelta(seconds=1)
        for response in exchange.responses:
            assert exchange.created_at < response.created_at < now
            # Every neighbour who answered really sees the exchange.
            assert get_exchange_or_404(response.author, exchange.id) is exchange
    assert min(e.created_at for e in exchanges) < now - timedelta(days=21)
    dated = [e for e in exchanges if e.status == "open" and e.starts_on]
    assert len(dated) >= 5 and all(e.starts_on >= today() for e in dated)

    done = [e for e in exchanges if e.status == "done"]
    for exchange in done:
        assert exchange.helper_id in {r.author_id for r in exchange.responses}
        assert max(r.created_at for r in exchange.responses) < exchange.closed_at < now
        notes = {(t.from_member_id, t.to_member_id) for t in thanks_on(exchange, exchange.author)}
        assert notes == {
            (exchange.author_id, exchange.helper_id),
            (exchange.helper_id, exchange.author_id),
        }
    cancelled = [e for e in exchanges if e.status == "cancelled"]
    assert all(e.helper_id is None and e.closed_at for e in cancelled)
    open_ones = [e for e in exchanges if e.status == "open"]
    assert sum(bool(e.responses) for e in open_ones) >= 15

    # The first demo login has a lively neighbourhood, and requests for their skills.
    camille = db.session.scalar(select(Member).where(Member.email == "camille.b@demo.example.org"))
    assert len(db.session.scalars(near_me(camille)).all()) >= 15
    assert db.session.scalars(for_you(camille)).all()


def _check_demo_items() -> None:
    items = db.session.scalars(select(Item)).all()
    assert len(items) == 26
    assert len({i.category for i in items}) >= 7
    assert {i.condition for i in items} == set(CONDITIONS)
    assert sum(bool(i.notes) for i in items) >= 15  # deposits, how to use it...
    for item in items:
        # Shown at the lender's public cell, never at their home.
        assert geo.from_element(item.position) == geo.from_element(item.author.public_position)
    unavailable = [i for i in items if not i.available]
    assert len(unavailable) == 3
    camille = _member("camille.b")
    nearby = db.session.scalars(loan_queries.near_me(camille)).all()
    shown = db.session.scalars(loan_queries.near_me(camille, available_only=True)).all()
    assert len(nearby) >= 18
    assert len(shown) < len(nearby) and not set(shown) & set(unavailable)


def _check_demo_loans() -> None:
    now, day = utcnow(), today()
    loans = db.session.scalars(select(Loan)).all()
    assert {loan.status for loan in loans} == set(LOAN_STATUSES)
    overdue = [loan for loan in loans if loan.overdue_on(day)]
    assert len(overdue) == 2
    for loan in overdue:
        assert loan in db.session.scalars(loan_queries.overdue(loan.borrower)).all()
        assert loan in db.session.scalars(loan_queries.overdue(loan.lender)).all()
    assert any(loan.status == "lent" and not loan.overdue_on(day) for loan in loans)
    for loan in loans:
        # Asked by a neighbour who really sees the object, for a period the rules allow.
        assert loan_queries.get_item_or_404(loan.borrower, loan.item_id) is loan.item
        assert loan.lender_id == loan.item.author_id != loan.borrower_id
        assert loan.start <= loan.due and (loan.due - loan.start).days < MAX_LOAN_DAYS
        if loan.status in ("requested", "accepted", "declined", "cancelled"):
            assert loan.start >= day, loan
        if loan.status in ("lent", "returned"):
            assert loan.start < day and loan.lent_at is not None, loan
        if loan.status == "returned":
            assert loan.due < day and loan.lent_at < loan.returned_at, loan
        # A lived-in timeline: offered, asked, decided, handed over, back, all before now.
        moments = [loan.item.created_at, loan.created_at, loan.decided_at]
        moments += [loan.lent_at, loan.returned_at]
        moments = [m for m in moments if m is not None] + [now]
        assert moments == sorted(moments), loan
    # The overlap rule holds in the demo: no two holding loans of one object overlap.
    holding = [loan for loan in loans if loan.status in HOLDING]
    for a in holding:
        for b in holding:
            if a.id < b.id and a.item_id == b.item_id:
                assert a.due < b.start or b.due < a.start, (a, b)
    # Two requests for the same dates of one object may wait side by side.
    requested = [loan for loan in loans if loan.status == "requested"]
    assert any(
        a.item_id == b.item_id and a.id != b.id and a.start <= b.due and b.start <= a.due
        for a in requested
        for b in requested
    )

    # The documented demo login lends with a request waiting, and has borrowed something.
    camille = _member("camille.b")
    as_lender = db.session.scalars(loan_queries.my_loans(camille, "lender")).all()
    as_borrower = db.session.scalars(loan_queries.my_loans(camille, "borrower")).all()
    assert len(db.session.scalars(loan_queries.mine(camille)).all()) >= 3
    assert sum(loan.status == "requested" for loan in as_lender) >= 2
    assert any(loan.status == "lent" and loan.due >= day for loan in as_borrower)
    assert loan_queries.times_lent(camille.id) >= 1
    assert loan_queries.times_borrowed(camille.id) >= 1


def _check_demo_news() -> None:
    now = utcnow()
    items = db.session.scalars(select(NewsPost)).all()
    assert {n.kind for n in items} == set(NEWS_KINDS)
    names = {q.id: q.name for q in db.session.scalars(select(Quartier))}
    assert {names[n.quartier_id] for n in items if n.quartier_id} == {"Batignolles", "Epinettes"}
    for item in items:
        # Shown at the author's public cell; quartier news only from that quartier's members.
        assert geo.from_element(item.position) == geo.from_element(item.author.public_position)
        assert item.quartier_id in (None, item.author.quartier_id)
        assert now - timedelta(days=30) < item.created_at < now < item.expires_at
        for note in item.comments:
            assert item.created_at < note.created_at < now
            assert news_queries.get_news_or_404(note.author, item.id) is item
    # The water cut is a fresh alert: pinned at the top for the neighbours of rue des Dames.
    alerts = db.session.scalars(news_queries.recent_alerts(_member("camille.b"))).all()
    assert [a.title for a in alerts] == ["Coupure d'eau mardi rue des Dames"]
    batignolles = db.session.scalar(select(Quartier).where(Quartier.slug == "batignolles"))
    public = db.session.scalars(news_queries.quartier_public_news(batignolles)).all()
    assert len(public) >= 3


def _check_demo_events() -> None:
    now = utcnow()
    places = {p.label: geo.from_element(p.position) for p in db.session.scalars(select(Place))}
    outings = db.session.scalars(select(Event)).all()
    full = 0
    for event in outings:
        assert now < event.starts_at < now + timedelta(days=15), event.title
        assert event.ends_at is None or event.ends_at > event.starts_at
        assert event.created_at < now and event.expires_at == (event.ends_at or event.starts_at)
        assert geo.from_element(event.position) == places[event.place_name]  # a public place
        going = [r for r in event.rsvps if r.going]
        assert event.capacity is None or len(going) <= event.capacity
        for answer in event.rsvps:
            assert event.created_at < answer.created_at < now
            assert event_queries.get_event_or_404(answer.member, event.id) is event
        if event.capacity is not None and len(going) == event.capacity:
            full += 1
            latecomer = next(
                m
                for m in db.session.scalars(select(Member).order_by(Member.id))
                if m.id != event.author_id and m.id not in {r.member_id for r in event.rsvps}
            )
            with pytest.raises(Conflict):
                event_services.rsvp(event, latecomer, True)
    assert full == 2
    assert any(not r.going for e in outings for r in e.rsvps)
    # The first demo login sees outings coming, and a timeline mixing every kind of post.
    camille = _member("camille.b")
    assert len(db.session.scalars(event_queries.upcoming(camille)).all()) >= 5
    kinds = {type(p).__name__ for p in db.session.scalars(timeline(camille, limit=200))}
    assert {"Exchange", "Item", "NewsPost", "Event"} <= kinds


def _member(handle: str) -> Member:
    return db.session.scalar(select(Member).where(Member.email == f"{handle}@demo.example.org"))


def test_seed_demo_refuses_an_exchange_a_responder_cannot_see(app, runner, tmp_path):
    members = json.loads(DEMO_MEMBERS.read_text("utf-8"))["members"]
    two = [m for m in members if m["email"].split("@")[0] in {"anais.w", "nathalie.c"}]
    exchange = {
        "author": "anais.w@demo.example.org",
        "kind": "request",
        "category": "couture",
        "title": "Recoudre un bouton",
        "body": "Un bouton de manteau à recoudre.",
        "created_days_ago": 2,
        "responses": [{"from": "nathalie.c@demo.example.org", "message": "Je peux !"}],
    }
    result = runner.invoke(
        args=[
            "seed-demo",
            "--members",
            _write(tmp_path, "two.json", {"members": two}),
            "--exchanges",
            _write(tmp_path, "one.json", {"exchanges": [exchange]}),
        ]
    )

    assert result.exit_code == 1
    assert "« Recoudre un bouton »" in result.output
    assert "nathalie.c@demo.example.org ne voit pas cet échange" in result.output
    assert "Traceback" not in result.output
    for model in (Exchange, Member, Place, Quartier):
        assert _count(model) == 0  # everything rolled back


def test_demo_exchanges_name_demo_members_and_known_categories():
    from peuplade.categories import SLUGS

    emails = {m["email"] for m in json.loads(DEMO_MEMBERS.read_text("utf-8"))["members"]}
    entries = json.loads(DEMO_EXCHANGES.read_text("utf-8"))["exchanges"]
    assert 30 <= len(entries) <= 40
    assert len({(e["author"], e["title"]) for e in entries}) == len(entries)
    for entry in entries:
        assert entry["author"] in emails and entry["category"] in SLUGS
        answers = [r["from"] for r in entry.get("responses", [])]
        assert set(answers) <= emails - {entry["author"]}
        assert len(set(answers)) == len(answers)
        if entry.get("helper"):
            assert entry["outcome"] == "done" and entry["helper"] in answers


def _demo_members(*handles: str) -> list[dict]:
    members = json.loads(DEMO_MEMBERS.read_text("utf-8"))["members"]
    return [m for m in members if m["email"].split("@")[0] in handles]


def _seed_items(runner, tmp_path, members: list[dict], items: list[dict]):
    return runner.invoke(
        args=[
            "seed-demo",
            "--members",
            _write(tmp_path, "members.json", {"members": members}),
            "--exchanges",
            _write(tmp_path, "exchanges.json", {"exchanges": []}),
            "--items",
            _write(tmp_path, "items.json", {"items": items}),
        ]
    )


def _demo_item(lender: str, loans: list[dict]) -> dict:
    return {
        "lender": f"{lender}@demo.example.org",
        "title": "Perceuse à percussion",
        "category": "bricolage",
        "condition": "bon",
        "description": "Avec mèches béton.",
        "created_days_ago": 20,
        "loans": loans,
    }


def _demo_loan(borrower: str, status: str, start: int, due: int, asked: int = 10) -> dict:
    return {
        "borrower": f"{borrower}@demo.example.org",
        "status": status,
        "start_in_days": start,
        "due_in_days": due,
        "asked_days_ago": asked,
        "message": "Pour une étagère.",
    }


def test_seed_demo_refuses_a_loan_the_borrower_cannot_see(app, runner, tmp_path):
    result = _seed_items(
        runner,
        tmp_path,
        _demo_members("anais.w", "nathalie.c"),
        [_demo_item("anais.w", [_demo_loan("nathalie.c", "requested", 2, 3)])],
    )

    assert result.exit_code == 1
    assert "« Perceuse à percussion »" in result.output
    assert "nathalie.c@demo.example.org ne voit pas cet objet" in result.output
    assert "Traceback" not in result.output
    for model in (Loan, Item, Member, Quartier):
        assert _count(model) == 0  # everything rolled back


def test_seed_demo_past_loans_still_meet_the_database_overlap_guard(app, runner, tmp_path):
    # Both were lent in the past for overlapping periods: each passes the services at its
    # parking dates, and the database's own guard refuses the second once moved back.
    loans = [_demo_loan("mathieu.l", "lent", -5, 2), _demo_loan("sophie.m", "lent", -3, 1, 8)]
    result = _seed_items(
        runner,
        tmp_path,
        _demo_members("camille.b", "mathieu.l", "sophie.m"),
        [_demo_item("camille.b", loans)],
    )

    assert result.exit_code == 1
    assert "sophie.m@demo.example.org" in result.output
    assert "chevauchent un autre prêt" in result.output
    assert "Traceback" not in result.output
    assert _count(Loan) == 0 and _count(Item) == 0 and _count(Member) == 0


@pytest.mark.parametrize(
    ("loan", "message"),
    [
        (_demo_loan("mathieu.l", "lent", 2, 4), "commence dans le passé"),
        (_demo_loan("mathieu.l", "returned", -4, 1), "se termine dans le passé"),
        (_demo_loan("mathieu.l", "accepted", -1, 2), "commence aujourd'hui ou plus tard"),
        (_demo_loan("mathieu.l", "lent", -12, -1), "la demande doit précéder"),
        (_demo_loan("mathieu.l", "requested", 2, 3, asked=30), "avant que l'objet soit proposé"),
        (_demo_loan("mathieu.l", "prêté", 2, 3), "état « prêté » inconnu"),
    ],
)
def test_impossible_demo_loans_are_named(loan, message):
    assert message in demo_loan_problem(loan, offered_days_ago=20)
    assert demo_loan_problem(_demo_loan("mathieu.l", "returned", -4, -2, asked=6), 20) is None


def test_seed_demo_passes_on_the_services_refusal_of_a_loan(app, runner, tmp_path):
    result = _seed_items(
        runner,
        tmp_path,
        _demo_members("camille.b", "mathieu.l"),
        [_demo_item("camille.b", [_demo_loan("mathieu.l", "requested", 3, 2)])],
    )

    assert result.exit_code == 1
    assert "prêt n°1 (mathieu.l@demo.example.org)" in result.output
    assert "due : Le retour doit venir après le premier jour" in result.output
    assert "Traceback" not in result.output
    assert _count(Loan) == 0 and _count(Item) == 0


def test_demo_items_name_demo_members_and_known_categories():
    from peuplade.categories import SLUGS

    emails = {m["email"] for m in json.loads(DEMO_MEMBERS.read_text("utf-8"))["members"]}
    entries = json.loads(DEMO_ITEMS.read_text("utf-8"))["items"]
    assert 20 <= len(entries) <= 30
    assert len({(e["lender"], e["title"]) for e in entries}) == len(entries)
    for entry in entries:
        assert entry["lender"] in emails and entry["category"] in SLUGS
        assert entry["condition"] in CONDITIONS
        for loan in entry.get("loans", []):
            assert loan["borrower"] in emails - {entry["lender"]}
            assert loan["status"] in LOAN_STATUSES


def test_seed_demo_with_a_weak_password_writes_nothing(app, runner):
    result = runner.invoke(args=["seed-demo", "--password", "123"])
    assert result.exit_code == 1
    assert "password" in result.output and "12 caractères" in result.output
    assert _count(Member) == 0
    assert _count(Quartier) == 0  # the quartiers import was rolled back too
    assert _count(Place) == 0


def test_seed_demo_refuses_production_without_force(make_app, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)  # production refuses to start without one
    monkeypatch.setenv("PUBLIC_URL", "https://peuplade.example")  # nor without this
    app = make_app(PEUPLADE_ENV="production")
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "--force" in result.output
    with app.app_context():
        assert _count(Member) == 0
