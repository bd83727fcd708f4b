"""The schema's migrations (migrations/): ``flask db`` and the scripts' revisions, with
Alembic loaded only where migrations run.

A web worker never migrates, yet it asks which revision is the head on every
``/readyz`` (peuplade/health.py). Importing Flask-Migrate, or Alembic's
``ScriptDirectory``, brings Alembic and Mako into each worker: ~5 MiB of its memory,
~11 MiB where Pygments is installed (Mako then loads it), measured in docs/SCALING.md.
So:

- ``revisions`` reads the revision graph from the scripts' own module-level
  ``revision`` and ``down_revision`` assignments, as Alembic reads them;
  tests/test_migrating.py checks it gives Alembic's heads and revisions;
- ``init_app`` adds a ``flask db`` group that loads Flask-Migrate when the command line
  reaches it; ``upgrade`` and ``downgrade`` migrate the current app's database from
  code (tests, benchmarks), loading it too.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import click
from flask import Flask, current_app

from peuplade.config import ROOT
from peuplade.extensions import db

DIRECTORY = ROOT / "migrations"


class ScriptError(Exception):
    """A script of migrations/versions/ whose revision cannot be read."""


def revisions(directory: Path = DIRECTORY) -> dict[str, bool]:
    """Every revision of the migration scripts, True for the heads (those no other
    revision comes after), read from the scripts without running them."""
    return dict(_revisions(str(directory)))


def heads(directory: Path = DIRECTORY) -> set[str]:
    return {revision for revision, head in _revisions(str(directory)) if head}


@functools.cache
def _revisions(directory: str) -> tuple[tuple[str, bool], ...]:
    """Read once per process: the scripts change only with a new release, which
    restarts it."""
    parents: dict[str, tuple[str, ...]] = {}
    for path in sorted(Path(directory, "versions").glob("*.py")):
        revision, down = _read(path)
        if revision in parents:
            raise ScriptError(f"{path.name}: revision {revision!r} is in two scripts")
        parents[revision] = down
    followed = {parent for down in parents.values() for parent in down}
    return tuple((revision, revision not in followed) for revision in parents)


def _read(path: Path) -> tuple[str, tuple[str, ...]]:
    """``(revision, down_revisions)`` of one script, from its module-level assignments
    (``revision = "..."``, or annotated: ``revision: str = "..."``)."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                raise ScriptError(f"{path.name}: {target.id} is not a literal") from None
    revision, down = found.get("revision"), found.get("down_revision")
    if not isinstance(revision, str) or not revision:
        raise ScriptError(f"{path.name}: no revision")
    if down is None:
        return revision, ()
    if isinstance(down, str):
        return revision, (down,)
    if isinstance(down, tuple | list) and all(isinstance(d, str) for d in down):
        return revision, tuple(down)
    raise ScriptError(f"{path.name}: down_revision is {down!r}")


# -- flask db ---------------------------------------------------------------------------


def upgrade(revision: str = "head") -> None:
    """``flask db upgrade`` on the current app's database."""
    _flask_migrate(current_app).upgrade(revision=revision)


def downgrade(revision: str) -> None:
    """``flask db downgrade`` on the current app's database."""
    _flask_migrate(current_app).downgrade(revision=revision)


def _flask_migrate(app: Flask):
    """Flask-Migrate, bound to ``app`` once (its ``db`` group, ``flask_migrate.cli.db``,
    then replaces the lazy one)."""
    import flask_migrate  # here only: Alembic and Mako, never in a web worker

    if "migrate" not in app.extensions:
        flask_migrate.Migrate(app, db, directory=str(DIRECTORY), compare_type=True)
    return flask_migrate


def init_app(app: Flask) -> None:
    app.cli.add_command(_LazyMigrateGroup(app))


class _LazyMigrateGroup(click.Group):
    """``flask db``: Flask-Migrate's group (its options, its commands), loaded when the
    command line reaches it."""

    def __init__(self, app: Flask) -> None:
        super().__init__(name="db", help="Perform database migrations.")
        self._app = app

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        group = _flask_migrate(self._app).cli.db  # Migrate() has imported its cli
        return group.make_context(info_name, args, parent=parent, **extra)
