"""Initial schema: members (skills, tags, home changes, API tokens) and quartiers.

Revision ID: fe73533af0b6
Revises:
Create Date: 2026-11-29 00:24:47.269578

"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "fe73533af0b6"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # On SQLite the SpatiaLite metadata is created by the connection hook (peuplade/database.py).
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    # create_geospatial_table registers geometry columns in SpatiaLite's geometry_columns
    # (RecoverGeometryColumn); spatial indexes are created explicitly just after.
    op.create_geospatial_table(
        "quartiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("source_ref", sa.String(length=80), nullable=True),
        sa.Column("arrondissement", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quartiers")),
        sa.UniqueConstraint("slug", name=op.f("uq_quartiers_slug")),
    )
    op.create_geospatial_index(
        "idx_quartiers_geom", "quartiers", ["geom"], unique=False, postgresql_using="gist"
    )

    op.create_geospatial_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=60), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column(
            "home",
            Geometry(geometry_type="POINT", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column(
            "public_position",
            Geometry(geometry_type="POINT", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column("radius_m", sa.Integer(), nullable=False),
        sa.Column("quartier_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(length=5), nullable=True),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "radius_m >= 200 AND radius_m <= 5000", name=op.f("ck_members_radius_range")
        ),
        sa.ForeignKeyConstraint(
            ["quartier_id"],
            ["quartiers.id"],
            name=op.f("fk_members_quartier_id_quartiers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("email", name=op.f("uq_members_email")),
    )
    # Only the public position is indexed: radius queries never touch the private home.
    op.create_geospatial_index(
        "idx_members_public_position",
        "members",
        ["public_position"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index(op.f("ix_members_quartier_id"), "members", ["quartier_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_api_tokens_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_member_id"), "api_tokens", ["member_id"], unique=False)

    op.create_table(
        "home_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_home_changes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_changes")),
    )
    op.create_index(
        "ix_home_changes_member_id_changed_at",
        "home_changes",
        ["member_id", "changed_at"],
        unique=False,
    )

    op.create_table(
        "member_skills",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("skill", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_skills_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "skill", name=op.f("pk_member_skills")),
    )
    op.create_index("ix_member_skills_skill", "member_skills", ["skill"], unique=False)

    op.create_table(
        "member_tags",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_tags_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "tag", name=op.f("pk_member_tags")),
    )
    op.create_index("ix_member_tags_tag", "member_tags", ["tag"], unique=False)


def downgrade():
    op.drop_table("member_tags")
    op.drop_table("member_skills")
    op.drop_table("home_changes")
    op.drop_table("api_tokens")
    # drop_geospatial_table also removes the R*Tree and the geometry_columns rows on SpatiaLite.
    op.drop_geospatial_table("members")
    op.drop_geospatial_table("quartiers")
    # The postgis extension stays: it may serve other schemas, and dropping it needs a superuser.
