"""Feed cells on skills and tags: the members of one skill near a point, cell by cell.

Every ``member_skills`` and ``member_tags`` row keeps the keys of the ~500 m and ~2 km
cells (``peuplade.geo.feed_cell``) holding its member's PUBLIC position (never the
home) and how far from it the home can be (``shown_within_m``: which level of the
privacy grid the position is the centre of), and a B-tree on (cell, skill,
shown_within_m, member_id) per size answers "who knows this,
around here" without reading every member of the circle (docs/SCALING.md). They
replace the indexes on the skill alone, which nothing reads any more (the cell comes
first: a query on one size's cells must not read the other size's index by skill).

Revision ID: b3f8d2a6c4e9
Revises: d8b4e1f7a2c5
Create Date: 2026-12-06 15:30:00

"""

import sqlalchemy as sa
from alembic import op

from peuplade import geo
from peuplade.models.member import shown_within_m  # a pure function of a position

revision = "b3f8d2a6c4e9"
down_revision = "d8b4e1f7a2c5"
branch_labels = None
depends_on = None

TABLES = {"member_skills": "skill", "member_tags": "tag"}
LEVELS = {"cell_fine": "fine", "cell_coarse": "coarse"}
COLUMNS = (*LEVELS, "shown_within_m")
BATCH = 5000


def _index(table: str, column: str) -> str:
    return f"ix_{table}_{column}_{TABLES[table]}"


def upgrade():
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for table in TABLES:
        for column in COLUMNS:
            kind = sa.Integer() if column == "shown_within_m" else sa.BigInteger()
            # NOT NULL from the start (SQLite cannot add it later without copying the
            # table); the default only fills existing rows until the backfill below.
            op.add_column(
                table,
                sa.Column(column, kind, nullable=False, server_default=sa.text("0")),
                # Run again after a failed CONCURRENTLY build below (docs/operations.md).
                if_not_exists=postgres or None,
            )
    members = bind.execute(
        sa.text(
            "SELECT id, ST_Y(public_position), ST_X(public_position) FROM members WHERE id IN"
            " (SELECT member_id FROM member_skills UNION SELECT member_id FROM member_tags)"
        )
    ).all()
    for start in range(0, len(members), BATCH):
        values = []
        for member_id, lat, lon in members[start : start + BATCH]:
            pos = geo.LatLon(lat, lon)
            values.append(
                {
                    "id": member_id,
                    "fine": geo.feed_cell(pos, "fine"),
                    "coarse": geo.feed_cell(pos, "coarse"),
                    "within": shown_within_m(pos),
                }
            )
        for table in TABLES:
            bind.execute(
                sa.text(
                    f"UPDATE {table} SET cell_fine = :fine, cell_coarse = :coarse,"
                    " shown_within_m = :within WHERE member_id = :id"
                ),
                values,
            )
    if bind.dialect.name == "postgresql":
        for table in TABLES:
            for column in COLUMNS:
                op.alter_column(table, column, server_default=None)
        # Built without blocking writes (docs/operations.md, "Upgrading a live site");
        # CONCURRENTLY cannot run inside the migration's transaction.
        with op.get_context().autocommit_block():
            for table in TABLES:
                for column in LEVELS:
                    # A build that failed (lock timeout) left an INVALID index behind.
                    op.drop_index(
                        _index(table, column),
                        table_name=table,
                        postgresql_concurrently=True,
                        if_exists=True,
                    )
            op.create_index(
                "ix_member_skills_cell_fine_skill",
                "member_skills",
                ["cell_fine", "skill", "shown_within_m", "member_id"],
                postgresql_concurrently=True,
            )
            op.create_index(
                "ix_member_skills_cell_coarse_skill",
                "member_skills",
                ["cell_coarse", "skill", "shown_within_m", "member_id"],
                postgresql_concurrently=True,
            )
            op.create_index(
                "ix_member_tags_cell_fine_tag",
                "member_tags",
                ["cell_fine", "tag", "shown_within_m", "member_id"],
                postgresql_concurrently=True,
            )
            op.create_index(
                "ix_member_tags_cell_coarse_tag",
                "member_tags",
                ["cell_coarse", "tag", "shown_within_m", "member_id"],
                postgresql_concurrently=True,
            )
            for table, name in TABLES.items():
                op.drop_index(
                    f"ix_{table}_{name}",
                    table_name=table,
                    postgresql_concurrently=True,
                    if_exists=True,
                )
        for table in TABLES:
            op.execute(f"ANALYZE {table}")
    else:
        op.create_index(
            "ix_member_skills_cell_fine_skill",
            "member_skills",
            ["cell_fine", "skill", "shown_within_m", "member_id"],
        )
        op.create_index(
            "ix_member_skills_cell_coarse_skill",
            "member_skills",
            ["cell_coarse", "skill", "shown_within_m", "member_id"],
        )
        op.create_index(
            "ix_member_tags_cell_fine_tag",
            "member_tags",
            ["cell_fine", "tag", "shown_within_m", "member_id"],
        )
        op.create_index(
            "ix_member_tags_cell_coarse_tag",
            "member_tags",
            ["cell_coarse", "tag", "shown_within_m", "member_id"],
        )
        for table, name in TABLES.items():
            op.drop_index(f"ix_{table}_{name}", table_name=table)


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_member_skills_skill",
                "member_skills",
                ["skill"],
                postgresql_concurrently=True,
            )
            op.create_index(
                "ix_member_tags_tag", "member_tags", ["tag"], postgresql_concurrently=True
            )
            for table in TABLES:
                for column in LEVELS:
                    op.drop_index(
                        _index(table, column), table_name=table, postgresql_concurrently=True
                    )
    else:
        op.create_index("ix_member_skills_skill", "member_skills", ["skill"])
        op.create_index("ix_member_tags_tag", "member_tags", ["tag"])
        for table in TABLES:
            for column in LEVELS:
                op.drop_index(_index(table, column), table_name=table)
    for table in TABLES:
        for column in COLUMNS:
            if not postgres:
                # Dropping a column copies nothing on SQLite >= 3.35 (no batch mode).
                op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
            else:
                op.drop_column(table, column)
