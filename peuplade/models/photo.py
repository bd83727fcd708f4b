"""Photos of posts and members' faces (avatars), cleaned on the server (issue 22).

A row holds the two variants made from one upload (``photos.processing``): the photo
(at most 1600 px) and its thumbnail (400 px), both re-encoded from pixels only, so no
metadata of the original survives. Their bytes live in the row (``data``,
``thumb_data``: any app server can serve any photo, and ``flask backup`` carries them),
or in a directory when ``PHOTO_STORAGE`` names one (then the columns are NULL and the
files are named by the photo's token; the digests make the ETags).
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from peuplade.models.base import Base, TimestampMixin

ALT_MAX = 200


class Photo(TimestampMixin, Base):
    __tablename__ = "photos"
    __table_args__ = (
        CheckConstraint("position >= 0", name="position_positive"),
        Index("ix_photos_post_id_position", "post_id", "position"),
        # One avatar per member (an avatar is a photo of no post, not staged).
        Index(
            "ix_photos_one_avatar",
            "member_id",
            unique=True,
            postgresql_where=text("post_id IS NULL AND staged_key IS NULL"),
            sqlite_where=text("post_id IS NULL AND staged_key IS NULL"),
        ),
        Index("ix_photos_member_id_staged_key", "member_id", "staged_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Who sent it: the post's author, or the member whose face it is.
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False
    )
    # NULL: the member's avatar.
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), nullable=True
    )
    # Photos sent with a form that was refused for another field are kept, staged for
    # that form (its submission key), so the member need not choose them again; they
    # join the post when the form goes through, and are purged after a day otherwise.
    # Only their sender sees them.
    staged_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The description read out by screen readers (the ``alt`` of every <img>).
    alt: Mapped[str] = mapped_column(String(ALT_MAX), nullable=False, default="")
    # Random, in the photo's URLs: a new photo is a new URL, so the old one may be cached
    # for ever; and ids alone cannot be walked.
    token: Mapped[str] = mapped_column(String(24), nullable=False)
    content_type: Mapped[str] = mapped_column(String(32), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    thumb_width: Mapped[int] = mapped_column(Integer, nullable=False)
    thumb_height: Mapped[int] = mapped_column(Integer, nullable=False)
    byte_size: Mapped[int] = mapped_column(Integer, nullable=False)
    thumb_byte_size: Mapped[int] = mapped_column(Integer, nullable=False)
    # sha256 of each variant's bytes: the strong ETag, and the file name on disk.
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    thumb_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    # Deferred: lists load the rows for their URLs and sizes, never the bytes.
    data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    thumb_data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))

    @property
    def is_avatar(self) -> bool:
        return self.post_id is None and self.staged_key is None

    def __repr__(self) -> str:
        return f"<Photo {self.id} of post {self.post_id} by {self.member_id}>"
