"""Photos and the GDPR (issue 22): my export names my photos and the download is a ZIP of
the JSON and the files; deleting my account deletes them (rows and files); the purge and
``flask photos prune`` clear what is kept no longer; ``flask backup`` carries them.

Both storage backends: the database (the default) and a directory (PHOTO_STORAGE)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import subprocess
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from PIL import Image
from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url

from peuplade import migrating
from peuplade.account import services as account
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.gdpr import services as gdpr
from peuplade.gdpr.schemas import ExportOut
from peuplade.loans import services as loans
from peuplade.location import LocationInput
from peuplade.models import Member, Photo, utcnow
from peuplade.photos import processing, storage
from peuplade.photos import services as photos
from tests.conftest import BATIGNOLLES, CLICHY, PASSWORD
from tests.photofiles import coordinate_needles, jpeg_bytes, jpeg_with_gps, png_bytes

HOME = BATIGNOLLES


def _member(name: str, email: str, at=BATIGNOLLES) -> Member:
    member = account.register_member(
        email=email,
        password=PASSWORD,
        display_name=name,
        location=LocationInput(lat=at[0], lon=at[1]),
        radius_m=1000,
    )
    db.session.commit()
    return member


@pytest.fixture(params=["database", "directory"])
def photo_app(request, make_app, tmp_path):
    """An app on either storage backend, in an app context."""
    config = {} if request.param == "database" else {"PHOTO_STORAGE": str(tmp_path / "photos")}
    app = make_app(**config)
    with app.app_context():
        yield app


def _files(app) -> list[Path]:
    root = app.config["PHOTO_STORAGE"]
    if root == "database":
        return []
    return sorted(p for p in Path(root).glob("*/*") if p.is_file())


def _login(client, email: str) -> None:
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302


class Mine:
    """A member with a photo on an object (sent with their home's GPS in it), one on an
    exchange, a face, and one kept for a form not sent yet; and a neighbour's photo."""

    def __init__(self):
        self.me = _member("Anne Photo", "anne.photo@example.org")
        self.other = _member("Zéphyrine Voisine", "zephyrine@example.org", at=CLICHY)
        self.item = loans.offer_item(
            self.me, loans.ItemInput(title="Perceuse", description="", category="bricolage")
        )
        self.exchange = exchanges.create_exchange(
            self.me,
            exchanges.ExchangeInput(
                kind="request", title="Chat perdu", body="Tigré.", category="autre"
            ),
        )
        self.item_photo = photos.add_photo(self.item, jpeg_with_gps(*HOME), "La perceuse", self.me)
        self.exchange_photo = photos.add_photo(self.exchange, png_bytes(), "", self.me)
        self.face = photos.set_avatar(self.me, jpeg_bytes((500, 500)), "Mon visage")
        self.staged = photos.stage_photo(
            self.me, processing.process(jpeg_bytes()), "Pas encore", "k" * 32
        )
        theirs = loans.offer_item(
            self.other, loans.ItemInput(title="Escabeau", description="", category="bricolage")
        )
        self.their_photo = photos.add_photo(theirs, jpeg_bytes(), "L'escabeau", self.other)
        db.session.commit()

    @property
    def my_photos(self) -> list[Photo]:
        return [self.item_photo, self.exchange_photo, self.face, self.staged]


def _export(app, member) -> dict:
    with app.test_request_context():
        return gdpr.export(member)


def test_my_export_names_every_photo_of_mine_and_none_of_theirs(photo_app):
    mine = Mine()
    data = _export(photo_app, mine.me)
    ExportOut.model_validate(data)  # the documented shape, exactly
    rows = {row["id"]: row for row in data["photos"]}
    assert set(rows) == {p.id for p in mine.my_photos}
    assert mine.their_photo.id not in rows
    item_row = rows[mine.item_photo.id]
    assert item_row["of"] == "post"
    assert item_row["post"] == {"type": "item", "id": mine.item.id}
    assert item_row["alt"] == "La perceuse"
    assert (item_row["width"], item_row["height"]) == (1200, 900)
    assert item_row["file"] == f"photos/{mine.item_photo.id}.jpg"
    assert item_row["created_at"]
    assert rows[mine.exchange_photo.id]["post"] == {"type": "exchange", "id": mine.exchange.id}
    assert rows[mine.exchange_photo.id]["alt"] == "Chat perdu"  # the title, by default
    assert rows[mine.face.id]["of"] == "avatar" and rows[mine.face.id]["post"] is None
    assert rows[mine.staged.id]["of"] == "staged" and rows[mine.staged.id]["post"] is None
    # The other member appears nowhere, not even through their photo.
    assert "Escabeau" not in json.dumps(data, ensure_ascii=False)


def test_the_download_is_a_zip_of_the_json_and_my_photos(photo_app):
    mine = Mine()
    client = photo_app.test_client()
    _login(client, mine.me.email)
    r = client.get("/account/export")
    assert r.status_code == 200
    assert r.mimetype == "application/zip"
    assert "attachment" in r.headers["Content-Disposition"]
    assert "peuplade-mes-donnees.zip" in r.headers["Content-Disposition"]
    assert "no-store" in r.headers["Cache-Control"]
    with zipfile.ZipFile(io.BytesIO(r.get_data())) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        assert names == {"peuplade-export.json"} | {f"photos/{p.id}.jpg" for p in mine.my_photos}
        data = json.loads(archive.read("peuplade-export.json"))
        files = {name: archive.read(name) for name in names if name.startswith("photos/")}
    ExportOut.model_validate(data)
    assert data["account"]["email"] == mine.me.email
    assert {row["file"] for row in data["photos"]} == set(files)
    for photo in mine.my_photos:
        content = files[f"photos/{photo.id}.jpg"]
        # The full variant as stored: cleaned, a JPEG, without the GPS it was sent with.
        assert hashlib.sha256(content).hexdigest() == photo.digest
        with Image.open(io.BytesIO(content)) as image:
            assert image.format == "JPEG"
            assert (image.width, image.height) == (photo.width, photo.height)
        assert not [n for n in coordinate_needles(*HOME) if n in content]


def test_a_lost_file_is_listed_without_a_file(make_app, tmp_path):
    app = make_app(PHOTO_STORAGE=str(tmp_path / "photos"))
    with app.app_context():
        mine = Mine()
        for path in _files(app):
            if path.name.startswith(mine.item_photo.token + "."):
                path.unlink()
        client = app.test_client()
        _login(client, mine.me.email)
        r = client.get("/account/export")
        assert r.status_code == 200
        with zipfile.ZipFile(io.BytesIO(r.get_data())) as archive:
            data = json.loads(archive.read("peuplade-export.json"))
            assert f"photos/{mine.item_photo.id}.jpg" not in archive.namelist()
        lost = next(row for row in data["photos"] if row["id"] == mine.item_photo.id)
        assert lost["file"] is None


def test_the_api_export_lists_my_photos_with_the_address_to_fetch_them(photo_app, api):
    mine = Mine()
    api.login(mine.me.email)
    r = api.get("/me/export")
    assert r.status_code == 200 and r.mimetype == "application/json"
    data = r.get_json()
    ExportOut.model_validate(data)
    assert {row["id"] for row in data["photos"]} == {p.id for p in mine.my_photos}
    for row in data["photos"]:
        photo = db.session.get(Photo, row["id"])
        fetched = api._headers()
        got = photo_app.test_client().get(row["url"], headers=fetched)
        assert got.status_code == 200, row
        assert hashlib.sha256(got.get_data()).hexdigest() == photo.digest


def test_deleting_my_account_deletes_my_photos_and_their_files(photo_app):
    mine = Mine()
    their_files = [p for p in _files(photo_app) if p.name.startswith(mine.their_photo.token)]
    if photo_app.config["PHOTO_STORAGE"] != "database":
        assert len(_files(photo_app)) == 2 * 5  # each photo and its thumbnail
        assert len(their_files) == 2
    my_ids = [p.id for p in mine.my_photos]
    their_id = mine.their_photo.id
    client = photo_app.test_client()
    _login(client, mine.me.email)
    r = client.post("/account/delete", data={"password": PASSWORD, "confirm": "y"})
    assert r.status_code == 302, r.status_code
    db.session.remove()
    left = db.session.scalars(select(Photo.id)).all()
    assert left == [their_id]
    assert not set(my_ids) & set(left)
    # The files went with the rows (after the commit); the neighbour's stay.
    assert _files(photo_app) == their_files


def test_the_daily_purge_deletes_staged_photos_of_abandoned_forms(photo_app, runner):
    mine = Mine()
    fresh = photos.stage_photo(mine.me, processing.process(jpeg_bytes()), "", "f" * 32)
    db.session.commit()
    old_token = mine.staged.token
    staged_id, fresh_id, item_photo_id = mine.staged.id, fresh.id, mine.item_photo.id
    db.session.execute(
        update(Photo)
        .where(Photo.id == mine.staged.id)
        .values(created_at=utcnow() - timedelta(days=1, minutes=5))
    )
    db.session.commit()
    result = photo_app.test_cli_runner().invoke(args=["purge-old-data"])
    assert result.exit_code == 0, result.output
    assert "staged_photos 1" in result.output
    db.session.remove()
    assert db.session.get(Photo, staged_id) is None
    assert db.session.get(Photo, fresh_id) is not None  # a form of today: kept
    assert db.session.get(Photo, item_photo_id) is not None
    assert not [p for p in _files(photo_app) if p.name.startswith(old_token)]
    again = photo_app.test_cli_runner().invoke(args=["purge-old-data"])
    assert "staged_photos 0" in again.output


def test_photos_prune_removes_files_no_photo_names(make_app, tmp_path):
    root = tmp_path / "photos"
    app = make_app(PHOTO_STORAGE=str(root))
    with app.app_context():
        mine = Mine()
        kept = _files(app)
        # Left by a rollback after the files were written, long ago, and one just now.
        orphan = root / "zz" / "zzOrphanToken000000000.jpg"
        orphan_thumb = root / "zz" / "zzOrphanToken000000000.thumb.jpg"
        recent = root / "yy" / "yyUploadInFlight0000000.jpg"
        for path in (orphan, orphan_thumb, recent):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(jpeg_bytes())
        day_ago = time.time() - 86_400
        for path in (orphan, orphan_thumb):
            os.utime(path, (day_ago, day_ago))
        db.session.execute(
            update(Photo)
            .where(Photo.id == mine.staged.id)
            .values(created_at=utcnow() - timedelta(days=2))
        )
        db.session.commit()
        staged_files = [p for p in kept if p.name.startswith(mine.staged.token)]

        result = app.test_cli_runner().invoke(args=["photos", "prune"])
        assert result.exit_code == 0, result.output
        assert "2 fichier(s) sans photo" in result.output
        assert "formulaire abandonné effacées : 1" in result.output
        assert not orphan.exists() and not orphan_thumb.exists()
        assert recent.exists()  # its row may not be committed yet
        assert _files(app) == sorted([*(p for p in kept if p not in staged_files), recent])
        db.session.remove()
        assert db.session.scalar(select(func.count()).select_from(Photo)) == 4
        # Every photo left is still served whole.
        for photo in db.session.scalars(select(Photo)):
            assert storage.read(photo, "full") is not None


def test_photos_prune_with_photos_in_the_database(make_app):
    app = make_app()
    with app.app_context():
        Mine()
        result = app.test_cli_runner().invoke(args=["photos", "prune"])
        assert result.exit_code == 0, result.output
        assert "dans la base de données" in result.output
        assert db.session.scalar(select(func.count()).select_from(Photo)) == 5


def test_the_privacy_page_lists_the_photos_table(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert 'id="table-photos"' in page
    assert "position GPS" in page
    assert "<dt><code>avatar_key</code></dt>" in page


@pytest.mark.spatialite_only
def test_a_backup_then_a_restore_keeps_the_photos(make_app, tmp_path):
    live = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'live.sqlite'}")
    with live.app_context():
        migrating.upgrade()
        mine = Mine()
        expected = {p.id: (p.digest, p.thumb_digest) for p in mine.my_photos}
        item_photo_id, me_id = mine.item_photo.id, mine.me.id
        result = live.test_cli_runner().invoke(args=["backup", str(tmp_path / "copy.sqlite")])
        assert result.exit_code == 0, result.output
        db.session.remove()
    fresh = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'restored.sqlite'}")
    with fresh.app_context():
        restored = fresh.test_cli_runner().invoke(args=["restore", str(tmp_path / "copy.sqlite")])
        assert restored.exit_code == 0, restored.output
        db.session.remove()
        for photo_id, (digest, thumb_digest) in expected.items():
            photo = db.session.get(Photo, photo_id)
            assert hashlib.sha256(storage.read(photo, "full")).hexdigest() == digest
            assert hashlib.sha256(storage.read(photo, "thumb")).hexdigest() == thumb_digest
        # And served from the restored site to who may see it.
        client = fresh.test_client()
        _login(client, "anne.photo@example.org")
        with fresh.test_request_context():
            from peuplade.photos.urls import avatar_url, photo_url

            urls = [photo_url(db.session.get(Photo, item_photo_id))]
            urls.append(avatar_url(db.session.get(Member, me_id)))
        for url in urls:
            assert client.get(url).status_code == 200, url


@pytest.mark.postgis_only
def test_a_pg_dump_backup_restores_the_photos(make_app, postgres_url, tmp_path):
    app = make_app()
    with app.app_context():
        mine = Mine()
        expected = {p.id: (p.digest, p.thumb_digest) for p in mine.my_photos}
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "p.dump")])
        assert result.exit_code == 0, result.output
    url = make_url(postgres_url)
    server = {"host": url.host, "port": url.port or 5432, "user": url.username}
    name = f"peuplade_restore_{secrets.token_hex(4)}"
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        restore = [shutil.which("pg_restore"), "--no-owner", "-h", server["host"]]
        restore += ["-p", str(server["port"]), "-U", server["user"], "-d", name]
        subprocess.run([*restore, str(tmp_path / "p.dump")], check=True, capture_output=True)
        with psycopg.connect(**server, dbname=name) as conn:
            rows = conn.execute("SELECT id, data, thumb_data FROM photos").fetchall()
        restored = {
            ident: (hashlib.sha256(full).hexdigest(), hashlib.sha256(thumb).hexdigest())
            for ident, full, thumb in rows
        }
        assert {k: restored[k] for k in expected} == expected
    finally:
        with psycopg.connect(**server, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
