"""Photos on posts and members' avatars (issue 22).

- ``photos``: one row per uploaded photo, cleaned and re-encoded on the server, with its
  thumbnail; the bytes in the row (``bytea`` / BLOB) unless ``PHOTO_STORAGE`` names a
  directory. Deleted with its post or its member (ON DELETE CASCADE).
- ``members.avatar_key``: "<photo id>/<token>" of the member's face, or NULL.

Revision ID: c6d1f3a8e2b7
Revises: a4c8e2f6b9d1
Create Date: 2026-12-06 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c6d1f3a8e2b7"
down_revision = "a4c8e2f6b9d1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("staged_key", sa.String(length=32), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("alt", sa.String(length=200), nullable=False),
        sa.Column("token", sa.String(length=24), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("thumb_width", sa.Integer(), nullable=False),
        sa.Column("thumb_height", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("thumb_byte_size", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("thumb_digest", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("thumb_data", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("position >= 0", name=op.f("ck_photos_position_positive")),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_photos_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_photos_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photos")),
    )
    op.create_index("ix_photos_post_id_position", "photos", ["post_id", "position"])
    op.create_index("ix_photos_member_id_staged_key", "photos", ["member_id", "staged_key"])
    op.create_index(
        "ix_photos_one_avatar",
        "photos",
        ["member_id"],
        unique=True,
        postgresql_where=sa.text("post_id IS NULL AND staged_key IS NULL"),
        sqlite_where=sa.text("post_id IS NULL AND staged_key IS NULL"),
    )
    # A plain ALTER (no table copy: SpatiaLite's geometry registration would not survive).
    op.add_column("members", sa.Column("avatar_key", sa.String(length=48), nullable=True))


def downgrade():
    op.execute("ALTER TABLE members DROP COLUMN avatar_key")
    op.drop_index("ix_photos_one_avatar", table_name="photos")
    op.drop_index("ix_photos_member_id_staged_key", table_name="photos")
    op.drop_index("ix_photos_post_id_position", table_name="photos")
    op.drop_table("photos")
