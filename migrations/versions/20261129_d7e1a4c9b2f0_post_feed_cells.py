"""Feed cells on posts: newest open posts near a member, cell by cell.

Every post keeps the keys of the ~500 m and ~2 km cells holding its public position
(``peuplade.geo.feed_cell``), and a partial B-tree on (cell, created_at, id) for the
open, shown posts answers "the newest posts of this cell" directly (docs/SCALING.md).

Revision ID: d7e1a4c9b2f0
Revises: c4d9f2a1b7e3
Create Date: 2026-11-29 10:30:00

"""
from alembic import op
import sqlalchemy as sa

from peuplade import geo


revision = 'd7e1a4c9b2f0'
down_revision = 'c4d9f2a1b7e3'
branch_labels = None
depends_on = None

LEVELS = {"cell_fine": "fine", "cell_coarse": "coarse"}
OPEN_AND_SHOWN = "status = 'open' AND hidden_at IS NULL"
BATCH = 5000


def upgrade():
    bind = op.get_bind()
    for column in LEVELS:
        # NOT NULL from the start (SQLite cannot add it later without copying the
        # table); the default only fills existing rows until the backfill below.
        op.add_column(
            'posts',
            sa.Column(column, sa.BigInteger(), nullable=False, server_default=sa.text('0')),
            # Run again after a failed CONCURRENTLY build below (docs/operations.md).
            if_not_exists=bind.dialect.name == 'postgresql' or None,
        )
    rows = bind.execute(sa.text("SELECT id, ST_Y(position), ST_X(position) FROM posts")).all()
    update = sa.text("UPDATE posts SET cell_fine = :fine, cell_coarse = :coarse WHERE id = :id")
    for start in range(0, len(rows), BATCH):
        values = []
        for post_id, lat, lon in rows[start : start + BATCH]:
            pos = geo.LatLon(lat, lon)
            values.append(
                {
                    "id": post_id,
                    "fine": geo.feed_cell(pos, "fine"),
                    "coarse": geo.feed_cell(pos, "coarse"),
                }
            )
        bind.execute(update, values)
    if bind.dialect.name == 'postgresql':
        for column in LEVELS:
            op.alter_column('posts', column, server_default=None)
    if bind.dialect.name == 'postgresql':
        # Posts crowd into the cells where people live, and readers look there: the
        # planner's average rows per cell (posts / distinct cells) is far too low for
        # them, and it would then sort a whole cell rather than read its newest rows in
        # index order. Counting the cells as few (big) gives the plan that fits.
        for column in LEVELS:
            op.execute(f"ALTER TABLE posts ALTER COLUMN {column} SET (n_distinct = 20)")
    if bind.dialect.name == 'postgresql':
        # Built without blocking writes to posts (docs/operations.md, "Upgrading a live
        # site"); CONCURRENTLY cannot run inside the migration's transaction.
        with op.get_context().autocommit_block():
            for column in LEVELS:
                # A build that failed (lock timeout) left an INVALID index behind.
                op.drop_index(
                    f'ix_posts_open_{column}',
                    table_name='posts',
                    postgresql_concurrently=True,
                    if_exists=True,
                )
                op.create_index(
                    f'ix_posts_open_{column}',
                    'posts',
                    [column, 'created_at', 'id'],
                    postgresql_where=sa.text(OPEN_AND_SHOWN),
                    postgresql_concurrently=True,
                )
        op.execute("ANALYZE posts")
    else:
        for column in LEVELS:
            op.create_index(
                f'ix_posts_open_{column}',
                'posts',
                [column, 'created_at', 'id'],
                sqlite_where=sa.text(OPEN_AND_SHOWN),
            )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            for column in LEVELS:
                op.drop_index(
                    f'ix_posts_open_{column}', table_name='posts', postgresql_concurrently=True
                )
    else:
        for column in LEVELS:
            op.drop_index(f'ix_posts_open_{column}', table_name='posts')
    for column in LEVELS:
        if op.get_bind().dialect.name == 'sqlite':
            # Dropping a column copies nothing on SQLite >= 3.35 (no batch mode).
            op.execute(f"ALTER TABLE posts DROP COLUMN {column}")
        else:
            op.drop_column('posts', column)
