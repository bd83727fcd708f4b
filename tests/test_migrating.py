"""peuplade/migrating.py: the scripts' revisions read without Alembic (what /readyz and
the backups compare with), ``flask db`` loading Flask-Migrate only on the command line,
and a built app that never imports Alembic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from peuplade import create_app, migrating
from peuplade.config import ROOT
from peuplade.extensions import db
from tests.conftest import _test_config


def _alembic(directory: Path) -> dict[str, bool]:
    """Alembic's own reading: every revision, True for the heads."""
    scripts = ScriptDirectory(str(directory))
    heads = set(scripts.get_heads())
    return {r.revision: r.revision in heads for r in scripts.walk_revisions()}


def _scripts(tmp_path: Path, *revisions: tuple[str, str]) -> Path:
    """A migrations directory holding one script per ``(revision, down_revision
    source)``."""
    versions = tmp_path / "versions"
    versions.mkdir()
    for revision, down in revisions:
        (versions / f"{revision}_step.py").write_text(
            textwrap.dedent(f'''\
                """A step."""
                from alembic import op

                revision: str = {revision!r}
                down_revision = {down}
                branch_labels = None
                depends_on = None


                def upgrade():
                    pass


                def downgrade():
                    pass
                ''')
        )
    return tmp_path


def test_the_projects_scripts_read_as_alembic_reads_them():
    ours = migrating.revisions()

    assert ours == _alembic(ROOT / "migrations")
    assert len(ours) > 10
    assert migrating.heads() == {r for r, head in ours.items() if head}
    assert len(migrating.heads()) == 1  # one line of migrations


@pytest.mark.parametrize(
    "graph, heads",
    [
        ([("a1", "None"), ("b2", "'a1'"), ("c3", "'b2'")], {"c3"}),
        # Two branches from one parent: two heads.
        ([("a1", "None"), ("b2", "'a1'"), ("c3", "'a1'")], {"b2", "c3"}),
        # Merged again (a tuple, as `flask db merge` writes it): one head.
        ([("a1", "None"), ("b2", "'a1'"), ("c3", "'a1'"), ("d4", "('b2', 'c3')")], {"d4"}),
    ],
    ids=["line", "branches", "merge"],
)
def test_branches_and_merges_give_alembics_heads(tmp_path, graph, heads):
    directory = _scripts(tmp_path, *graph)

    ours = migrating.revisions(directory)

    assert {r for r, head in ours.items() if head} == heads
    assert ours == _alembic(directory)


@pytest.mark.parametrize(
    "source, message",
    [
        ("down_revision = 'a1'\n", "no revision"),
        ("revision = 'b2'\ndown_revision = make_it()\n", "down_revision is not a literal"),
        ("revision = 'b2'\ndown_revision = 3\n", "down_revision is 3"),
    ],
)
def test_a_script_without_a_readable_revision_is_named(tmp_path, source, message):
    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "b2_broken.py").write_text(source)

    with pytest.raises(migrating.ScriptError, match=f"b2_broken.py: {message}"):
        migrating.revisions(tmp_path)


def test_flask_db_runs_flask_migrates_commands(tmp_path):
    app = create_app(_test_config(f"sqlite:///{tmp_path / 'migrated.sqlite'}"))
    assert "migrate" not in app.extensions  # nothing loaded by building the app
    runner = app.test_cli_runner()

    listed = runner.invoke(args=["db", "--help"])
    upgraded = runner.invoke(args=["db", "-d", str(ROOT / "migrations"), "upgrade"])

    assert listed.exit_code == 0, listed.output
    assert "upgrade" in listed.output and "downgrade" in listed.output
    assert upgraded.exit_code == 0, upgraded.output
    with app.app_context(), db.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        assert set(version) == migrating.heads()
        assert "member_skills" in inspect(conn).get_table_names()
    assert "migrate" in app.extensions


def test_a_built_app_answering_readyz_never_loads_alembic(tmp_path):
    """A web worker's memory: Flask-Migrate, Alembic and Mako stay out of it (~5 MiB,
    ~11 with Pygments installed, docs/SCALING.md), /readyz included."""
    program = textwrap.dedent("""\
        import json, sys
        from sqlalchemy import text
        from peuplade import create_app, migrating
        from peuplade.extensions import db
        app = create_app()
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
            (head,) = migrating.heads()
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
        answer = app.test_client().get("/readyz")
        loaded = {m.split(".")[0] for m in sys.modules} & {"alembic", "flask_migrate", "mako"}
        body = answer.get_json()
        print(json.dumps({"status": answer.status_code, "body": body, "loaded": sorted(loaded)}))
        """)
    env = {
        **os.environ,
        "PEUPLADE_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
        "SECRET_KEY": "s" * 48,
    }
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # Readiness compared the database's revision with the scripts' head.
    assert result["body"] == {"database": "ok", "migrations": "head"}
    assert result["status"] == 200
    assert result["loaded"] == []
