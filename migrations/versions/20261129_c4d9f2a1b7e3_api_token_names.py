"""API tokens get a name chosen by their owner.

Revision ID: c4d9f2a1b7e3
Revises: b3c8e1f0a9d2
Create Date: 2026-11-29 08:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4d9f2a1b7e3'
down_revision = 'b3c8e1f0a9d2'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('api_tokens', sa.Column('name', sa.String(length=80), nullable=True))


def downgrade():
    op.drop_column('api_tokens', 'name')
