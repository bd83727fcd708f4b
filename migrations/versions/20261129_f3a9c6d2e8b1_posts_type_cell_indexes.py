"""One type's newest open posts near a member: (type, cell, created_at, id) indexes.

The exchanges, objects, news, alerts and outings lists read one type only. On the
(cell, created_at, id) index they walk past every other type's rows of each cell; these
partial indexes give them their own type's rows in date order (docs/SCALING.md). Built
CONCURRENTLY on PostgreSQL so that posting goes on during the upgrade.

Revision ID: f3a9c6d2e8b1
Revises: e2f5a8c1d3b6
Create Date: 2026-11-29 14:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f3a9c6d2e8b1'
down_revision = 'e2f5a8c1d3b6'
branch_labels = None
depends_on = None

COLUMNS = ('cell_fine', 'cell_coarse')
OPEN_AND_SHOWN = "status = 'open' AND hidden_at IS NULL"


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            for column in COLUMNS:
                # A build that failed (lock timeout) left an INVALID index behind.
                op.drop_index(
                    f'ix_posts_open_type_{column}',
                    table_name='posts',
                    postgresql_concurrently=True,
                    if_exists=True,
                )
                op.create_index(
                    f'ix_posts_open_type_{column}',
                    'posts',
                    ['type', column, 'created_at', 'id'],
                    postgresql_where=sa.text(OPEN_AND_SHOWN),
                    postgresql_concurrently=True,
                )
            op.execute("ANALYZE posts")
    else:
        for column in COLUMNS:
            op.create_index(
                f'ix_posts_open_type_{column}',
                'posts',
                ['type', column, 'created_at', 'id'],
                sqlite_where=sa.text(OPEN_AND_SHOWN),
            )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            for column in COLUMNS:
                op.drop_index(
                    f'ix_posts_open_type_{column}',
                    table_name='posts',
                    postgresql_concurrently=True,
                )
    else:
        for column in COLUMNS:
            op.drop_index(f'ix_posts_open_type_{column}', table_name='posts')
