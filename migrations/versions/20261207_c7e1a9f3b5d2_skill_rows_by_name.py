"""Skills and tags by name, cell by cell: the public position and sort name on each row.

"Neighbours with a skill" lists the members of a skill in the nearest distance band
first, by name, 20 to a page. It read every member of the skill in the cells around the
viewer (at 1M members, ~4,000 for a common skill in a dense street), each row's member
checked for its distance, before keeping the first 21 names. Each ``member_skills`` and
``member_tags`` row now also carries its member's PUBLIC position (never the home) and
sort name, and a B-tree per cell size on (cell, skill, sort_name, member_id), holding
the position, gives each cell's members of the skill by name: a page reads about a
page's worth per cell, its distances checked on the index entries (docs/SCALING.md).
Built CONCURRENTLY on PostgreSQL, so that sign-ups and profile changes go on.

Revision ID: c7e1a9f3b5d2
Revises: f1c8b3d5a7e2
Create Date: 2026-12-07 05:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c7e1a9f3b5d2"
down_revision = "f1c8b3d5a7e2"
branch_labels = None
depends_on = None

TABLES = {"member_skills": "skill", "member_tags": "tag"}
CELLS = ("cell_fine", "cell_coarse")
COLUMNS = {
    "public_lat": (sa.Float(), sa.text("0")),
    "public_lon": (sa.Float(), sa.text("0")),
    "sort_name": (sa.String(60), sa.text("''")),
}


def _indexes():
    for table, column in TABLES.items():
        for cell in CELLS:
            yield (
                table,
                f"ix_{table}_{cell}_{column}_name",
                [cell, column, "sort_name", "member_id"],
            )


def upgrade():
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for table in TABLES:
        for column, (kind, default) in COLUMNS.items():
            # NOT NULL from the start (SQLite cannot add it later without copying the
            # table); the default only fills existing rows until the backfill below.
            op.add_column(
                table,
                sa.Column(column, kind, nullable=False, server_default=default),
                # Run again after a failed CONCURRENTLY build below (docs/operations.md).
                if_not_exists=postgres or None,
            )
        # The member's public position (a point: Y is the latitude) and sort name.
        op.execute(
            f"UPDATE {table} SET public_lat = ST_Y(m.public_position),"
            " public_lon = ST_X(m.public_position), sort_name = m.sort_name"
            f" FROM members AS m WHERE m.id = {table}.member_id"
        )
    if bind.dialect.name == "postgresql":
        for table in TABLES:
            for column in ("public_lat", "public_lon"):
                op.alter_column(table, column, server_default=None)
        include = ["public_lat", "public_lon"]
        # Built without blocking writes (docs/operations.md, "Upgrading a live site");
        # CONCURRENTLY cannot run inside the migration's transaction.
        with op.get_context().autocommit_block():
            for table, name, _columns in _indexes():
                # A build that failed (lock timeout) left an INVALID index behind.
                op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
            op.create_index(
                "ix_member_skills_cell_fine_skill_name",
                "member_skills",
                ["cell_fine", "skill", "sort_name", "member_id"],
                postgresql_include=include,
                postgresql_concurrently=True,
            )
            op.create_index(
                "ix_member_skills_cell_coarse_skill_name",
                "member_skills",
                ["cell_coarse", "skill", "sort_name", "member_id"],
                postgresql_include=include,
                postgresql_concurrently=True,
            )
            op.create_index(
                "ix_member_tags_cell_fine_tag_name",
                "member_tags",
                ["cell_fine", "tag", "sort_name", "member_id"],
                postgresql_include=include,
                postgresql_concurrently=True,
            )
            op.create_index(
                "ix_member_tags_cell_coarse_tag_name",
                "member_tags",
                ["cell_coarse", "tag", "sort_name", "member_id"],
                postgresql_include=include,
                postgresql_concurrently=True,
            )
            for table in TABLES:
                op.execute(f"ANALYZE {table}")
    else:
        op.create_index(
            "ix_member_skills_cell_fine_skill_name",
            "member_skills",
            ["cell_fine", "skill", "sort_name", "member_id"],
        )
        op.create_index(
            "ix_member_skills_cell_coarse_skill_name",
            "member_skills",
            ["cell_coarse", "skill", "sort_name", "member_id"],
        )
        op.create_index(
            "ix_member_tags_cell_fine_tag_name",
            "member_tags",
            ["cell_fine", "tag", "sort_name", "member_id"],
        )
        op.create_index(
            "ix_member_tags_cell_coarse_tag_name",
            "member_tags",
            ["cell_coarse", "tag", "sort_name", "member_id"],
        )


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for table, name, _columns in _indexes():
                op.drop_index(name, table_name=table, postgresql_concurrently=True)
    else:
        for table, name, _columns in _indexes():
            op.drop_index(name, table_name=table)
    for table in TABLES:
        for column in COLUMNS:
            if not postgres:
                # Dropping a column copies nothing on SQLite >= 3.35 (no batch mode).
                op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
            else:
                op.drop_column(table, column)
