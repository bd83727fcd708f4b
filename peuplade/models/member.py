"""Members, their skills and free tags, home changes and API tokens."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from flask_login import UserMixin
from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    false,
    inspect,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates
from sqlalchemy.orm.attributes import set_committed_value

from peuplade import geo, privacy
from peuplade.models.base import Base, TimestampMixin, UTCDateTime, utcnow


def sort_key(name: str) -> str:
    """``"Élodie"`` -> ``"elodie"``: what names are sorted and paged by."""
    text = unicodedata.normalize("NFKD", name or "")
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()[:60]


RADIUS_MIN_M = 200
RADIUS_MAX_M = 5000
RADIUS_DEFAULT_M = 1000
# The member's own floor for their public position: 0 = the ~222 m cell at best, 1 = the
# ~444 m cell, 2 = the ~890 m cell, 3 = their quartier only (account/blur.py).
PRIVACY_FLOORS = 4


class Member(UserMixin, TimestampMixin, Base):
    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint(
            f"radius_m >= {RADIUS_MIN_M} AND radius_m <= {RADIUS_MAX_M}", name="radius_range"
        ),
        CheckConstraint("status IN ('active', 'suspended', 'banned')", name="status_known"),
        CheckConstraint(
            f"privacy_floor >= 0 AND privacy_floor <= {PRIVACY_FLOORS - 1}",
            name="privacy_floor_range",
        ),
        # Crowd-blurring counts the members living in each cell (privacy.py).
        Index("ix_members_cell_0", "cell_0"),
        Index("ix_members_cell_1", "cell_1"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored case-folded by the services, so this unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(60), nullable=False)
    # display_name case- and accent-folded in Python, so lists sort alike on both backends.
    sort_name: Mapped[str] = mapped_column(String(60), nullable=False, server_default="")
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    bio: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # PRIVATE: never rendered, serialised or logged for anyone but the member.
    home = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    # Where others see the member: the centre of one of their privacy cells, or a point of
    # their quartier (account/blur.py). Never farther than privacy.PUBLIC_OFFSET_MAX_M.
    public_position = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=True), nullable=False
    )
    radius_m: Mapped[int] = mapped_column(Integer, nullable=False, default=RADIUS_DEFAULT_M)
    quartier_id: Mapped[int | None] = mapped_column(
        ForeignKey("quartiers.id", ondelete="SET NULL"), nullable=True, index=True
    )
    locale: Mapped[str | None] = mapped_column(String(5), nullable=True)
    # Bumped on password change: every other session and token stops working.
    session_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # PRIVATE, like home: the privacy grid cells holding the home, finest first
    # (privacy.cells). Only counted ("how many live in this cell"), never shown.
    cell_0: Mapped[str | None] = mapped_column(String(24), nullable=True)
    cell_1: Mapped[str | None] = mapped_column(String(24), nullable=True)
    cell_2: Mapped[str | None] = mapped_column(String(24), nullable=True)
    # Moderation: "suspended" until suspended_until, or "banned".
    status: Mapped[str] = mapped_column(
        String(12), nullable=False, default="active", server_default="active"
    )
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    is_admin: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    # When the member followed the link sent to their address; None until then. Only
    # confirmed (and older, not flagged) members count toward a privacy crowd.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # A new address the member asked for: it replaces ``email`` only once the link sent
    # to it is followed (and if no account has taken it meanwhile).
    pending_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # The finest public position the member accepts (PRIVACY_FLOORS).
    privacy_floor: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    # "<photo id>/<token>" of the member's face (a ``Photo`` of no post), or NULL: the
    # avatar's URL without a query per member shown (photos.urls.avatar_url).
    avatar_key: Mapped[str | None] = mapped_column(String(48), nullable=True)

    quartier = relationship("Quartier", lazy="joined")
    skills: Mapped[list[MemberSkill]] = relationship(
        back_populates="member", cascade="all, delete-orphan", order_by="MemberSkill.skill"
    )
    tags: Mapped[list[MemberTag]] = relationship(
        back_populates="member", cascade="all, delete-orphan", order_by="MemberTag.tag"
    )

    @validates("display_name")
    def _keep_sort_name(self, _key: str, name: str) -> str:
        self.sort_name = sort_key(name)
        return name

    # The random id of the server-side session (MemberSession) this instance was logged
    # in or loaded with, for this request only; never stored on the row.
    session_id = None

    def __eq__(self, other: object) -> bool:  # UserMixin's compares get_id(): a session
        if isinstance(other, Member):
            return self is other or (self.id is not None and self.id == other.id)
        return NotImplemented

    __hash__ = UserMixin.__hash__  # defining __eq__ would unset it

    def get_id(self) -> str:
        """Flask-Login: what the session and remember-me cookies carry. Only the random
        session id, never the member id: a cookie is worth nothing once its row is gone."""
        if not self.session_id:
            raise RuntimeError("log in through peuplade.auth.sessions.start(), not login_user()")
        return self.session_id

    @property
    def skill_slugs(self) -> list[str]:
        return [s.skill for s in self.skills]

    @property
    def tag_names(self) -> list[str]:
        return [t.tag for t in self.tags]

    def __repr__(self) -> str:  # no email, no position: reprs end up in logs
        return f"<Member {self.id}>"


# --- Skills and tags, found cell by cell ---------------------------------------------
# "Neighbours who know how", the know-how count and the matching fan-out of a new request
# look for the members of one skill near a point. Each skill (and tag) row carries the
# feed cells (geo.feed_cell) of its member's PUBLIC position - never the home -, and a
# B-tree on (cell, skill, shown_within_m, member_id) per cell size gives the members of
# a skill in the cells around the point without reading every member of the circle
# (docs/SCALING.md). The rows also carry that public position and the member's sort
# name, and a second B-tree per cell size, (cell, skill, sort_name, member_id) holding
# the position, gives each cell's members of a skill by name: "neighbours with a skill"
# reads a page's worth per cell, checking the distance on the index entries, instead of
# every member of the skill around (neighbours/queries.py).


# How far a home can lie from a public position that is the centre of one of the privacy
# grid's cells (privacy.py), by level: the cell's half-diagonal (~157, ~314, ~628 m),
# rounded up. Any other public position (a quartier's point) is within
# privacy.PUBLIC_OFFSET_MAX_M of its home.
SHOWN_WITHIN_M = (160, 320, 640)


def shown_within_m(public: geo.LatLon) -> int:
    """How far the home of a member shown at ``public`` can be, read from the public
    position alone (which level of the grid it is the centre of, if any): the matching
    fan-out of a new request looks for homes near the request on public positions, and
    this bound keeps the cells it reads few (posts/audience.py, ``reached_knowing``)."""
    for level, key in enumerate(privacy.cells(public)):
        centre = privacy.centre(key)
        if abs(centre.lat - public.lat) < 1e-7 and abs(centre.lon - public.lon) < 1e-7:
            return SHOWN_WITHIN_M[level]
    return privacy.PUBLIC_OFFSET_MAX_M


def skill_cells(public_position) -> dict[str, int | float]:
    """The columns a skill or tag row takes from its member's ``public_position`` (a
    stored point): its feed cells, how far the home can be (``shown_within_m``), and the
    position itself."""
    pos = geo.from_element(public_position)
    return {
        "cell_fine": geo.feed_cell(pos, "fine"),
        "cell_coarse": geo.feed_cell(pos, "coarse"),
        "shown_within_m": shown_within_m(pos),
        "public_lat": pos.lat,
        "public_lon": pos.lon,
    }


def _by_cell(table: str, column: str) -> tuple[Index, ...]:
    """(cell, skill, shown_within_m, member_id) per cell size, holding the public
    position (PostgreSQL's INCLUDE): the candidates in a box are found on the index
    entries alone. The cell first: a query on one size's
    cells cannot be answered by the other size's index read by skill alone (a
    skill-first pair let the planner pick that, filtering a whole skill's rows).

    And (cell, skill, sort_name, member_id) per cell size, holding the public position
    (PostgreSQL's INCLUDE; SQLite reads it from the row): a cell's members of a skill by
    name, their distance checked on the index entries."""
    return tuple(
        Index(
            f"ix_{table}_{cell}_{column}",
            cell,
            column,
            "shown_within_m",
            "member_id",
            postgresql_include=["public_lat", "public_lon"],
        )
        for cell in ("cell_fine", "cell_coarse")
    ) + tuple(
        Index(
            f"ix_{table}_{cell}_{column}_name",
            cell,
            column,
            "sort_name",
            "member_id",
            postgresql_include=["public_lat", "public_lon"],
        )
        for cell in ("cell_fine", "cell_coarse")
    )


class MemberSkill(Base):
    __tablename__ = "member_skills"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    skill: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The feed cells of the member's public position, kept by _keep_skill_cells (and by
    # account/blur.py when it moves members in bulk).
    cell_fine: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cell_coarse: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # How far the member's home can lie from their public position (shown_within_m).
    shown_within_m: Mapped[int] = mapped_column(Integer, nullable=False)
    # The member's public position (never the home) and sort name, kept as the cells
    # are: "neighbours with a skill" sorts and measures on the skill rows.
    public_lat: Mapped[float] = mapped_column(Float, nullable=False)
    public_lon: Mapped[float] = mapped_column(Float, nullable=False)
    sort_name: Mapped[str] = mapped_column(String(60), nullable=False, server_default="")
    member: Mapped[Member] = relationship(back_populates="skills")

    __table_args__ = _by_cell("member_skills", "skill")


class MemberTag(Base):
    __tablename__ = "member_tags"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)
    # As on MemberSkill.
    cell_fine: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cell_coarse: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # How far the member's home can lie from their public position (shown_within_m).
    shown_within_m: Mapped[int] = mapped_column(Integer, nullable=False)
    # As on MemberSkill.
    public_lat: Mapped[float] = mapped_column(Float, nullable=False)
    public_lon: Mapped[float] = mapped_column(Float, nullable=False)
    sort_name: Mapped[str] = mapped_column(String(60), nullable=False, server_default="")
    member: Mapped[Member] = relationship(back_populates="tags")

    __table_args__ = _by_cell("member_tags", "tag")


@event.listens_for(Session, "before_flush")
def _keep_skill_cells(session: Session, _context, _instances) -> None:
    """Every skill and tag row carries its member's public cells and position and sort
    name, whoever writes it: a new row takes them from its member; a member shown
    elsewhere, or renamed, changes all of theirs (one statement per table, whether the
    rows are loaded or not). Bulk moves that bypass the ORM update the rows themselves
    (account/blur.py)."""
    for obj in session.new:
        if isinstance(obj, MemberSkill | MemberTag):
            member = obj.member if obj.member is not None else session.get(Member, obj.member_id)
            for name, value in skill_cells(member.public_position).items():
                setattr(obj, name, value)
            obj.sort_name = member.sort_name
    for obj in session.dirty:
        if not isinstance(obj, Member) or obj.id is None:
            continue
        values: dict[str, object] = {}
        state = inspect(obj).attrs
        if obj.public_position is not None and state.public_position.history.has_changes():
            values.update(skill_cells(obj.public_position))
        if state.sort_name.history.has_changes():
            values["sort_name"] = obj.sort_name
        if values:
            for table in (MemberSkill.__table__, MemberTag.__table__):
                session.connection().execute(
                    update(table).where(table.c.member_id == obj.id).values(**values)
                )
            for row in (*obj.__dict__.get("skills", ()), *obj.__dict__.get("tags", ())):
                for name, value in values.items():
                    set_committed_value(row, name, value)


class HomeChange(Base):
    """One row per change of home: the number of changes is limited (anti-trilateration)."""

    __tablename__ = "home_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False
    )
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (Index("ix_home_changes_member_id_changed_at", "member_id", "changed_at"),)


class DepartedHomeChange(Base):
    """A home change of a deleted account, kept under a keyed hash of its e-mail for the
    limit's window only: the home-change limit binds a person, not an account (deleting
    and registering again does not reset it; account/person.py). Purged by
    ``flask purge-old-data``."""

    __tablename__ = "departed_home_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # HMAC-SHA256 of the case-folded e-mail, keyed with the app's secret: never the address.
    email_key: Mapped[str] = mapped_column(String(64), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (Index("ix_departed_home_changes_email_key", "email_key", "changed_at"),)


class PrivacyCell(Base):
    """A privacy cell (``privacy.cells`` key, levels 0 and 1) whose ESTABLISHED members
    have numbered at least ``PRIVACY_CROWD_MIN`` since ``crowded_since``, as last seen by
    ``flask privacy-refresh`` (or dropped at once when the crowd shrinks). Members are
    shown in such a cell only once it has held for ``PRIVACY_STABLE_DAYS``."""

    __tablename__ = "privacy_cells"

    key: Mapped[str] = mapped_column(String(24), primary_key=True)
    crowded_since: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # The owner's label, to tell their tokens apart ("Téléphone", "Script de l'asso").
    name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    session_version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    member: Mapped[Member] = relationship()


class MemberSession(Base):
    """A logged-in browser. The cookie carries a random id whose SHA-256 is stored here:
    logging out, or a password change, deletes the row and the cookie is worth nothing,
    even replayed (Flask's signed cookie alone cannot be revoked)."""

    __tablename__ = "member_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class PasswordReset(Base):
    """A single-use, expiring password reset; only the token's SHA-256 is stored."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
