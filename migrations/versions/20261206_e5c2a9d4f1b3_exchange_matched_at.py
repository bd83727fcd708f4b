"""When a request's matching neighbours were told: ``exchanges.matched_at``.

A new request's matching neighbours are told once its author has their answer (after
the response), or by the next ``flask send-notifications`` when no worker could; the
column says it was done, and claiming it (set where NULL) makes sure nobody is told
twice. Requests of the last days are marked as done here: they were told at posting.
Older rows stay NULL: they are never looked at again (``MATCH_WITHIN``).

Revision ID: e5c2a9d4f1b3
Revises: b3f8d2a6c4e9
Create Date: 2026-12-06 16:45:00

"""

import sqlalchemy as sa
from alembic import op

from peuplade.models.base import UTCDateTime

revision = "e5c2a9d4f1b3"
down_revision = "b3f8d2a6c4e9"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable, no default: no table rewrite on PostgreSQL.
    op.add_column("exchanges", sa.Column("matched_at", UTCDateTime(), nullable=True))
    # Longer than MATCH_WITHIN (3 days): nothing posted before this upgrade is told twice.
    since = "now() - interval '4 days'"
    if op.get_bind().dialect.name != "postgresql":
        since = "strftime('%Y-%m-%d %H:%M:%f', 'now', '-4 days')"
    op.execute(
        "UPDATE exchanges SET matched_at = (SELECT created_at FROM posts WHERE posts.id ="
        f" exchanges.id) WHERE id IN (SELECT id FROM posts WHERE type = 'exchange' AND"
        f" created_at >= {since})"
    )


def downgrade():
    with op.batch_alter_table("exchanges") as batch:
        batch.drop_column("matched_at")
