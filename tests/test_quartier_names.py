"""Quartier names as French writes them: the shipped correction table
(data/quartiers-paris-noms.csv) covers every shipped quartier, the import applies it
(and only where it still applies), other cities keep their names, and databases migrated
from before the column get the names too."""

from __future__ import annotations

import csv
import json
import unicodedata

import pytest
from sqlalchemy import select, text

from peuplade import geo, migrating
from peuplade.commands import CommandFailed
from peuplade.config import ROOT
from peuplade.extensions import db
from peuplade.geodata import (
    QUARTIER_NAMES,
    import_quartiers,
    quartier_display_names,
    reassign_quartiers,
)
from peuplade.models import Quartier
from tests.conftest import BATIGNOLLES
from tests.test_migrations import (  # noqa: F401 - the fixtures and their parametrisation
    _migrate,
    fresh_db,
    migrated_app,
    pytest_generate_tests,
)

SHIPPED = ROOT / "data" / "quartiers-paris.geojson"
THE_17E = {
    "c_quinsee 7511701": "Ternes",
    "c_quinsee 7511702": "Plaine de Monceaux",
    "c_quinsee 7511703": "Batignolles",
    "c_quinsee 7511704": "Épinettes",
}
# Words of Paris quartier names that French writes with an accent, as the open data
# sometimes gives them without one.
UNACCENTED = {
    "Epinettes", "Elysees", "Elysées", "Champs-Elysées", "Ecole", "Metiers", "Grace",
    "Odeon", "Vendome", "Hopital", "Mericourt", "Salpetriere", "Carrieres", "Amerique",
    "Pere", "Chaussee", "Pres", "Medicis", "Fontaine-au-Roi",
}  # fmt: skip


def _shipped_refs() -> dict[str, str]:
    features = json.loads(SHIPPED.read_text("utf-8"))["features"]
    return {f"c_quinsee {f['properties']['c_quinsee']}": f["properties"]["l_qu"] for f in features}


def _words(name: str) -> list[str]:
    for mark in "-’ ":
        name = name.replace(mark, " ")
    return name.split()


def _plain(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# --- the table itself ------------------------------------------------------------------


def test_every_shipped_quartier_has_exactly_one_display_name():
    table = quartier_display_names()
    refs = _shipped_refs()
    assert len(refs) == 80
    assert set(table) == set(refs)
    # Each entry corrects the open-data name of that very quartier.
    assert {ref: raw for ref, (raw, _shown) in table.items()} == refs
    with QUARTIER_NAMES.open(encoding="utf-8", newline="") as rows:
        assert len(list(csv.DictReader(rows))) == 80  # no ref listed twice


def test_display_names_are_written_as_french_writes_them():
    shown = {ref: name for ref, (_raw, name) in quartier_display_names().items()}
    assert {ref: shown[ref] for ref in THE_17E} == THE_17E
    expected = {
        "c_quinsee 7510101": "Saint-Germain-l’Auxerrois",
        "c_quinsee 7510301": "Arts-et-Métiers",
        "c_quinsee 7510503": "Val-de-Grâce",
        "c_quinsee 7510602": "Odéon",
        "c_quinsee 7510703": "École-Militaire",
        "c_quinsee 7510801": "Champs-Élysées",
        "c_quinsee 7510902": "Chaussée-d’Antin",
        "c_quinsee 7511004": "Hôpital-Saint-Louis",
        "c_quinsee 7511504": "Javel",
        "c_quinsee 7511803": "Goutte-d’Or",
        "c_quinsee 7512003": "Père-Lachaise",
    }
    assert {ref: shown[ref] for ref in expected} == expected
    accented = {_plain(w): w for name in shown.values() for w in _words(name) if _plain(w) != w}
    for ref, name in shown.items():
        assert name == name.strip() and "  " not in name, ref
        assert "'" not in name, f"{name}: the French apostrophe is ’"
        assert not name.startswith("St-") and "15Art" not in name, name
        for word in _words(name):
            assert word not in UNACCENTED, f"{name}: {word} needs its accent"
            # A word written with its accent in one name has it in every name.
            assert accented.get(word, word) == word, f"{name}: {word}"


def test_a_table_with_a_missing_name_is_refused(tmp_path):
    bad = tmp_path / "noms.csv"
    bad.write_text("c_quinsee,l_qu,nom\n7511704,Epinettes,\n", encoding="utf-8")
    with pytest.raises(CommandFailed, match="ligne 2"):
        quartier_display_names(bad)
    assert quartier_display_names(tmp_path / "absent.csv") == {}


# --- the import ------------------------------------------------------------------------


def test_import_gives_every_shipped_quartier_its_display_name(app):
    import_quartiers(SHIPPED)
    db.session.commit()

    quartiers = db.session.scalars(select(Quartier)).all()
    table = quartier_display_names()
    assert len(quartiers) == 80
    assert {q.source_ref: q.display_name for q in quartiers} == {
        ref: shown for ref, (_raw, shown) in table.items()
    }
    epinettes = db.session.scalar(select(Quartier).where(Quartier.slug == "epinettes"))
    # The open-data name stays what re-imports compare; the slug is unchanged.
    assert (epinettes.name, epinettes.display_name) == ("Epinettes", "Épinettes")


def test_an_existing_database_gets_the_names_on_the_next_import(app, make_member):
    import_quartiers(SHIPPED)
    db.session.execute(text("UPDATE quartiers SET display_name = name"))  # as migrated bare
    db.session.commit()
    db.session.expire_all()
    member = make_member("Agathe", at=(48.89384, 2.32595))  # Square des Épinettes
    assert member.quartier.display_name == "Epinettes"

    import_quartiers(SHIPPED)
    reassign_quartiers()
    db.session.commit()

    assert member.quartier.display_name == "Épinettes"


def _city(tmp_path, features: list[tuple[str, object]]):
    square = [[[2.30, 48.88], [2.31, 48.88], [2.31, 48.89], [2.30, 48.89], [2.30, 48.88]]]
    data = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"l_qu": name, "c_quinsee": ref, "c_ar": 1},
                "geometry": {"type": "Polygon", "coordinates": square},
            }
            for name, ref in features
        ],
    }
    path = tmp_path / "ville.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_other_cities_and_renamed_quartiers_keep_the_name_they_come_with(app, tmp_path):
    path = _city(
        tmp_path,
        [
            ("Croix-Rousse", 6938101),  # Lyon: not in the table
            ("Epinettes-Nouvelles", 7511704),  # renamed in newer data: no stale correction
        ],
    )

    import_quartiers(path)
    db.session.commit()

    shown = {q.name: q.display_name for q in db.session.scalars(select(Quartier))}
    assert shown == {"Croix-Rousse": "Croix-Rousse", "Epinettes-Nouvelles": "Epinettes-Nouvelles"}


def test_pages_and_api_show_the_display_name(app, client, auth, api, make_member, make_quartier):
    make_quartier("epinettes", around=BATIGNOLLES, name="Epinettes", display_name="Épinettes")
    me = make_member("Moi", at=BATIGNOLLES, email="moi@example.org")
    make_member("Voisine", at=BATIGNOLLES)
    auth.login("moi@example.org")

    for path in ("/neighbours", "/account", f"/profile/{me.id}", "/board"):
        page = client.get(path).get_data(as_text=True)
        assert "Épinettes" in page and "Epinettes" not in page, path
    assert "Tout mon quartier (Épinettes)" in client.get("/news/new").get_data(as_text=True)


# --- the migration ---------------------------------------------------------------------

WKT = "MULTIPOLYGON(((2.30 48.88, 2.31 48.88, 2.31 48.89, 2.30 48.89, 2.30 48.88)))"


def test_the_migration_fills_the_display_names_from_the_table(migrated_app):  # noqa: F811
    _migrate(migrating.upgrade, "5b2e9d7c4a13")
    geometry = "ST_GeomFromText(:wkt, 4326)"
    if db.engine.dialect.name == "sqlite":
        geometry = "GeomFromText(:wkt, 4326)"
    with db.engine.begin() as conn:
        for slug, name, ref in (
            ("epinettes", "Epinettes", "c_quinsee 7511704"),
            ("odeon", "Odeon", "c_quinsee 7510602"),
            ("croix-rousse", "Croix-Rousse", "c_quinsee 6938101"),
            ("stale", "Renamed", "c_quinsee 7510703"),  # not the name the table corrects
            ("no-ref", "Sans référence", None),
        ):
            conn.execute(
                text(
                    "INSERT INTO quartiers (slug, name, source_ref, geom, created_at, "
                    f"updated_at) VALUES (:slug, :name, :ref, {geometry}, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"slug": slug, "name": name, "ref": ref, "wkt": WKT},
            )

    _migrate(migrating.upgrade, "head")

    with db.engine.connect() as conn:
        shown = dict(conn.execute(text("SELECT slug, display_name FROM quartiers")).all())
    assert shown == {
        "epinettes": "Épinettes",
        "odeon": "Odéon",
        "croix-rousse": "Croix-Rousse",
        "stale": "Renamed",
        "no-ref": "Sans référence",
    }
    # A quartier added later without a display name shows its name.
    db.session.add(Quartier(slug="neuf", name="Neuf", geom=geo.geometry_from_wkt(WKT)))
    db.session.commit()
    assert db.session.scalar(select(Quartier.display_name).where(Quartier.slug == "neuf")) == "Neuf"

    _migrate(migrating.downgrade, "5b2e9d7c4a13")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM quartiers")).scalar_one() == 6
