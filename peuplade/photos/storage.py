"""Where the photos' bytes live: in their ``photos`` row by default, or in a directory.

- ``PHOTO_STORAGE=database`` (the default): ``data`` and ``thumb_data`` hold the bytes
  (``bytea`` on PostgreSQL, BLOB on SQLite). App servers stay stateless: any of them
  serves any photo, and ``flask backup`` / ``pg_dump`` carry the photos with the rest.
- ``PHOTO_STORAGE=/some/directory``: for large sites, the files live there, named by the
  photo's random token (``Ab/AbCd….jpg`` and ``Ab/AbCd….thumb.jpg``); every app server
  must see the same directory (a shared volume), and backups must copy it
  (docs/operations.md). The columns stay NULL.

A file is written before its row is committed (a rollback leaves an orphan file, never a
row without its file) and removed once the transaction deleting its row has committed
(``photos.services``); ``orphans`` finds files no row names (``flask photos prune``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from flask import current_app

from peuplade.models import Photo

DATABASE = "database"
VARIANTS = ("full", "thumb")


def directory() -> Path | None:
    """The directory photos are stored in, or None when they are in the database."""
    setting = current_app.config.get("PHOTO_STORAGE") or DATABASE
    return None if setting == DATABASE else Path(setting)


def _path(root: Path, token: str, variant: str) -> Path:
    name = token + (".jpg" if variant == "full" else ".thumb.jpg")
    return root / token[:2] / name


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside then renamed: a reader never sees half a file.
    fd, partial = tempfile.mkstemp(dir=path.parent, suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def store(photo: Photo, full: bytes, thumb: bytes) -> None:
    """Keep the two variants of ``photo`` (its token already set)."""
    root = directory()
    if root is None:
        photo.data, photo.thumb_data = full, thumb
        return
    _write(_path(root, photo.token, "full"), full)
    _write(_path(root, photo.token, "thumb"), thumb)
    photo.data = photo.thumb_data = None


def read(photo: Photo, variant: str) -> bytes | None:
    """The bytes of ``variant`` ("full" or "thumb"), or None when they are missing."""
    inline = photo.data if variant == "full" else photo.thumb_data
    if inline is not None:
        return inline
    root = directory()
    if root is None:
        return None
    try:
        return _path(root, photo.token, variant).read_bytes()
    except FileNotFoundError:
        return None


def discard(tokens: Iterable[str]) -> None:
    """Remove the files of these photos (their rows are gone)."""
    root = directory()
    if root is None:
        return
    for token in tokens:
        for variant in VARIANTS:
            _path(root, token, variant).unlink(missing_ok=True)


def stored_tokens() -> Iterator[tuple[str, Path]]:
    """(token, path) of every file in the directory (none when photos are in the
    database)."""
    root = directory()
    if root is None or not root.exists():
        return
    for path in root.glob("*/*.jpg"):
        yield path.name.split(".", 1)[0], path
