"""Exchanges posted for a neighbour who is not online, with their consent recorded.

Revision ID: b3c8e1f0a9d2
Revises: 356be6cfe4d0
Create Date: 2026-11-29 07:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b3c8e1f0a9d2'
down_revision = '356be6cfe4d0'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTERs: nullable columns, no table copy (SQLite keeps its geometry tables).
    op.add_column('exchanges', sa.Column('on_behalf_of', sa.String(length=80), nullable=True))
    op.add_column(
        'exchanges', sa.Column('behalf_consent_at', sa.DateTime(timezone=True), nullable=True)
    )
    if op.get_bind().dialect.name == "postgresql":  # SQLite cannot add one in place
        op.create_check_constraint(
            op.f('ck_exchanges_behalf_consent'),
            'exchanges',
            '(on_behalf_of IS NULL) = (behalf_consent_at IS NULL)',
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f('ck_exchanges_behalf_consent'), 'exchanges', type_='check')
    op.drop_column('exchanges', 'behalf_consent_at')
    op.drop_column('exchanges', 'on_behalf_of')
