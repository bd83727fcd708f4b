"""Posts shown at their author's public position say so (issue 21).

- ``posts.at_author``: true when the post is shown at its author's public position (no
  place, point or address chosen; a venue named in one's own words, « devant la
  boulangerie », is shown there too), so it moves when that position does (a coarser
  floor, a move, a crowd that shrinks: account/blur.py). Until now ``place_name IS NULL``
  told it, which a named venue without a point, or a point without a name, broke.
  Existing posts: as that rule said.

Revision ID: a4c8e2f6b9d1
Revises: e7a3c5d9b1f4
Create Date: 2026-12-06 09:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'a4c8e2f6b9d1'
down_revision = 'e7a3c5d9b1f4'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ALTER with a constant default: no table copy (SpatiaLite's geometry
    # registration of posts.position would not survive a batch copy), no table rewrite
    # on PostgreSQL 11+.
    op.add_column(
        'posts',
        sa.Column('at_author', sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.get_bind().execute(
        sa.text("UPDATE posts SET at_author = :no WHERE place_name IS NOT NULL"), {"no": False}
    )


def downgrade():
    op.execute("ALTER TABLE posts DROP COLUMN at_author")
