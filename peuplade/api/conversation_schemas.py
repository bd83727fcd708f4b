"""Pydantic models of the conversation endpoints (docs/api-contract.md, "Conversations").

Request models check types and shapes only; the message length, who may write to whom
and whether a subject exists are judged by ``messages/services.py``, shared with the
HTML pages (one rule, one message).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from peuplade.api.exchange_schemas import MAX_ID, ForYouQuery, MemberRefOut
from peuplade.api.schemas import Body, Timestamp
from peuplade.messages.services import BODY_MAX
from peuplade.models.conversation import SUBJECT_TYPES

Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
MessageText = Annotated[
    StrictStr,
    Field(description="plain text", json_schema_extra={"minLength": 1, "maxLength": BODY_MAX}),
]


# --- requests --------------------------------------------------------------------------


class AboutBody(Body):
    """What the conversation is about: a post (``exchange``, ``item``, ``event``: its id)
    or a ``loan`` (the loan's id). It must be visible to the sender."""

    type: Annotated[StrictStr, Field(json_schema_extra={"enum": list(SUBJECT_TYPES)})]
    id: Id


class StartBody(Body):
    """POST /conversations: write to a member, optionally about something."""

    member_id: Id
    about: AboutBody | None = None
    message: MessageText


class MessageBody(Body):
    """POST /conversations/{id}/messages."""

    message: MessageText


class MessagesQuery(ForYouQuery):
    """GET /conversations/{id}/messages query string."""


# --- responses -------------------------------------------------------------------------


class AboutOut(BaseModel):
    """The subject, with its title as it was when the conversation started."""

    type: str = Field(json_schema_extra={"enum": list(SUBJECT_TYPES)})
    id: int
    title: str | None


class ConversationOut(BaseModel):
    """One of my conversations: ``with`` is the other participant (a name, never a
    position); ``unread`` counts their messages I have not read yet."""

    model_config = ConfigDict(populate_by_name=True)

    id: int
    with_: MemberRefOut = Field(alias="with")
    about: AboutOut | None
    last_message_at: Timestamp
    unread: int


class ConversationPage(BaseModel):
    """Latest message first. One page: ``next_cursor`` is always null."""

    items: list[ConversationOut]
    next_cursor: None = None


class UnreadOut(BaseModel):
    unread: int


class MessageOut(BaseModel):
    id: int
    author: MemberRefOut
    body: str
    created_at: Timestamp


class MessagePage(BaseModel):
    """Oldest first: newest messages last, as in a chat."""

    items: list[MessageOut]
    next_cursor: str | None
