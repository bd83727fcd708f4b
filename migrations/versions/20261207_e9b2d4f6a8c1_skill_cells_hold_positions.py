"""The skill and tag rows' cell indexes hold the public position (PostgreSQL).

A new request tells the nearest neighbours who know its category; they are read from
the (cell, skill, shown_within_m, member_id) index of ``member_skills``, cell by cell
around the request. The cells (~500 m high) cover two to three times the circle that
matters, and each row found was checked against its member's row: at 1M members, 2,022
rows of a common skill for 753 in the circle. The rows already carry their member's
PUBLIC position (c7e1a9f3b5d2); the index now holds it too (INCLUDE), so the box around
the circle is checked on the index entries and only the members inside are read.

Each index is built again under a new name CONCURRENTLY, the old one dropped
CONCURRENTLY, then the new one renamed: the queries never lack it and sign-ups and
profile changes go on. SQLite's indexes hold no extra column: nothing to do there.

Revision ID: e9b2d4f6a8c1
Revises: c7e1a9f3b5d2
Create Date: 2026-12-07 14:30:00

"""

from alembic import op

revision = "e9b2d4f6a8c1"
down_revision = "c7e1a9f3b5d2"
branch_labels = None
depends_on = None

INDEXES = (
    ("member_skills", "ix_member_skills_cell_fine_skill"),
    ("member_skills", "ix_member_skills_cell_coarse_skill"),
    ("member_tags", "ix_member_tags_cell_fine_tag"),
    ("member_tags", "ix_member_tags_cell_coarse_tag"),
)
INCLUDE = ["public_lat", "public_lon"]


def _rebuild(include: list[str] | None) -> None:
    """Each index of INDEXES built again (``include``: the columns it holds)."""
    with op.get_context().autocommit_block():
        for table, name in INDEXES:
            new = f"{name}_new"
            # A build that failed (lock timeout) left an INVALID index behind.
            op.drop_index(new, table_name=table, postgresql_concurrently=True, if_exists=True)
        op.create_index(
            "ix_member_skills_cell_fine_skill_new",
            "member_skills",
            ["cell_fine", "skill", "shown_within_m", "member_id"],
            postgresql_include=include,
            postgresql_concurrently=True,
        )
        op.create_index(
            "ix_member_skills_cell_coarse_skill_new",
            "member_skills",
            ["cell_coarse", "skill", "shown_within_m", "member_id"],
            postgresql_include=include,
            postgresql_concurrently=True,
        )
        op.create_index(
            "ix_member_tags_cell_fine_tag_new",
            "member_tags",
            ["cell_fine", "tag", "shown_within_m", "member_id"],
            postgresql_include=include,
            postgresql_concurrently=True,
        )
        op.create_index(
            "ix_member_tags_cell_coarse_tag_new",
            "member_tags",
            ["cell_coarse", "tag", "shown_within_m", "member_id"],
            postgresql_include=include,
            postgresql_concurrently=True,
        )
        for table, name in INDEXES:
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
            op.execute(f"ALTER INDEX {name}_new RENAME TO {name}")
        for table in ("member_skills", "member_tags"):
            op.execute(f"ANALYZE {table}")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _rebuild(INCLUDE)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _rebuild(None)
