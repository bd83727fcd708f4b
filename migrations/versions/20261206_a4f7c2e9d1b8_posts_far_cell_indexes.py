"""The newest open posts reaching farther than 1 km, per feed cell: partial indexes.

A member with a large radius reads cells far from home, where most posts cannot reach
them (a post reaches its author's radius, most often 1 km): beyond 1 km of a home only
the posts reaching farther can (geo.FAR_CELL_M). These indexes give the walk those
posts alone, in date order (docs/SCALING.md). Built CONCURRENTLY on PostgreSQL so that
posting goes on during the upgrade.

Revision ID: a4f7c2e9d1b8
Revises: e5c2a9d4f1b3
Create Date: 2026-12-06 19:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a4f7c2e9d1b8'
down_revision = 'e5c2a9d4f1b3'
branch_labels = None
depends_on = None

OPEN_SHOWN_AND_FAR = "status = 'open' AND hidden_at IS NULL AND reach_m > 1000"
# (name, columns): per cell size, every post type together and one type at a time.
INDEXES = (
    ('ix_posts_far_cell_fine', ['cell_fine', 'created_at', 'id']),
    ('ix_posts_far_type_cell_fine', ['type', 'cell_fine', 'created_at', 'id']),
    ('ix_posts_far_cell_coarse', ['cell_coarse', 'created_at', 'id']),
    ('ix_posts_far_type_cell_coarse', ['type', 'cell_coarse', 'created_at', 'id']),
)


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            for name, columns in INDEXES:
                # A build that failed (lock timeout) left an INVALID index behind.
                op.drop_index(
                    name, table_name='posts', postgresql_concurrently=True, if_exists=True
                )
                op.create_index(
                    name,
                    'posts',
                    columns,
                    postgresql_where=sa.text(OPEN_SHOWN_AND_FAR),
                    postgresql_concurrently=True,
                )
            op.execute("ANALYZE posts")
    else:
        for name, columns in INDEXES:
            op.create_index(name, 'posts', columns, sqlite_where=sa.text(OPEN_SHOWN_AND_FAR))
        # SQLite picks among the usable indexes by their statistics: refreshed where the
        # database keeps some (a database without them keeps its plans as they were).
        bind = op.get_bind()
        if bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
        ).first():
            op.execute("ANALYZE posts")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            for name, _columns in INDEXES:
                op.drop_index(name, table_name='posts', postgresql_concurrently=True)
    else:
        for name, _columns in INDEXES:
            op.drop_index(name, table_name='posts')
