"""Typed SQLAlchemy 2 models, one module per domain."""

from peuplade.models.base import Base, TimestampMixin, UTCDateTime, utcnow
from peuplade.models.conversation import SUBJECT_TYPES, Conversation, Message
from peuplade.models.exchange import EXCHANGE_KINDS, OUTCOMES, Exchange, ExchangeResponse, Thanks
from peuplade.models.loan import CONDITIONS, HOLDING, LOAN_STATUSES, MAX_LOAN_DAYS, Item, Loan
from peuplade.models.member import (
    RADIUS_DEFAULT_M,
    RADIUS_MAX_M,
    RADIUS_MIN_M,
    ApiToken,
    HomeChange,
    Member,
    MemberSkill,
    MemberTag,
)
from peuplade.models.news import NEWS_KINDS, NEWS_SCOPES, Event, NewsComment, NewsPost, Rsvp
from peuplade.models.notification import (
    EMAIL_MODES,
    EMAIL_STATES,
    NOTIFICATION_SUBJECTS,
    Notification,
    NotificationSetting,
)
from peuplade.models.place import Place
from peuplade.models.post import POST_STATUSES, Post
from peuplade.models.quartier import Quartier

__all__ = [
    "CONDITIONS",
    "EMAIL_MODES",
    "EMAIL_STATES",
    "EXCHANGE_KINDS",
    "HOLDING",
    "LOAN_STATUSES",
    "MAX_LOAN_DAYS",
    "NEWS_KINDS",
    "NEWS_SCOPES",
    "NOTIFICATION_SUBJECTS",
    "OUTCOMES",
    "POST_STATUSES",
    "RADIUS_DEFAULT_M",
    "RADIUS_MAX_M",
    "RADIUS_MIN_M",
    "SUBJECT_TYPES",
    "ApiToken",
    "Base",
    "Conversation",
    "Event",
    "Exchange",
    "ExchangeResponse",
    "HomeChange",
    "Item",
    "Loan",
    "Member",
    "MemberSkill",
    "MemberTag",
    "Message",
    "NewsComment",
    "NewsPost",
    "Notification",
    "NotificationSetting",
    "Place",
    "Post",
    "Quartier",
    "Rsvp",
    "Thanks",
    "TimestampMixin",
    "UTCDateTime",
    "utcnow",
]
