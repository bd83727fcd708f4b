"""Messages, news comments and loan requests: a double click sends once.

Messages and news comments remember the form that sent them (a nullable
``submission_key``, no table rewrite) with a unique index on (author_id,
submission_key); a loan request waiting for its answer is unique per borrower, object
and period (a partial unique index). Indexes are built CONCURRENTLY on PostgreSQL so
that writing goes on during the upgrade (docs/operations.md, "Upgrading a live site").
Waiting loan requests sent twice before this upgrade (same borrower, object and dates)
are cancelled but the first: the downgrade does not bring the copies back.

Revision ID: a8d3f1c7e5b2
Revises: f3a9c6d2e8b1
Create Date: 2026-11-29 15:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a8d3f1c7e5b2'
down_revision = 'f3a9c6d2e8b1'
branch_labels = None
depends_on = None

KEYED = ('messages', 'news_comments')
REQUESTED = "status = 'requested'"
LOANS_INDEX = 'ix_loans_requested_once'
LOANS_COLUMNS = ['item_id', 'borrower_id', 'start', 'due']
# Requests sent twice before the loans index existed: keep the first of each.
CANCEL_TWINS = (
    "UPDATE loans SET status = 'cancelled' WHERE status = 'requested' AND id > ("
    "SELECT min(twin.id) FROM loans AS twin WHERE twin.status = 'requested' "
    "AND twin.item_id = loans.item_id AND twin.borrower_id = loans.borrower_id "
    "AND twin.start = loans.start AND twin.due = loans.due)"
)


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for table in KEYED:
        # Run again after a failed CONCURRENTLY build below (docs/operations.md).
        op.add_column(
            table,
            sa.Column('submission_key', sa.String(length=32), nullable=True),
            if_not_exists=postgresql or None,
        )
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            # A build that failed (lock timeout) left an INVALID index behind.
            for name, table in (
                ('ix_messages_author_id_submission_key', 'messages'),
                ('ix_news_comments_author_id_submission_key', 'news_comments'),
                (LOANS_INDEX, 'loans'),
            ):
                op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
            op.create_index(
                'ix_messages_author_id_submission_key',
                'messages',
                ['author_id', 'submission_key'],
                unique=True,
                postgresql_concurrently=True,
            )
            op.create_index(
                'ix_news_comments_author_id_submission_key',
                'news_comments',
                ['author_id', 'submission_key'],
                unique=True,
                postgresql_concurrently=True,
            )
            op.execute(CANCEL_TWINS)
            op.create_index(
                LOANS_INDEX,
                'loans',
                LOANS_COLUMNS,
                unique=True,
                postgresql_where=sa.text(REQUESTED),
                postgresql_concurrently=True,
            )
    else:
        op.create_index(
            'ix_messages_author_id_submission_key',
            'messages',
            ['author_id', 'submission_key'],
            unique=True,
        )
        op.create_index(
            'ix_news_comments_author_id_submission_key',
            'news_comments',
            ['author_id', 'submission_key'],
            unique=True,
        )
        op.execute(CANCEL_TWINS)
        op.create_index(
            LOANS_INDEX, 'loans', LOANS_COLUMNS, unique=True, sqlite_where=sa.text(REQUESTED)
        )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.drop_index(LOANS_INDEX, table_name='loans', postgresql_concurrently=True)
            for table in KEYED:
                op.drop_index(
                    f'ix_{table}_author_id_submission_key',
                    table_name=table,
                    postgresql_concurrently=True,
                )
        for table in KEYED:
            op.drop_column(table, 'submission_key')
    else:
        op.drop_index(LOANS_INDEX, table_name='loans')
        for table in KEYED:
            op.drop_index(f'ix_{table}_author_id_submission_key', table_name=table)
            # Dropping a column copies nothing on SQLite >= 3.35 (no batch mode).
            op.execute(f"ALTER TABLE {table} DROP COLUMN submission_key")
