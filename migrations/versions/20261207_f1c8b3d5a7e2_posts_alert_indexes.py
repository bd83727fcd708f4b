"""Alerts on their own feed-cell indexes: ``posts.is_alert`` and two partial indexes.

The alerts pinned above the timeline (news of kind "alerte" of the last 48 hours) were
found by reading every news of 48 hours in each cell around a member and checking its
kind in news_posts: at 1M members, more than the page's own walk. The column says it on
``posts`` (kept by NewsPost's kind), and the indexes hold the open alerts alone, per
cell, newest first (docs/SCALING.md). Built CONCURRENTLY on PostgreSQL so that posting
goes on during the upgrade.

Revision ID: f1c8b3d5a7e2
Revises: a4f7c2e9d1b8
Create Date: 2026-12-07 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f1c8b3d5a7e2'
down_revision = 'a4f7c2e9d1b8'
branch_labels = None
depends_on = None

# A boolean column as each dialect writes it in a WHERE clause.
OPEN_SHOWN_ALERTS = {
    'postgresql': "status = 'open' AND hidden_at IS NULL AND is_alert",
    'sqlite': "status = 'open' AND hidden_at IS NULL AND is_alert = 1",
}
INDEXES = (
    ('ix_posts_alert_cell_fine', ['type', 'cell_fine', 'is_alert', 'created_at', 'id']),
    ('ix_posts_alert_cell_coarse', ['type', 'cell_coarse', 'is_alert', 'created_at', 'id']),
)


def upgrade():
    op.add_column(
        'posts',
        sa.Column('is_alert', sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        "UPDATE posts SET is_alert = TRUE "
        "WHERE id IN (SELECT id FROM news_posts WHERE kind = 'alerte')"
    )
    dialect = op.get_bind().dialect.name
    where = sa.text(OPEN_SHOWN_ALERTS[dialect])
    if dialect == 'postgresql':
        with op.get_context().autocommit_block():
            for name, columns in INDEXES:
                # A build that failed (lock timeout) left an INVALID index behind.
                op.drop_index(
                    name, table_name='posts', postgresql_concurrently=True, if_exists=True
                )
                op.create_index(
                    name, 'posts', columns, postgresql_where=where, postgresql_concurrently=True
                )
            op.execute("ANALYZE posts")
    else:
        for name, columns in INDEXES:
            op.create_index(name, 'posts', columns, sqlite_where=where)
        # As for the far cells' indexes: statistics refreshed where the database keeps some.
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
    if op.get_bind().dialect.name == 'sqlite':
        # Dropping a column copies nothing on SQLite >= 3.35 (no batch mode).
        op.execute("ALTER TABLE posts DROP COLUMN is_alert")
    else:
        op.drop_column('posts', 'is_alert')
