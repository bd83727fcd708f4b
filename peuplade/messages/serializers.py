"""Conversations and messages -> JSON, through ``messages/schemas.py``: the other
participant by name only."""

from __future__ import annotations

from typing import Any

from peuplade.api.schemas import member_ref
from peuplade.messages import schemas as cs
from peuplade.models import Conversation, Member, Message


def _conversation(conversation: Conversation, viewer: Member, unread: int) -> cs.ConversationOut:
    """Seen by one participant: ``with`` is the other one, by name only."""
    about = None
    if conversation.subject_type is not None and conversation.subject_id is not None:
        about = cs.AboutOut(
            type=conversation.subject_type,
            id=conversation.subject_id,
            title=conversation.subject_title,
        )
    return cs.ConversationOut(
        id=conversation.id,
        with_=member_ref(conversation.other(viewer)),
        about=about,
        last_message_at=conversation.last_message_at,
        unread=unread,
    )


def conversation(conversation: Conversation, viewer: Member, unread: int) -> dict[str, Any]:
    return _conversation(conversation, viewer, unread).model_dump(mode="json", by_alias=True)


def conversation_page(rows: list[tuple[Conversation, int]], viewer: Member) -> dict[str, Any]:
    return cs.ConversationPage(
        items=[_conversation(c, viewer, unread) for c, unread in rows]
    ).model_dump(mode="json", by_alias=True)


def _message(note: Message) -> cs.MessageOut:
    return cs.MessageOut(
        id=note.id, author=member_ref(note.author), body=note.body, created_at=note.created_at
    )


def message(note: Message) -> dict[str, Any]:
    return _message(note).model_dump(mode="json")


def message_page(notes: list[Message], next_cursor: str | None) -> dict[str, Any]:
    return cs.MessagePage(items=[_message(m) for m in notes], next_cursor=next_cursor).model_dump(
        mode="json"
    )
