"""members.sort_name: display names folded for case and accents, so that lists sort and
page alike on SQLite and PostgreSQL.

Revision ID: 198209fabc09
Revises: 41786e6bd752
Create Date: 2026-11-29 00:55:58.571758

"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "198209fabc09"
down_revision = "41786e6bd752"
branch_labels = None
depends_on = None


def _fold(name: str) -> str:
    # Frozen copy of peuplade.models.member.sort_key as of this revision.
    text = unicodedata.normalize("NFKD", name or "")
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()[:60]


def upgrade():
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sort_name", sa.String(length=60), server_default="", nullable=False)
        )
    members = sa.table(
        "members", sa.column("id", sa.Integer), sa.column("display_name"), sa.column("sort_name")
    )
    conn = op.get_bind()
    for member_id, name in conn.execute(sa.select(members.c.id, members.c.display_name)).all():
        conn.execute(
            members.update().where(members.c.id == member_id).values(sort_name=_fold(name))
        )


def downgrade():
    # Plain ALTER (SQLite >= 3.35 has it): a batch copy of members would trip SpatiaLite's
    # RenameTable over the foreign keys that point at members.
    op.execute("ALTER TABLE members DROP COLUMN sort_name")
