"""The photos' API (``media/api.py``): its shapes beyond the shared ``PhotoOut`` and
``PhotoForm``."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from peuplade.api.schemas import NO_CONTROL_CHARACTERS, AbsentNotNull, MemberRefOut, PhotoOut
from peuplade.moderation.services import REASON_MAX


class AvatarOut(MemberRefOut):
    """Me as others see me in a list (``avatar_url``: my face), and the photo itself."""

    photo: PhotoOut


class PhotoRemovalQuery(AbsentNotNull):
    """DELETE /photos/{id} query string."""

    model_config = ConfigDict(extra="ignore")

    reason: (
        Annotated[
            str,
            Field(
                max_length=REASON_MAX,
                pattern=NO_CONTROL_CHARACTERS,
                description="a moderator's reason, kept in the moderation log (required from "
                "a moderator who is not the photo's author; ignored otherwise)",
            ),
        ]
        | None
    ) = None
