"""`flask backup` on PostgreSQL: pg_dump in its custom format, of the app's own database,
with the connection options of the URL (tests/test_backup.py covers the embedded one)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

pytestmark = pytest.mark.postgis_only


def test_backup_dumps_the_database_with_pg_dump(app, runner, make_member, tmp_path):
    make_member("Sauvegardée")
    target = tmp_path / "peuplade.dump"

    result = runner.invoke(args=["backup", str(target)])

    assert result.exit_code == 0, result.output
    assert "pg_dump -Fc" in result.output
    listing = subprocess.run(
        [shutil.which("pg_restore"), "--list", str(target)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for table in ("members", "posts", "exchanges"):
        assert f"TABLE DATA public {table} " in listing, listing
