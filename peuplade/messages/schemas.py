"""Pydantic models of the conversation endpoints (docs/api-contract.md, "Conversations").

Request models hold to all that the document says (lengths and patterns of texts,
ranges); who may write to whom and whether a subject exists are judged by
``messages/services.py``, shared with the HTML pages, and named in the operations'
descriptions.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field

from peuplade.api.schemas import Body, ForYouQuery, Id, MemberRefOut, Timestamp, one_of, text
from peuplade.messages.services import BODY_MAX
from peuplade.models.conversation import SUBJECT_TYPES

MessageText = text(BODY_MAX, 1, description="plain text")


# --- requests --------------------------------------------------------------------------


class AboutBody(Body):
    """What the conversation is about: a post (``exchange``, ``item``, ``event``: its id)
    or a ``loan`` (the loan's id). It must be visible to the sender."""

    type: one_of(SUBJECT_TYPES, _l("Sujet inconnu."))
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


class MessageOut(BaseModel):
    id: int
    author: MemberRefOut
    body: str
    created_at: Timestamp


class MessagePage(BaseModel):
    """Oldest first: newest messages last, as in a chat."""

    items: list[MessageOut]
    next_cursor: str | None
