"""Typed SQLAlchemy 2 models, one module per domain."""

from peuplade.models.base import Base, TimestampMixin, UTCDateTime, utcnow
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
from peuplade.models.quartier import Quartier

__all__ = [
    "RADIUS_DEFAULT_M",
    "RADIUS_MAX_M",
    "RADIUS_MIN_M",
    "ApiToken",
    "Base",
    "HomeChange",
    "Member",
    "MemberSkill",
    "MemberTag",
    "Quartier",
    "TimestampMixin",
    "UTCDateTime",
    "utcnow",
]
