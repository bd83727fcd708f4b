"""Pydantic models of the GDPR endpoints: my data export, and deleting my account.

The export is built by ``gdpr.services.export`` (shared with the HTML download); these
models document it in the OpenAPI document, and ``tests/test_gdpr_export.py`` checks
that a real export has exactly these fields (``extra="forbid"`` throughout).

Other members appear in an export only as a pseudonymous label ("voisin·e n°1"), never
by name, id, e-mail or position; what they wrote is left out (GDPR art. 20(4)).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from peuplade.account.schemas import Password
from peuplade.api.schemas import Body, PositionOut, QuartierOut, Timestamp

# A pseudonymous label for another member, the same one throughout one export.
Label = str


# --- requests --------------------------------------------------------------------------


class DeleteMeBody(Body):
    """DELETE /me: the account's password, asked again."""

    password: Password


# --- the export ------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExportAccountOut(_Out):
    id: int
    email: str
    email_confirmed_at: Timestamp | None = Field(
        description="when you followed the link sent to this address; null: not yet"
    )
    pending_email: str | None = Field(
        description="a new address you asked for, until you follow the link sent to it"
    )
    display_name: str
    bio: str
    radius_m: int
    locale: str | None
    skills: list[str]
    tags: list[str]
    home: PositionOut = Field(description="your own home: in your export only")
    public_position: PositionOut
    quartier: QuartierOut | None
    status: str
    suspended_until: Timestamp | None
    is_admin: bool
    moderates: list[str] = Field(description="slugs of the quartiers you moderate")
    created_at: Timestamp
    updated_at: Timestamp


class HomeChangeOut(_Out):
    changed_at: Timestamp


class TokenMetaOut(_Out):
    id: int
    name: str | None
    created_at: Timestamp
    expires_at: Timestamp
    last_used_at: Timestamp | None


class SessionMetaOut(_Out):
    created_at: Timestamp
    last_seen_at: Timestamp


class PasswordResetMetaOut(_Out):
    created_at: Timestamp
    expires_at: Timestamp
    used_at: Timestamp | None


class _PostOut(_Out):
    id: int
    status: str
    position: PositionOut
    place_name: str | None
    reach_m: int
    created_at: Timestamp
    updated_at: Timestamp
    expires_at: Timestamp | None
    hidden_at: Timestamp | None


class ReceivedOut(_Out):
    """Someone answered or commented: who (a label) and when, not what they wrote."""

    from_: Label = Field(alias="from")
    created_at: Timestamp


class ExportExchangeOut(_PostOut):
    kind: str
    title: str
    body: str
    category: str
    starts_on: date | None
    ends_on: date | None
    closed_at: Timestamp | None
    helper: Label | None
    on_behalf_of: str | None
    behalf_consent_at: Timestamp | None
    responses_received: list[ReceivedOut]


class ExportResponseOut(_Out):
    exchange_id: int
    exchange_title: str
    message: str
    created_at: Timestamp


class HelpedOut(_Out):
    exchange_id: int
    exchange_title: str
    author: Label
    closed_at: Timestamp | None


class ThanksGivenOut(_Out):
    exchange_id: int
    exchange_title: str
    to: Label
    message: str
    created_at: Timestamp


class ThanksReceivedOut(_Out):
    exchange_id: int
    exchange_title: str
    from_: Label = Field(alias="from")
    created_at: Timestamp


class ExportItemOut(_PostOut):
    title: str
    description: str
    category: str
    condition: str
    notes: str
    available: bool


class ExportLoanOut(_Out):
    id: int
    item_id: int
    item_title: str
    role: str = Field(json_schema_extra={"enum": ["lender", "borrower"]})
    other_party: Label
    start: date
    due: date
    status: str
    message: str | None = Field(description="the request's message, when you wrote it")
    decided_at: Timestamp | None
    lent_at: Timestamp | None
    returned_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class ExportNewsOut(_PostOut):
    kind: str
    title: str
    body: str
    link: str | None
    scope: str
    comments_received: list[ReceivedOut]


class ExportCommentOut(_Out):
    news_id: int
    news_title: str
    body: str
    created_at: Timestamp
    hidden_at: Timestamp | None


class ExportEventOut(_PostOut):
    title: str
    body: str
    starts_at: Timestamp
    ends_at: Timestamp | None
    capacity: int | None
    going_count: int


class ExportRsvpOut(_Out):
    event_id: int
    event_title: str
    event_starts_at: Timestamp
    going: bool
    created_at: Timestamp
    updated_at: Timestamp


class ExportMessageOut(_Out):
    """Yours in full; the other person's: only that they wrote, and when."""

    mine: bool
    author: Label | None
    body: str | None
    created_at: Timestamp
    hidden_at: Timestamp | None


class ExportConversationOut(_Out):
    id: int
    with_: Label = Field(alias="with")
    subject_type: str | None
    subject_id: int | None
    subject_title: str | None
    created_at: Timestamp
    last_message_at: Timestamp
    read_at: Timestamp | None
    messages: list[ExportMessageOut]


class ExportNotificationSubjectOut(_Out):
    type: str
    id: int | None
    title: str


class ExportNotificationOut(_Out):
    id: int
    kind: str
    text: str
    subject: ExportNotificationSubjectOut | None
    created_at: Timestamp
    read_at: Timestamp | None
    email_state: str
    emailed_at: Timestamp | None


class ExportReportOut(_Out):
    target_type: str
    target_id: int
    reason: str
    details: str
    status: str
    created_at: Timestamp


class ExportBlockOut(_Out):
    member: Label
    created_at: Timestamp


class ModerationDecisionOut(_Out):
    action: str
    target_type: str
    target_id: int
    reason: str
    until: Timestamp | None
    created_at: Timestamp


class ExportPhotoPostOut(_Out):
    type: str = Field(json_schema_extra={"enum": ["exchange", "item", "news", "event"]})
    id: int


class ExportPhotoOut(_Out):
    """A photo I sent, as stored: cleaned on upload, without any metadata."""

    id: int
    of: str = Field(
        json_schema_extra={"enum": ["post", "avatar", "staged"]},
        description=(
            "post: a photo of one of my posts; avatar: my face; staged: sent with a form "
            "not sent yet, kept a day for it"
        ),
    )
    post: ExportPhotoPostOut | None = Field(description="the post it shows (of = post)")
    alt: str = Field(description="its description, read out by screen readers")
    width: int
    height: int
    created_at: Timestamp
    file: str | None = Field(
        description=(
            "its file in the ZIP archive of the HTML download (photos/<id>.jpg); null "
            "when the file is missing"
        )
    )
    url: str = Field(description="where to download it (with the same token or session)")


class ExportOut(_Out):
    """Everything Peuplade stores about you (GDPR articles 15 and 20)."""

    format: str = Field(json_schema_extra={"const": "peuplade-export"})
    version: int
    generated_at: Timestamp
    notice: str
    account: ExportAccountOut
    home_changes: list[HomeChangeOut]
    api_tokens: list[TokenMetaOut]
    sessions: list[SessionMetaOut]
    password_resets: list[PasswordResetMetaOut]
    exchanges: list[ExportExchangeOut]
    responses: list[ExportResponseOut]
    helped: list[HelpedOut]
    thanks_given: list[ThanksGivenOut]
    thanks_received: list[ThanksReceivedOut]
    items: list[ExportItemOut]
    loans: list[ExportLoanOut]
    news: list[ExportNewsOut]
    comments: list[ExportCommentOut]
    events: list[ExportEventOut]
    rsvps: list[ExportRsvpOut]
    conversations: list[ExportConversationOut]
    notifications: list[ExportNotificationOut]
    notification_settings: dict[str, str]
    reports: list[ExportReportOut]
    blocks: list[ExportBlockOut]
    moderation_decisions: list[ModerationDecisionOut]
    photos: list[ExportPhotoOut]
