"""Posts shared outside Peuplade: ``posts.share_token`` and ``posts.share_photo``.

An author may make a post "partageable hors de Peuplade": it gets a random token, the
end of its link for people outside (``/p/<token>``, a teaser: title, kind, quartier;
the first photo only with ``share_photo``). NULL, the default, is not shareable: every
post stays as it was.

Revision ID: d2a6f8c4e1b9
Revises: e9b2d4f6a8c1
Create Date: 2026-12-07 23:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d2a6f8c4e1b9"
down_revision = "e9b2d4f6a8c1"
branch_labels = None
depends_on = None


def upgrade():
    # A nullable column, and a constant default: no table rewrite on PostgreSQL, a plain
    # ALTER TABLE ... ADD COLUMN on SQLite (posts is never copied: SpatiaLite's geometry
    # registration would not survive it).
    # Re-run after a failed index build (below, outside the transaction), the columns are
    # already there on PostgreSQL: IF NOT EXISTS (SQLite runs it all in one transaction).
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "posts",
        sa.Column("share_token", sa.String(32), nullable=True),
        if_not_exists=postgresql or None,
    )
    op.add_column(
        "posts",
        sa.Column("share_photo", sa.Boolean(), nullable=False, server_default=sa.false()),
        if_not_exists=postgresql or None,
    )
    # Built without locking the posts' writes (docs/operations.md); a build that failed
    # (lock timeout) left an INVALID index behind, dropped first.
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_posts_share_token",
            table_name="posts",
            postgresql_concurrently=True,
            if_exists=True,
        )
        op.create_index(
            "ix_posts_share_token",
            "posts",
            ["share_token"],
            unique=True,
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_posts_share_token", table_name="posts", postgresql_concurrently=True)
    # SQLite >= 3.35 drops a column in place (no batch copy of posts).
    op.execute("ALTER TABLE posts DROP COLUMN share_photo")
    op.execute("ALTER TABLE posts DROP COLUMN share_token")
