"""``flask backup PATH`` and ``flask restore PATH`` (docs/operations.md, "Backups and
restore").

Embedded database: SQLite's online backup API copies a consistent snapshot while the
app keeps running and writing (WAL: readers and the copy never block writers for
long). PostgreSQL: ``pg_dump -Fc``, the one tool that knows every PostGIS object;
``pg_restore`` restores it (documented, not wrapped).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import click
from flask.cli import with_appcontext
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from peuplade import database, migrating
from peuplade.commands import CommandFailed
from peuplade.extensions import db

SQLITE_HEADER = b"SQLite format 3\x00"


def _sqlite():
    """The SQLite driver that loads SpatiaLite (sqlean.py); a missing one is said in one
    sentence, as when the app starts (database.SQLEAN_MISSING)."""
    if database.sqlean_dbapi is None:
        raise CommandFailed(database.SQLEAN_MISSING)
    return database.sqlean_dbapi


def _sqlite_path(url) -> Path:
    return Path(make_url(url).database or "").resolve()


def backup_sqlite(source_connection, target: Path) -> None:
    """Copy the open database ``source_connection`` (a DB-API sqlite connection) to
    ``target`` through the online backup API: one consistent snapshot, written to a
    temporary file first so that ``target`` is never half a database."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    copy = _sqlite().connect(str(partial))
    try:
        source_connection.backup(copy)  # every page in one step: one snapshot
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise CommandFailed("la copie est abîmée ; la sauvegarde n'a pas été écrite.")
    finally:
        copy.close()
    partial.replace(target)


def peuplade_revision(path: Path) -> str:
    """The migration revision of the Peuplade database in ``path``; CommandFailed with
    the reason when it is not a Peuplade database at a known migration."""
    if not path.is_file():
        raise CommandFailed(f"fichier introuvable : {path}")
    with path.open("rb") as f:
        if f.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise CommandFailed(f"{path} n'est pas une base SQLite.")
    conn = _sqlite().connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"alembic_version", "members", "posts"} <= tables:
            raise CommandFailed(f"{path} n'est pas une base Peuplade (tables manquantes).")
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    finally:
        conn.close()
    if len(rows) != 1 or rows[0][0] not in migrating.revisions():
        found = rows[0][0] if rows else "aucune"
        raise CommandFailed(
            f"{path} est à une migration inconnue de cette version de Peuplade ({found})."
        )
    return rows[0][0]


def _holds_data(path: Path) -> bool:
    """Whether ``path`` is a database with tables of ours (the app creates an empty,
    SpatiaLite-only file as soon as it starts: that one holds nothing to lose)."""
    if not path.is_file() or path.stat().st_size == 0:
        return False
    sqlite = _sqlite()
    conn = sqlite.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite.DatabaseError:
        return True  # not even a database: still not ours to overwrite silently
    finally:
        conn.close()
    return bool(names & {"alembic_version", "members"})


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Sauvegarder la base pendant que le site tourne (SQLite : API de sauvegarde en
    ligne ; PostgreSQL : pg_dump -Fc)."""
    if path.exists():
        raise CommandFailed(f"{path} existe déjà : choisissez un autre nom de fichier.")
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:
            backup_sqlite(conn.connection.dbapi_connection, path)
        click.echo(f"Base sauvegardée dans {path} (migration {peuplade_revision(path)}).")
        return
    _pg_dump(db.engine.url, path)


def _pg_dump(url, path: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    command = f"pg_dump -Fc --no-owner -f {path} <base>"
    if pg_dump is None:
        raise CommandFailed(
            f"pg_dump est introuvable (paquet postgresql-client) ; lancez `{command}` "
            "sur une machine qui l'a (docs/operations.md)."
        )
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password  # never on the command line, where ps shows it
    # One libpq connection string: the URL's own options (?sslmode=require,
    # ?host=/run/postgresql...) reach pg_dump as they reach the app.
    params = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    params = {key: str(value) for key, value in params.items() if value}
    for key, value in url.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    args = [pg_dump, "-Fc", "--no-owner", "-f", str(path), "-d", make_conninfo(**params)]
    # Arguments from the app's own configuration, no shell.
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        path.unlink(missing_ok=True)
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        raise CommandFailed(f"pg_dump a échoué : {last}")
    click.echo(f"Base sauvegardée dans {path} (pg_dump -Fc ; restaurer avec pg_restore).")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Remplacer la base actuelle sans demander.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Remplacer la base embarquée par une sauvegarde de `flask backup` (arrêtez le
    site d'abord)."""
    if db.engine.dialect.name != "sqlite":
        raise CommandFailed(
            "la restauration d'une base PostgreSQL se fait avec pg_restore "
            "(docs/operations.md, « Backups and restore »)."
        )
    revision = peuplade_revision(path)
    target = _sqlite_path(db.engine.url)
    if target == path.resolve():
        raise CommandFailed("la sauvegarde et la base du site sont le même fichier.")
    if _holds_data(target) and not yes:
        raise CommandFailed(
            f"{target} existe : ajoutez --yes pour la remplacer par {path} "
            "(sauvegardez-la d'abord si vous en avez besoin)."
        )
    db.session.remove()
    db.engine.dispose()
    source = _sqlite().connect(f"file:{path}?mode=ro", uri=True)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        copy = _sqlite().connect(str(target), timeout=15)
        try:
            source.backup(copy)  # page by page into the live file, under SQLite's locks
        finally:
            copy.close()
    finally:
        source.close()
    db.engine.dispose()
    heads = migrating.revisions()
    click.echo(f"Base restaurée depuis {path} (migration {revision}).")
    if not heads[revision]:
        click.echo("Elle date d'une version antérieure : lancez `flask db upgrade`.")


COMMANDS = (backup_command, restore_command)
