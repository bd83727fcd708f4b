"""Moderators can take down one photo of a post (issue 22): ``moderation_actions.action``
gains ``remove_photo``.

PostgreSQL: the named check constraint is dropped and added again, ``NOT VALID`` then
``VALIDATE``, in one transaction (the log is small: the lock is short). SQLite
cannot change a constraint in place: the table is copied (``batch_alter_table``), which
is fine for ``moderation_actions`` (no geometry column, a small table).

Revision ID: d8b4e1f7a2c5
Revises: c6d1f3a8e2b7
Create Date: 2026-12-06 13:00:00

"""

from alembic import op

revision = "d8b4e1f7a2c5"
down_revision = "c6d1f3a8e2b7"
branch_labels = None
depends_on = None

NAME = "ck_moderation_actions_action_known"
OLD_ACTIONS = "action IN ('hide', 'restore', 'warn', 'suspend', 'ban', 'unban', 'dismiss')"
NEW_ACTIONS = (
    "action IN ('hide', 'restore', 'warn', 'suspend', 'ban', 'unban', 'dismiss', 'remove_photo')"
)


def _replace_check(condition: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f(NAME), "moderation_actions", type_="check")
        op.execute(
            f"ALTER TABLE moderation_actions ADD CONSTRAINT {NAME} CHECK ({condition}) NOT VALID"
        )
        op.execute(f"ALTER TABLE moderation_actions VALIDATE CONSTRAINT {NAME}")
    else:
        with op.batch_alter_table("moderation_actions", schema=None) as batch_op:
            batch_op.drop_constraint(op.f(NAME), type_="check")
            batch_op.create_check_constraint(op.f(NAME), condition)


def upgrade():
    _replace_check(NEW_ACTIONS)


def downgrade():
    # Their log lines cannot be told in the old vocabulary (the photos themselves go with
    # the next step down, c6d1f3a8e2b7).
    op.execute("DELETE FROM moderation_actions WHERE action = 'remove_photo'")
    _replace_check(OLD_ACTIONS)
