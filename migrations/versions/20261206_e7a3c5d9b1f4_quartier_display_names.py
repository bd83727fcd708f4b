"""Quartier names as French writes them (issue 21).

- ``quartiers.display_name``: the name pages show ("Épinettes"), beside ``name``, the
  name as the open data gives it ("Epinettes"), which re-imports compare. Filled here
  from the shipped correction table (data/quartiers-paris-noms.csv) for the Paris
  quartiers, else from ``name``; ``flask import-quartiers`` keeps it up to date.

Revision ID: e7a3c5d9b1f4
Revises: 5b2e9d7c4a13
Create Date: 2026-12-06 08:45:00

"""
import csv
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = 'e7a3c5d9b1f4'
down_revision = '5b2e9d7c4a13'
branch_labels = None
depends_on = None

NAMES = Path(__file__).resolve().parents[2] / "data" / "quartiers-paris-noms.csv"


def _corrections():
    """(source_ref, open-data name, display name) rows of the table, if it is there."""
    if not NAMES.is_file():
        return []
    with NAMES.open(encoding="utf-8", newline="") as rows:
        return [
            {"ref": f"c_quinsee {row['c_quinsee'].strip()}", "raw": row["l_qu"].strip(),
             "shown": row["nom"].strip()}
            for row in csv.DictReader(rows)
        ]


def upgrade():
    # A plain ALTER (no batch copy: SpatiaLite's geometry registration of quartiers.geom
    # would not survive it). NOT NULL needs a default for the rows already there; the
    # UPDATEs below give every row its real value at once.
    op.add_column(
        'quartiers',
        sa.Column('display_name', sa.String(length=120), server_default='', nullable=False),
    )
    op.execute("UPDATE quartiers SET display_name = name")
    corrections = _corrections()
    if corrections:
        op.get_bind().execute(
            sa.text(
                "UPDATE quartiers SET display_name = :shown "
                "WHERE source_ref = :ref AND name = :raw"
            ),
            corrections,
        )
    if op.get_bind().dialect.name == "postgresql":  # SQLite cannot drop it in place
        op.alter_column('quartiers', 'display_name', server_default=None)


def downgrade():
    op.execute("ALTER TABLE quartiers DROP COLUMN display_name")
