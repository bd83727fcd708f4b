"""flask import-quartiers and flask seed-demo, on both backends, with the shipped data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from peuplade import ROOT, geo
from peuplade.account import queries, services
from peuplade.cli import DEMO_PASSWORD, slugify
from peuplade.extensions import db
from peuplade.models import Member, Quartier
from tests.conftest import BATIGNOLLES, PASSWORD

QUARTIERS = ROOT / "data" / "quartiers-paris.geojson"
GAZETTEER = ROOT / "data" / "gazetteer.json"
DEMO_MEMBERS = ROOT / "data" / "demo-members.json"
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
        location=services.LocationInput(address="Square des Batignolles"),
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


def test_seed_demo_creates_the_neighbourhood_once(app, runner):
    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert "80 quartiers importés" in result.output
    assert "40 membres de démonstration créés, 0 déjà présents" in result.output
    assert DEMO_PASSWORD in result.output and "camille.b@demo.example.org" in result.output
    members = db.session.scalars(select(Member)).all()
    assert len(members) == 40
    assert all(m.quartier is not None and m.quartier.arrondissement == 17 for m in members)
    assert {m.quartier.name for m in members} >= {"Batignolles", "Epinettes"}
    assert sum(m.radius_m == 1000 for m in members) > 20
    assert any("tricot" in m.tag_names for m in members)
    assert services.authenticate("camille.b@demo.example.org", DEMO_PASSWORD) is not None

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert "0 membres de démonstration créés, 40 déjà présents" in again.output
    assert "quartiers importés" not in again.output  # already there
    assert _count(Member) == 40
    assert _count(Quartier) == 80


def test_seed_demo_with_a_weak_password_writes_nothing(app, runner):
    result = runner.invoke(args=["seed-demo", "--password", "123"])
    assert result.exit_code == 1
    assert "password" in result.output and "12 caractères" in result.output
    assert _count(Member) == 0
    assert _count(Quartier) == 0  # the quartiers import was rolled back too


def test_seed_demo_refuses_production_without_force(make_app, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)  # production refuses to start without one
    app = make_app(PEUPLADE_ENV="production")
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "--force" in result.output
    with app.app_context():
        assert _count(Member) == 0
