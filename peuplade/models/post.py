"""Everything that appears in a neighbourhood is one row of ``posts``.

Exchanges (and later objects, news and events) add their details in a table of
their own (joined-table inheritance), so scoping, ordering, expiry and
moderation are written once, on ``posts``.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from peuplade import geo
from peuplade.models.base import Base, TimestampMixin, UTCDateTime, utcnow
from peuplade.models.member import RADIUS_MAX_M, RADIUS_MIN_M, Member
from peuplade.models.photo import Photo

POST_STATUSES = ("open", "done", "cancelled")
# The predicate of the feed-cell indexes; queries that use them repeat it as is.
OPEN_AND_SHOWN = text("status = 'open' AND hidden_at IS NULL")
# The walk's far cells state it the same way (posts.queries._walk).
OPEN_SHOWN_AND_FAR = text(f"status = 'open' AND hidden_at IS NULL AND reach_m > {geo.FAR_CELL_M}")
# The alerts' indexes: a boolean column as each dialect writes it in a WHERE clause (the
# walk's condition, ``Post.is_alert``, compiles to exactly this).
OPEN_SHOWN_ALERTS = {
    "postgresql": text("status = 'open' AND hidden_at IS NULL AND is_alert"),
    "sqlite": text("status = 'open' AND hidden_at IS NULL AND is_alert = 1"),
}


class Post(TimestampMixin, Base):
    __tablename__ = "posts"
    __table_args__ = (
        CheckConstraint(
            f"reach_m >= {RADIUS_MIN_M} AND reach_m <= {RADIUS_MAX_M}", name="reach_range"
        ),
        CheckConstraint("status IN ('open', 'done', 'cancelled')", name="status_known"),
        # Keyset pagination: newest first, ties broken by id.
        Index("ix_posts_created_at_id", "created_at", "id"),
        Index("ix_posts_author_id", "author_id"),
        Index("ix_posts_expires_at", "expires_at"),
        Index("ix_posts_quartier_id_created_at", "quartier_id", "created_at"),
        # One post per form sent: a double click on "Publier" finds the first one.
        Index("ix_posts_author_id_submission_key", "author_id", "submission_key", unique=True),
        # A shared link finds its post (posts.sharing).
        Index("ix_posts_share_token", "share_token", unique=True),
        # Newest open posts of a feed cell (geo.feed_cells_around; docs/SCALING.md), and
        # of one type in a feed cell (the exchanges, objects, news and outings lists);
        # "far": the same, of the posts reaching farther than geo.FAR_CELL_M, the only
        # ones of the cells that far from a home that can reach it (newest_nearby).
        *(
            Index(
                f"ix_posts_{kind}_{prefix}{column}",
                *by_type,
                column,
                "created_at",
                "id",
                postgresql_where=where,
                sqlite_where=where,
            )
            for kind, where in (("open", OPEN_AND_SHOWN), ("far", OPEN_SHOWN_AND_FAR))
            for column in ("cell_fine", "cell_coarse")
            for prefix, by_type in (("", ()), ("type_", ("type",)))
        ),
        # The newest open alerts of a feed cell: the alerts pinned above the timeline
        # (news.queries.recent_alerts) are a few rows among every news of 48 hours. Keyed
        # as the walk of one type reads it, plus is_alert (constant here, but an equality
        # more than the (type, cell...) index above: SQLite prefers this one even
        # without statistics; with them, it is the smallest).
        *(
            Index(
                f"ix_posts_alert_{column}",
                "type",
                column,
                "is_alert",
                "created_at",
                "id",
                postgresql_where=OPEN_SHOWN_ALERTS["postgresql"],
                sqlite_where=OPEN_SHOWN_ALERTS["sqlite"],
            )
            for column in ("cell_fine", "cell_coarse")
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    author_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False
    )
    # PUBLIC: the author's grid cell centre, or a public place the author picked.
    position = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    place_name: Mapped[str | None] = mapped_column(String(160), nullable=True)
    # True when ``position`` is the author's public position (no place, point or address
    # chosen; maybe a venue named in the author's words): the post moves with it
    # (account/blur.py), so it never shows a finer or older cell than the author's own.
    at_author: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=sa_true()
    )
    # The feed cells holding ``position`` (geo.feed_cell), kept by ``_cells``.
    cell_fine: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cell_coarse: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # How far the author wants the post to reach, in metres from its position.
    reach_m: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set for posts addressed to a whole quartier (news): its members see it, wherever
    # they live in it; NULL for posts that reach by distance. No foreign key: SQLite could
    # only add one by copying posts, which SpatiaLite's geometry registration does not
    # survive; quartiers are updated in place by re-imports, never deleted.
    quartier_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # True for news of kind "alerte" (kept by NewsPost's kind): the alerts' own indexes.
    is_alert: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=sa_false()
    )
    # Set by a moderator (or by a ban): out of every list and page but the author's.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The random token of the form that published the post (NULL from the API and the
    # demo): the same form sent twice publishes once (posts.services.add_once).
    submission_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Set when the author made the post "partageable hors de Peuplade": the random part
    # of its link for people outside (``/p/<token>``: a teaser, posts.sharing); NULL
    # (the default) when not, which ends every link given before. ``share_photo``: the
    # teaser may show the first photo too.
    share_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    share_photo: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=sa_false()
    )

    author: Mapped[Member] = relationship(lazy="joined", innerjoin=True)
    # Loaded for a whole list in one query ("selectin"), never one per post or photo; the
    # bytes stay deferred. Deleted with the post (the database's cascade on both backends).
    photos: Mapped[list[Photo]] = relationship(
        lazy="selectin",
        order_by=lambda: (Photo.position, Photo.id),
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "post"}

    @validates("position")
    def _cells(self, _key, value):
        pos = geo.from_element(value)
        self.cell_fine = geo.feed_cell(pos, "fine")
        self.cell_coarse = geo.feed_cell(pos, "coarse")
        return value

    @property
    def shared_now(self) -> bool:
        """Its shared link leads somewhere now: shareable, and still on the lists (open,
        not expired, not hidden by the moderation), as posts.queries.shared asks."""
        return (
            self.share_token is not None
            and self.status == "open"
            and self.hidden_at is None
            and (self.expires_at is None or self.expires_at > utcnow())
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"
