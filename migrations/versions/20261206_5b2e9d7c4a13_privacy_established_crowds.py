"""Location privacy that fake accounts cannot steer (issue 19).

- ``members.email_confirmed_at``: only confirmed members count toward a privacy crowd.
  Members who registered before confirmation existed are taken as confirmed at their
  sign-up date, so today's crowds stay as they are.
- ``members.privacy_floor``: the finest public position a member accepts.
- ``members.pending_email``: a new address, applied once its link is followed.
- ``privacy_cells``: the cells whose established crowd has held, and since when
  (``flask privacy-refresh``). Seeded with the cells where, by the rule so far, at
  least 3 members older than 30 days live, as crowded for the default stable period
  already: members shown finely there today stay so, until the daily job sees
  otherwise.
- ``departed_home_changes``: home changes of deleted accounts under a keyed hash of
  their e-mail, for the home-change limit's window.
- ``reports.reason`` gains ``signups`` (raised by the app itself).

Revision ID: 5b2e9d7c4a13
Revises: a8d3f1c7e5b2
Create Date: 2026-12-06 02:30:00

"""
from datetime import datetime, timedelta, timezone

from alembic import op
import sqlalchemy as sa


revision = '5b2e9d7c4a13'
down_revision = 'a8d3f1c7e5b2'
branch_labels = None
depends_on = None

OLD_REASONS = "reason IN ('spam', 'abuse', 'danger', 'privacy', 'other')"
NEW_REASONS = "reason IN ('spam', 'abuse', 'danger', 'privacy', 'other', 'signups')"
FLOOR_RANGE = "privacy_floor >= 0 AND privacy_floor <= 3"


def upgrade():
    op.create_table(
        'privacy_cells',
        sa.Column('key', sa.String(length=24), nullable=False),
        sa.Column('crowded_since', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_privacy_cells')),
    )
    op.create_table(
        'departed_home_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email_key', sa.String(length=64), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_departed_home_changes')),
    )
    op.create_index(
        'ix_departed_home_changes_email_key',
        'departed_home_changes',
        ['email_key', 'changed_at'],
        unique=False,
    )
    # Plain ALTERs (no batch copy of members: SpatiaLite's geometry registration would
    # not survive it). A column with a constant default is instant on PostgreSQL 11+.
    op.add_column('members', sa.Column('email_confirmed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        'members', sa.Column('privacy_floor', sa.Integer(), server_default='0', nullable=False)
    )
    op.add_column('members', sa.Column('pending_email', sa.String(length=254), nullable=True))
    op.execute("UPDATE members SET email_confirmed_at = created_at")
    _seed_privacy_cells()
    if op.get_bind().dialect.name == "postgresql":  # SQLite cannot add one in place
        # NOT VALID, then VALIDATE: the check of existing rows does not block writes.
        op.execute(
            f"ALTER TABLE members ADD CONSTRAINT ck_members_privacy_floor_range "
            f"CHECK ({FLOOR_RANGE}) NOT VALID"
        )
        op.execute("ALTER TABLE members VALIDATE CONSTRAINT ck_members_privacy_floor_range")
        op.drop_constraint(op.f('ck_reports_reason_known'), 'reports', type_='check')
        op.create_check_constraint(op.f('ck_reports_reason_known'), 'reports', NEW_REASONS)
    else:
        with op.batch_alter_table('reports', schema=None) as batch_op:
            batch_op.drop_constraint(op.f('ck_reports_reason_known'), type_='check')
            batch_op.create_check_constraint(op.f('ck_reports_reason_known'), NEW_REASONS)


def _seed_privacy_cells():
    now = datetime.now(timezone.utc)
    old_enough = now - timedelta(days=30)  # PRIVACY_ESTABLISHED_DAYS's default
    held_since = now - timedelta(days=7)  # PRIVACY_STABLE_DAYS's default
    bind = op.get_bind()
    for column in ('cell_0', 'cell_1'):
        keys = bind.execute(
            sa.text(
                f"SELECT {column} FROM members WHERE {column} IS NOT NULL "
                f"AND status = 'active' AND created_at <= :old_enough "
                f"GROUP BY {column} HAVING count(*) >= 3"
            ),
            {'old_enough': old_enough},
        ).scalars().all()
        if keys:
            bind.execute(
                sa.text("INSERT INTO privacy_cells (key, crowded_since) VALUES (:key, :since)"),
                [{'key': key, 'since': held_since} for key in keys],
            )


def downgrade():
    op.execute("DELETE FROM reports WHERE reason = 'signups'")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f('ck_reports_reason_known'), 'reports', type_='check')
        op.create_check_constraint(op.f('ck_reports_reason_known'), 'reports', OLD_REASONS)
        op.drop_constraint(op.f('ck_members_privacy_floor_range'), 'members', type_='check')
    else:
        with op.batch_alter_table('reports', schema=None) as batch_op:
            batch_op.drop_constraint(op.f('ck_reports_reason_known'), type_='check')
            batch_op.create_check_constraint(op.f('ck_reports_reason_known'), OLD_REASONS)
    for column in ('pending_email', 'privacy_floor', 'email_confirmed_at'):
        op.execute(f"ALTER TABLE members DROP COLUMN {column}")
    op.drop_index('ix_departed_home_changes_email_key', table_name='departed_home_changes')
    op.drop_table('departed_home_changes')
    op.drop_table('privacy_cells')
