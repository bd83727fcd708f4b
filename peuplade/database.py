"""The two database backends: SQLite + SpatiaLite (embedded) and PostgreSQL + PostGIS."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import make_url

SPATIALITE_MISSING = (
    "SpatiaLite is not installed: run `sudo apt-get install libsqlite3-mod-spatialite` "
    "(Debian/Ubuntu) and start again."
)
SQLEAN_MISSING = "The sqlean.py driver is missing: run `pip install -e .` in the project folder."


# Set on every PostgreSQL connection of the app (docs/SCALING.md). The neighbourhood
# lists are many small index probes whose estimated cost is high: JIT compilation would
# add ~45 ms to a 5 ms query, and a parallel plan chosen from a bad row estimate is
# slower than a serial one. Behind PgBouncer, set them on the app's role instead
# (ALTER ROLE ... SET jit = off; ...).
POSTGRES_OPTIONS = "-c jit=off -c max_parallel_workers_per_gather=0"


class SpatialiteMissing(SystemExit):
    """Raised at start-up: one sentence, no traceback."""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _load_spatialite(dbapi_conn) -> None:
    try:
        dbapi_conn.enable_load_extension(True)
        dbapi_conn.load_extension("mod_spatialite")
        dbapi_conn.enable_load_extension(False)
    except Exception:  # noqa: BLE001 - any failure here means the module cannot be loaded
        raise SpatialiteMissing(SPATIALITE_MISSING) from None


def _on_sqlite_connect(dbapi_conn, _record) -> None:
    from geoalchemy2.admin.dialects.sqlite import init_spatialite

    _load_spatialite(dbapi_conn)
    dbapi_conn.execute("PRAGMA foreign_keys = ON")
    # SQLite's lower() folds ASCII only: search compares with Python's folding instead.
    from peuplade.search import fold

    dbapi_conn.create_function("peuplade_fold", 1, fold, deterministic=True)
    dbapi_conn.execute("PRAGMA busy_timeout = 15000")
    dbapi_conn.execute("PRAGMA journal_mode = WAL")
    # Only the WGS84 systems: creating metadata for every EPSG code takes seconds.
    init_spatialite(dbapi_conn, transaction=True, init_mode="WGS84")


def engine_options(url: str, base: dict | None = None) -> dict:
    """SQLAlchemy engine options for ``url`` (sqlean.py driver for SQLite)."""
    options = dict(base or {})
    # SQL errors must not log their parameters: they hold homes, emails and hashes.
    options["hide_parameters"] = True
    if is_sqlite(url):
        try:
            import sqlean.dbapi2 as sqlean_dbapi
        except ImportError:
            raise SystemExit(SQLEAN_MISSING) from None
        options["module"] = sqlean_dbapi
        options.setdefault("connect_args", {}).setdefault("timeout", 15)
    else:
        options.setdefault("connect_args", {}).setdefault("options", POSTGRES_OPTIONS)
    return options


def init_app(app: Flask, db) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        url, app.config.get("SQLALCHEMY_ENGINE_OPTIONS")
    )
    db.init_app(app)
    if is_sqlite(url):
        with app.app_context():
            engine = db.engine
            event.listen(engine, "connect", _on_sqlite_connect)
            # Fail at start with one sentence if SpatiaLite cannot be loaded.
            with engine.connect():
                pass


def _fresh_metadata():
    """A copy of the models' metadata. GeoAlchemy2's create/drop hooks edit the Table
    objects they run on (spatial indexes are removed and re-added per dialect), so
    using a copy keeps the models intact when one process talks to both backends."""
    from sqlalchemy import MetaData

    from peuplade.models import Base

    copy = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


def create_schema(engine) -> None:
    """Create every table (tests, benchmarks); deployments use ``flask db upgrade``."""
    from sqlalchemy import text

    from peuplade.models.loan import OVERLAP_DDL
    from peuplade.search import POSTGRES_DDL

    _fresh_metadata().create_all(engine)
    extra = (POSTGRES_DDL if engine.dialect.name == "postgresql" else []) + OVERLAP_DDL.get(
        engine.dialect.name, []
    )
    with engine.begin() as conn:
        for statement in extra:
            conn.execute(text(statement))


def drop_schema(engine) -> None:
    _fresh_metadata().drop_all(engine)


def commit(conflict_message=None) -> None:
    """The request's one commit. A unique constraint that fires here (two identical
    requests racing) is a Conflict for the member, not a 500."""
    from flask_babel import lazy_gettext as _l
    from sqlalchemy.exc import IntegrityError

    from peuplade.errors import Conflict
    from peuplade.extensions import db

    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(
            conflict_message or _l("Cela vient d'être fait : rechargez la page.")
        ) from None
