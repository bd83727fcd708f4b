"""Crowd-blurring that other people's accounts cannot steer (docs/privacy.md).

A member is shown at the centre of the finest privacy cell (``privacy.cells``) that is
*qualified*: its ESTABLISHED members (e-mail confirmed, account older than
``PRIVACY_ESTABLISHED_DAYS``, active and not reported) have numbered at least
``PRIVACY_CROWD_MIN`` for ``PRIVACY_STABLE_DAYS`` in a row. Never finer than the
member's own floor (``Member.privacy_floor``: a cell size, or their quartier only).

The two directions are deliberately not symmetric:

* **coarsen at once.** When a crowd shrinks (a member leaves, moves away, is banned,
  suspended or reported), its cell loses its qualification immediately and the members
  shown in it move to a coarser cell, with their posts (:func:`after_leaving`,
  :func:`standing_changed`);
* **refine slowly.** Only :func:`refresh_all` (``flask privacy-refresh``, daily) marks
  cells as crowded, from established members only, and shows members in a finer cell
  once it has held for the stable period. Nothing another person does - a sign-up, a
  login, a move, an API call - makes anyone's position finer before that job.

A member's own move or floor change places them at once, but only at a level that the
job has qualified: that tells nothing the crowd there does not already.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from geoalchemy2.shape import to_shape
from sqlalchemy import and_, delete, exists, func, select, tuple_, update

from peuplade import geo, privacy
from peuplade.account.queries import quartier_at
from peuplade.errors import ValidationFailed
from peuplade.extensions import db
from peuplade.geo import LatLon, to_element
from peuplade.models import (
    PRIVACY_FLOORS,
    Member,
    MemberSkill,
    MemberTag,
    Post,
    PrivacyCell,
    Quartier,
    Report,
    utcnow,
)
from peuplade.models.member import skill_cells

# The floor a member may choose, by level: what the settings page and the API show.
QUARTIER_LEVEL = privacy.LEVELS  # 3: the member's quartier, not a cell
FLOOR_CHOICES: tuple[tuple[int, str, object], ...] = (
    (0, "200m", _l("à environ 200 m près (le plus précis)")),
    (1, "450m", _l("à environ 450 m près")),
    (2, "900m", _l("à environ 900 m près")),
    (QUARTIER_LEVEL, "quartier", _l("mon quartier seulement")),
)
FLOOR_NAMES = {name: level for level, name, _label in FLOOR_CHOICES}
assert len(FLOOR_CHOICES) == PRIVACY_FLOORS


def _crowd_min() -> int:
    return current_app.config["PRIVACY_CROWD_MIN"]


def blurring_on() -> bool:
    """``PRIVACY_CROWD_MIN`` 1 turns crowd-blurring off: every member in their finest
    cell (their floor permitting)."""
    return _crowd_min() > 1


def established(now: datetime | None = None):
    """SQL: the member counts toward a crowd: e-mail confirmed, account older than
    ``PRIVACY_ESTABLISHED_DAYS``, active (not suspended or banned), and not flagged by
    the sign-up signal (an open "signups" report, account/person.py).

    A report filed by a member does not count: anyone could otherwise make a cell lose
    its crowd at will (and, by watching who moves, learn who lives there)."""
    now = now or utcnow()
    days = current_app.config["PRIVACY_ESTABLISHED_DAYS"]
    return and_(
        Member.email_confirmed_at.is_not(None),
        Member.created_at <= now - timedelta(days=days),
        Member.status == "active",
        ~exists().where(
            Report.target_member_id == Member.id,
            Report.reason == "signups",
            Report.status == "open",
        ),
    )


def _counted(level: int, now: datetime):
    """SQL: the member counts toward the crowd of their level-``level`` cell: established,
    and accepting to be shown that finely (a member whose floor is coarser makes no
    finer crowd: counting them would tell that they live in the finer cell)."""
    return and_(established(now), Member.privacy_floor <= level)


def _qualified(keys: Iterable[str], now: datetime) -> set[str]:
    """Of these cells, those whose established crowd has held for the stable period."""
    keys = sorted({k for k in keys if k})
    if not keys:
        return set()
    stable = now - timedelta(days=current_app.config["PRIVACY_STABLE_DAYS"])
    return set(
        db.session.scalars(
            select(PrivacyCell.key).where(
                PrivacyCell.key.in_(keys), PrivacyCell.crowded_since <= stable
            )
        )
    )


def _cells_of(member) -> tuple[str, str, str]:
    return member.cell_0, member.cell_1, member.cell_2


def _allowed_level(member, qualified: set[str]) -> int:
    """The finest level the member may be shown at: the finest qualified cell (the
    coarsest cell always is), never finer than their floor."""
    if not blurring_on():
        level = 0
    else:
        level = next(
            (
                k
                for k, key in enumerate(_cells_of(member)[: privacy.LEVELS - 1])
                if key in qualified
            ),
            privacy.LEVELS - 1,
        )
    return max(level, member.privacy_floor or 0)


class _Places:
    """Where each level puts a member; quartier points are looked up once per run."""

    def __init__(self) -> None:
        self._quartier_points: dict[str, LatLon] = {}

    def position(self, member, level: int) -> LatLon:
        cells = _cells_of(member)
        if level < QUARTIER_LEVEL:
            return privacy.centre(cells[level])
        coarsest = cells[privacy.LEVELS - 1]
        if coarsest not in self._quartier_points:
            self._quartier_points[coarsest] = _quartier_point(privacy.centre(coarsest))
        return self._quartier_points[coarsest]

    def current_level(self, member) -> int:
        """The level the member is shown at now (their quartier when no cell matches)."""
        shown = geo.from_element(member.public_position)
        for level, key in enumerate(_cells_of(member)):
            if key and shown == privacy.centre(key):
                return level
        return QUARTIER_LEVEL


def _quartier_point(near: LatLon) -> LatLon:
    """A fixed point inside the quartier holding ``near`` (the centre of the member's
    coarsest cell): everyone of that quartier who chose "my quartier only" is shown
    there. Outside every known quartier, or when that point lies too far from the cell
    (``privacy.QUARTIER_POINT_MAX_M``: a public position stays within
    ``PUBLIC_OFFSET_MAX_M`` of the home), the coarsest cell's centre."""
    quartier: Quartier | None = quartier_at(near)
    if quartier is None:
        return near
    shape = to_shape(quartier.geom).representative_point()
    point = geo.lat_lon(round(shape.y, 6), round(shape.x, 6))
    if geo.geodesic_distance_m(point, near) > privacy.QUARTIER_POINT_MAX_M:
        return near
    return point


def place_home(member: Member, home: LatLon, now: datetime | None = None) -> None:
    """Set the member's home and cells and show them at the finest qualified cell of
    their new place; the cells they leave may have lost their crowd (coarsened)."""
    now = now or utcnow()
    before = (member.cell_0, member.cell_1)
    member.home = to_element(home)
    member.cell_0, member.cell_1, member.cell_2 = privacy.cells(home)
    with db.session.no_autoflush:  # a new member has no public position until below
        level = _allowed_level(member, _qualified(_cells_of(member), now))
        _show_at(member, _Places().position(member, level), move_posts=member.id is not None)
    db.session.flush()
    if before[0] and before[0] != member.cell_0:
        after_leaving([before[1]], [before[0]], now=now)


def forget_home(member: Member) -> tuple[str | None, str | None]:
    """The cells a leaving member counted in: pass them to :func:`after_leaving` once
    the member is gone."""
    return member.cell_0, member.cell_1


def standing_changed(member: Member, now: datetime | None = None) -> int:
    """The member may no longer count (banned, suspended, reported): their crowd may
    have shrunk, so it is checked at once."""
    return after_leaving([member.cell_1], [member.cell_0], now=now)


def after_leaving(
    level1: Iterable[str | None], level0: Iterable[str | None] = (), now: datetime | None = None
) -> int:
    """Coarsen only: count the established members of these cells again; a cell now
    holding too few loses its qualification, and the members shown in it move to their
    finest still-qualified cell, which is always coarser. Returns how many moved."""
    now = now or utcnow()
    level1 = sorted({c for c in level1 if c})
    level0 = sorted({c for c in level0 if c})
    if not blurring_on() or not (level0 or level1):
        return 0
    crowd_min = _crowd_min()
    counts = {}
    for level, column, keys in ((0, Member.cell_0, level0), (1, Member.cell_1, level1)):
        if keys:
            counts |= dict(
                db.session.execute(
                    select(column, func.count())
                    .where(column.in_(keys), _counted(level, now))
                    .group_by(column)
                ).all()
            )
    shrunk = [key for key in (*level0, *level1) if counts.get(key, 0) < crowd_min]
    gone = set(
        db.session.scalars(
            delete(PrivacyCell).where(PrivacyCell.key.in_(shrunk)).returning(PrivacyCell.key)
        )
    )
    if not gone:
        return 0
    places = _Places()
    moved = 0
    members = db.session.scalars(
        select(Member).where((Member.cell_0.in_(sorted(gone))) | (Member.cell_1.in_(sorted(gone))))
    ).all()
    qualified = _qualified({key for m in members for key in _cells_of(m)}, now)
    for member in members:
        level = max(places.current_level(member), _allowed_level(member, qualified))
        if _show_at(member, places.position(member, level)):
            moved += 1
    db.session.flush()
    return moved


def set_floor(member: Member, choice: object, now: datetime | None = None) -> int:
    """The member's own floor ("200m", "450m", "900m", "quartier", or the level): they
    are shown at once at the finest qualified cell it allows. Returns the level."""
    level = FLOOR_NAMES.get(choice) if isinstance(choice, str) else None
    if level is None and type(choice) is int and 0 <= choice < PRIVACY_FLOORS:
        level = choice
    if level is None:
        msg = _l("Choisissez une des précisions proposées.")
        raise ValidationFailed(msg, {"privacy_floor": msg})
    now = now or utcnow()
    coarser = level > (member.privacy_floor or 0)
    member.privacy_floor = level
    shown = _allowed_level(member, _qualified(_cells_of(member), now))
    _show_at(member, _Places().position(member, shown))
    db.session.flush()
    if coarser:  # no longer counted in the finer crowds they leave
        after_leaving([member.cell_1], [member.cell_0], now=now)
    return shown


def shown_level(member: Member) -> int:
    """The level the member is shown at now (for their own settings page)."""
    return _Places().current_level(member)


@dataclass
class Summary:
    """What one ``flask privacy-refresh`` did."""

    crowded: int = 0  # cells with enough established members today
    newly_crowded: int = 0  # of which seen for the first time (their clock starts)
    qualified: int = 0  # cells crowded for the stable period: members may be shown there
    finer: int = 0  # members shown in a finer cell than before
    coarser: int = 0  # members shown in a coarser cell than before


def refresh_all(
    now: datetime | None = None, batch: int = 2000, commit_batches: bool = False
) -> Summary:
    """The daily job: note which cells hold a crowd of established members (and since
    when), then show every member at the finest cell qualified for them. The only place
    where positions become finer. ``commit_batches`` (the command line): commit after the
    cells and after each batch of members, so that no long transaction holds the
    members it moved (or, on SQLite, every writer)."""
    now = now or utcnow()
    summary = Summary()
    qualified: set[str] = set()
    if blurring_on():
        crowd_min = _crowd_min()
        crowded: set[str] = set()
        for level, column in enumerate((Member.cell_0, Member.cell_1)):
            crowded |= set(
                db.session.scalars(
                    select(column)
                    .where(column.is_not(None), _counted(level, now))
                    .group_by(column)
                    .having(func.count() >= crowd_min)
                )
            )
        known = dict(db.session.execute(select(PrivacyCell.key, PrivacyCell.crowded_since)).all())
        stale = sorted(set(known) - crowded)
        for start in range(0, len(stale), 500):
            db.session.execute(
                delete(PrivacyCell).where(PrivacyCell.key.in_(stale[start : start + 500]))
            )
        new = sorted(crowded - set(known))
        db.session.add_all(PrivacyCell(key=key, crowded_since=now) for key in new)
        db.session.flush()
        if commit_batches:
            db.session.commit()
        stable = now - timedelta(days=current_app.config["PRIVACY_STABLE_DAYS"])
        qualified = {key for key, since in known.items() if key in crowded and since <= stable}
        summary.crowded, summary.newly_crowded = len(crowded), len(new)
        summary.qualified = len(qualified)
    places = _Places()
    # Cell by cell (keyset on the cell_0 index): the members of a cell share the
    # positions they move to, so a batch is a few statements (_move_all).
    after = ("", 0)
    while True:
        rows = db.session.execute(
            select(
                Member.id,
                Member.cell_0,
                Member.cell_1,
                Member.cell_2,
                Member.privacy_floor,
                Member.public_position,
            )
            .where(Member.cell_0.is_not(None), tuple_(Member.cell_0, Member.id) > after)
            .order_by(Member.cell_0, Member.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        after = (rows[-1].cell_0, rows[-1].id)
        # Read again per batch: a cell that lost its crowd meanwhile (a ban, a departure
        # committed while the job runs) is no longer qualified.
        still = _qualified({k for row in rows for k in _cells_of(row)} & qualified, now)
        moves: dict[LatLon, list[int]] = {}
        for row in rows:
            level = _allowed_level(row, still)
            now_at = places.current_level(row)
            target = places.position(row, level)
            # By position, not level: a "quartier only" member whose quartier is too
            # large is shown at their coarsest cell, and stays there.
            if level == now_at or target == geo.from_element(row.public_position):
                continue
            moves.setdefault(target, []).append(row.id)
            if level < now_at:
                summary.finer += 1
            else:
                summary.coarser += 1
        _move_all(moves)
        if commit_batches:
            db.session.commit()
        else:
            db.session.flush()
    return summary


def _move_all(moves: dict[LatLon, list[int]]) -> None:
    """What :func:`_show_at` does, for many members at once: one statement per new
    position for the members, one for their posts (the daily job moves thousands)."""
    for position, ids in moves.items():
        quartier = quartier_at(position)
        db.session.execute(
            update(Member)
            .where(Member.id.in_(ids))
            .values(
                public_position=to_element(position),
                quartier_id=quartier.id if quartier is not None else None,
            )
            .execution_options(synchronize_session=False)
        )
        # Their skills and tags carry their public cells (models/member.py).
        cells = skill_cells(to_element(position))
        for row in (MemberSkill, MemberTag):
            db.session.execute(
                update(row)
                .where(row.member_id.in_(ids))
                .values(**cells)
                .execution_options(synchronize_session=False)
            )
        _move_posts(ids, position)
    if moves:
        db.session.expire_all()  # members loaded in this session were moved underneath


def _show_at(member: Member, position: LatLon, move_posts: bool = True) -> bool:
    """Give the member this public position (and the quartier found from it); their
    posts shown at their position (no public place picked) move with it."""
    if member.public_position is not None and geo.from_element(member.public_position) == position:
        return False
    member.public_position = to_element(position)
    # Shown to others, so found from the public cell: from the home it would tell on
    # which side of a quartier's boundary street a member lives.
    member.quartier = quartier_at(position)
    if move_posts and member.id is not None:
        _move_posts([member.id], position)
    return True


def _move_posts(author_ids: list[int], position: LatLon) -> None:
    """The posts of these authors shown at their position (``Post.at_author``) move
    to ``position``, feed cells included: the lists read posts cell by cell
    (posts.queries)."""
    db.session.execute(
        update(Post)
        .where(Post.author_id.in_(author_ids), Post.at_author.is_(True))
        .values(
            position=to_element(position),
            cell_fine=geo.feed_cell(position, "fine"),
            cell_coarse=geo.feed_cell(position, "coarse"),
        )
    )
