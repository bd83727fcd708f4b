"""Posts remember the form that published them: a double click publishes once.

A nullable column (no table rewrite) and a unique index on (author_id, submission_key),
built CONCURRENTLY on PostgreSQL so that posting goes on during the upgrade
(docs/operations.md, "Upgrading a live site").

Revision ID: e2f5a8c1d3b6
Revises: d7e1a4c9b2f0
Create Date: 2026-11-29 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e2f5a8c1d3b6'
down_revision = 'd7e1a4c9b2f0'
branch_labels = None
depends_on = None

INDEX = 'ix_posts_author_id_submission_key'


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    # Run again after a failed CONCURRENTLY build below (docs/operations.md).
    op.add_column(
        'posts',
        sa.Column('submission_key', sa.String(length=32), nullable=True),
        if_not_exists=postgresql or None,
    )
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.drop_index(INDEX, table_name='posts', postgresql_concurrently=True, if_exists=True)
            op.create_index(
                INDEX,
                'posts',
                ['author_id', 'submission_key'],
                unique=True,
                postgresql_concurrently=True,
            )
    else:
        op.create_index(INDEX, 'posts', ['author_id', 'submission_key'], unique=True)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.drop_index(INDEX, table_name='posts', postgresql_concurrently=True)
        op.drop_column('posts', 'submission_key')
    else:
        op.drop_index(INDEX, table_name='posts')
        # Dropping a column copies nothing on SQLite >= 3.35 (no batch mode).
        op.execute("ALTER TABLE posts DROP COLUMN submission_key")
