"""``flask photos prune``: housekeeping of the photos (photos/storage.py).

Removes the photos kept a day for a form never sent (as ``flask purge-old-data`` does),
then, with the filesystem backend (``PHOTO_STORAGE=/some/dir``), the files no row names:
left by a transaction rolled back after its file was written, or by a restore of an
older database. Run it from cron, e.g. once a week; it is safe while the site runs (a
file younger than an hour is never removed: its row may not be committed yet).
"""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup
from sqlalchemy import select

from peuplade.extensions import db
from peuplade.models import Photo, utcnow
from peuplade.photos import services, storage

# A file this recent may belong to an upload whose row is not committed yet.
ORPHAN_GRACE_S = 3600

photos_cli = AppGroup("photos", help="Entretien des photos (voir docs/operations.md).")


def prune_files(now: float | None = None) -> int:
    """Remove the files of the filesystem backend that no photo row names (older than
    ``ORPHAN_GRACE_S``): how many files. None with the database backend."""
    if storage.directory() is None:
        return 0
    known = set(db.session.scalars(select(Photo.token)))
    limit = (now if now is not None else time.time()) - ORPHAN_GRACE_S
    removed = 0
    for token, path in storage.stored_tokens():
        if token in known:
            continue
        try:
            if path.stat().st_mtime > limit:
                continue
            path.unlink()
        except FileNotFoundError:
            continue
        removed += 1
    return removed


@photos_cli.command("prune")
def prune_command() -> None:
    """Delete the photos kept a day for a form never sent, and the files of the photo
    directory that no photo names any more."""
    staged = services.purge_staged(utcnow())
    db.session.commit()  # the staged photos' files go after this commit
    files = prune_files()
    if storage.directory() is None:
        where = "les photos sont dans la base de données : aucun fichier à examiner"
    else:
        where = f"{files} fichier(s) sans photo supprimé(s) de {storage.directory()}"
    click.echo(f"Photos gardées pour un formulaire abandonné effacées : {staged} ; {where}.")


COMMANDS = (photos_cli,)
