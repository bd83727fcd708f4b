"""Reports and blocks -> JSON, through ``moderation/schemas.py``: members by name only."""

from __future__ import annotations

from peuplade.api.schemas import MemberRefOut, member_ref
from peuplade.models import Block, Member, Report
from peuplade.moderation import schemas as ms
from peuplade.moderation import services
from peuplade.moderation.forms import REASON_SHORT, reported_by


def report(row: Report) -> ms.ReportOut:
    """A report as its reporter filed it."""
    return ms.ReportOut(
        id=row.id,
        type=row.target_type,
        target_id=row.target_id,
        reason=row.reason,
        status=row.status,
        created_at=row.created_at,
    )


def block(block: Block, member: Member) -> ms.BlockOut:
    return ms.BlockOut(
        # No face: a member I blocked is out of my sight (their avatar would be a 404).
        member=MemberRefOut(id=member.id, display_name=member.display_name, avatar_url=None),
        created_at=block.created_at,
    )


def _ref(member: Member | None) -> MemberRefOut | None:
    return None if member is None else member_ref(member)


def queued_report(row: Report, titles: dict[tuple[str, int], str]) -> ms.QueuedReportOut:
    """An open report as a moderator reads it; ``titles``: of the page's targets."""
    return ms.QueuedReportOut(
        id=row.id,
        type=row.target_type,
        target_id=row.target_id,
        target_title=titles.get((row.target_type, row.target_id)),
        target_member=_ref(row.target_member),
        reason=row.reason,
        reason_label=str(REASON_SHORT.get(row.reason, row.reason)),
        by_peuplade=services.by_peuplade(row),
        reporter=_ref(row.reporter),
        reported_by=reported_by(row),
        details=row.details,
        status=row.status,
        created_at=row.created_at,
    )
