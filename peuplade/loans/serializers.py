"""Objects and loans -> JSON, through ``loans/schemas.py``: objects at their PUBLIC
position, with a distance band; members by name only."""

from __future__ import annotations

from datetime import date
from typing import Any

from peuplade import geo
from peuplade.api.schemas import PositionOut, member_ref
from peuplade.loans import schemas as ls
from peuplade.models import Item, Loan, Member
from peuplade.photos.urls import photos_json
from peuplade.posts.queries import distance_band


def _loan(loan: Loan, today: date) -> ls.LoanOut:
    return ls.LoanOut(
        id=loan.id,
        item_id=loan.item_id,
        item_title=loan.item.title,
        lender=member_ref(loan.lender),
        borrower=member_ref(loan.borrower),
        start=loan.start,
        due=loan.due,
        status=loan.status,
        overdue=loan.overdue_on(today),
        message=loan.message,
        created_at=loan.created_at,
        lent_at=loan.lent_at,
        returned_at=loan.returned_at,
    )


def loan_detail(loan: Loan, today: date) -> dict[str, Any]:
    """``today``: the local day (``localtime.today()``) that decides ``overdue``."""
    return _loan(loan, today).model_dump(mode="json")


def loan_page(loans: list[Loan], today: date, next_cursor: str | None) -> dict[str, Any]:
    return ls.LoanPage(items=[_loan(x, today) for x in loans], next_cursor=next_cursor).model_dump(
        mode="json"
    )


def item_out(
    item: Item, viewer: Member, times_lent: int, loans: list[Loan] | None, today: date
) -> ls.ItemOut:
    """An object at its PUBLIC position; ``loans`` only when the viewer lends it."""
    position = geo.from_element(item.position)
    return ls.ItemOut(
        id=item.id,
        title=item.title,
        description=item.description,
        category=item.category,
        condition=item.condition,
        notes=item.notes,
        available=item.available,
        lender=member_ref(item.author),
        position=PositionOut(lat=position.lat, lon=position.lon),
        distance_band=distance_band(viewer, item),
        created_at=item.created_at,
        times_lent=times_lent,
        loans=None
        if loans is None or item.author_id != viewer.id
        else [_loan(x, today) for x in loans],
        photos=photos_json(item.photos),
    )


def item_detail(
    item: Item, viewer: Member, times_lent: int, loans: list[Loan] | None, today: date
) -> dict[str, Any]:
    return item_out(item, viewer, times_lent, loans, today).model_dump(mode="json")


def item_page(
    items: list[Item],
    viewer: Member,
    times_lent: dict[int, int],
    today: date,
    next_cursor: str | None,
) -> dict[str, Any]:
    """``times_lent``: per lender id. The lender's own objects carry their loans."""
    return ls.ItemPage(
        items=[
            item_out(
                i,
                viewer,
                times_lent.get(i.author_id, 0),
                list(i.loans) if i.author_id == viewer.id else None,
                today,
            )
            for i in items
        ],
        next_cursor=next_cursor,
    ).model_dump(mode="json")
