"""Typed SQLAlchemy 2 models, one module per domain."""

from peuplade.models.base import Base, TimestampMixin, UTCDateTime, utcnow
from peuplade.models.conversation import SUBJECT_TYPES, Conversation, Message
from peuplade.models.exchange import EXCHANGE_KINDS, OUTCOMES, Exchange, ExchangeResponse, Thanks
from peuplade.models.loan import CONDITIONS, HOLDING, LOAN_STATUSES, MAX_LOAN_DAYS, Item, Loan
from peuplade.models.member import (
    PRIVACY_FLOORS,
    RADIUS_DEFAULT_M,
    RADIUS_MAX_M,
    RADIUS_MIN_M,
    ApiToken,
    DepartedHomeChange,
    HomeChange,
    Member,
    MemberSession,
    MemberSkill,
    MemberTag,
    PasswordReset,
    PrivacyCell,
)
from peuplade.models.moderation import (
    MODERATION_ACTIONS,
    REPORT_REASONS,
    REPORT_STATUSES,
    REPORT_TARGETS,
    Block,
    ModerationAction,
    Moderator,
    Report,
)
from peuplade.models.news import NEWS_KINDS, NEWS_SCOPES, Event, NewsComment, NewsPost, Rsvp
from peuplade.models.notification import (
    EMAIL_MODES,
    EMAIL_STATES,
    NOTIFICATION_SUBJECTS,
    Notification,
    NotificationSetting,
)
from peuplade.models.photo import ALT_MAX, Photo
from peuplade.models.place import Place
from peuplade.models.post import POST_STATUSES, Post
from peuplade.models.quartier import Quartier

__all__ = [
    "ALT_MAX",
    "CONDITIONS",
    "EMAIL_MODES",
    "EMAIL_STATES",
    "EXCHANGE_KINDS",
    "HOLDING",
    "LOAN_STATUSES",
    "MAX_LOAN_DAYS",
    "MODERATION_ACTIONS",
    "NEWS_KINDS",
    "NEWS_SCOPES",
    "NOTIFICATION_SUBJECTS",
    "OUTCOMES",
    "POST_STATUSES",
    "PRIVACY_FLOORS",
    "RADIUS_DEFAULT_M",
    "RADIUS_MAX_M",
    "RADIUS_MIN_M",
    "REPORT_REASONS",
    "REPORT_STATUSES",
    "REPORT_TARGETS",
    "SUBJECT_TYPES",
    "ApiToken",
    "Base",
    "Block",
    "Conversation",
    "DepartedHomeChange",
    "Event",
    "Exchange",
    "ExchangeResponse",
    "HomeChange",
    "Item",
    "Loan",
    "Member",
    "MemberSession",
    "MemberSkill",
    "MemberTag",
    "Message",
    "ModerationAction",
    "Moderator",
    "NewsComment",
    "NewsPost",
    "Notification",
    "NotificationSetting",
    "PasswordReset",
    "Photo",
    "Place",
    "Post",
    "PrivacyCell",
    "Quartier",
    "Report",
    "Rsvp",
    "Thanks",
    "TimestampMixin",
    "UTCDateTime",
    "utcnow",
]
