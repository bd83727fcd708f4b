"""Crowd-blurring: each member's public position is the centre of the finest privacy
cell where at least ``privacy.CROWD_MIN`` members live (see docs/privacy.md).

A member's public position therefore depends on their neighbours: when someone moves
in, moves away or leaves, the positions of the members around them are worked out
again here, and the posts shown at a member's public position follow it.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import func, select, update

from peuplade import geo, privacy
from peuplade.extensions import db
from peuplade.geo import LatLon, to_element
from peuplade.models import Member, Post


def place_home(member: Member, home: LatLon) -> None:
    """Set the member's home and cells, then work out the public positions of everyone
    in the cells it leaves and enters (the member's own included)."""
    before = (member.cell_0, member.cell_1)
    member.home = to_element(home)
    member.cell_0, member.cell_1, member.cell_2 = privacy.cells(home)
    if member.public_position is None:  # a new member: the coarsest cell until counted
        _show_at(member, privacy.centre(member.cell_2), move_posts=False)
    db.session.flush()
    refresh(
        {c for c in (before[1], member.cell_1) if c},
        {c for c in (before[0], member.cell_0) if c},
    )


def forget_home(member: Member) -> tuple[str | None, str | None]:
    """The cells a leaving member counted in: refresh them once the member is gone."""
    return member.cell_0, member.cell_1


def refresh(level1: Iterable[str], touched0: Iterable[str] = ()) -> int:
    """Work out again the public positions in the given ~670 m cells. Only members whose
    level may have changed are loaded: those of the touched ~222 m cells, and those of
    sparse ones (whose position depends on the coarser count). Returns how many moved."""
    level1 = sorted(set(level1))
    if not level1:
        return 0
    count0 = dict(
        db.session.execute(
            select(Member.cell_0, func.count())
            .where(Member.cell_1.in_(level1))
            .group_by(Member.cell_0)
        ).all()
    )
    count1 = dict(
        db.session.execute(
            select(Member.cell_1, func.count())
            .where(Member.cell_1.in_(level1))
            .group_by(Member.cell_1)
        ).all()
    )
    crowd_min = current_app.config["PRIVACY_CROWD_MIN"]
    sparse = {cell for cell, n in count0.items() if n < crowd_min}
    wanted = sorted(sparse | set(touched0))
    if not wanted:
        return 0
    moved = 0
    for member in db.session.scalars(
        select(Member).where(Member.cell_1.in_(level1), Member.cell_0.in_(wanted))
    ):
        level = privacy.level_for(
            [count0.get(member.cell_0, 0), count1.get(member.cell_1, 0)], crowd_min
        )
        key = (member.cell_0, member.cell_1, member.cell_2)[level]
        if _show_at(member, privacy.centre(key)):
            moved += 1
    db.session.flush()
    return moved


def _show_at(member: Member, position: LatLon, move_posts: bool = True) -> bool:
    """Give the member this public position (and the quartier found from it); their
    posts shown at their position (no public place picked) move with it."""
    from peuplade.account.queries import quartier_at

    if member.public_position is not None and geo.from_element(member.public_position) == position:
        return False
    member.public_position = to_element(position)
    # Shown to others, so found from the public cell: from the home it would tell on
    # which side of a quartier's boundary street a member lives.
    member.quartier = quartier_at(position)
    if move_posts and member.id is not None:
        db.session.execute(
            update(Post)
            .where(Post.author_id == member.id, Post.place_name.is_(None))
            .values(position=to_element(position))
        )
    return True
