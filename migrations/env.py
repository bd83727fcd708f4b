"""Alembic environment for Flask-Migrate, on SQLite + SpatiaLite and PostgreSQL + PostGIS."""

import importlib.util
import logging
import os
import re
from logging.config import fileConfig
from pathlib import Path

from alembic import context
from flask import current_app
from geoalchemy2 import alembic_helpers

import peuplade.models  # noqa: F401 - every table must be in the metadata for autogenerate
from peuplade.models import UTCDateTime

config = context.config

# Tests run migrations in-process: leave pytest's logging set-up alone.
if config.config_file_name is not None and not current_app.testing:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db

_spec = importlib.util.spec_from_file_location(
    "peuplade_schema_filter", Path(__file__).with_name("schema_filter.py")
)
schema_filter = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(schema_filter)


def _skip_empty_revision(context, revision, directives):
    # `flask db migrate` with no model change writes no empty revision file.
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def render_item(type_, obj, autogen_context):
    # UTCDateTime only converts values in Python; the stored type is a plain timestamp.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return alembic_helpers.render_item(type_, obj, autogen_context)


def configure_args(dialect_name: str) -> dict:
    """The context options shared by migrations and tests/test_migrations.py."""
    return {
        "target_metadata": target_db.metadata,
        # GeoAlchemy2: skip SpatiaLite/PostGIS system tables, create spatial indexes once.
        "include_object": schema_filter.include_object,
        "render_item": render_item,
        # SQLite cannot ALTER most things: rebuild tables in batches instead.
        "render_as_batch": dialect_name == "sqlite",
    }


# A migration waiting longer than this for a lock gives up (and can be run again) rather
# than queue every request behind its ACCESS EXCLUSIVE request (docs/operations.md).
LOCK_TIMEOUT_VARIABLE = "PEUPLADE_MIGRATION_LOCK_TIMEOUT"
LOCK_TIMEOUT_DEFAULT = "5s"


def lock_timeout() -> str:
    """The PostgreSQL ``lock_timeout`` for migrations: ``5s`` unless the variable says."""
    value = os.environ.get(LOCK_TIMEOUT_VARIABLE, LOCK_TIMEOUT_DEFAULT).strip()
    if not re.fullmatch(r"\d{1,7}(ms|s|min)?", value):
        raise SystemExit(
            f"{LOCK_TIMEOUT_VARIABLE}={value!r}: give a duration such as 5s, 500ms or 1min."
        )
    return value


def _set_lock_timeout(connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET lock_timeout = '{lock_timeout()}'")
        connection.commit()  # a session setting: it outlives this transaction


def run_migrations_offline() -> None:
    url = target_db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, literal_binds=True, **configure_args(target_db.engine.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault(
        "process_revision_directives", alembic_helpers.writer.chain(_skip_empty_revision)
    )
    with target_db.engine.connect() as connection:
        _set_lock_timeout(connection)
        context.configure(
            connection=connection, **{**conf_args, **configure_args(connection.dialect.name)}
        )
        try:
            with context.begin_transaction():
                context.run_migrations()
        except BaseException:
            connection.invalidate()  # not back to the pool with the migration's settings
            raise
        if connection.dialect.name == "postgresql":
            # The pooled connection goes back to the app's own settings.
            connection.exec_driver_sql("RESET lock_timeout")
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
