"""Who is asking, kept as plain values for the rest of the request.

The member behind a request is an ORM object, and an ORM object can become unreadable
under the request's feet: after a failed flush or commit (a unique or exclusion
violation, a serialization failure, a lost connection) its attributes are expired and
the session refuses to load them until it is rolled back. Whatever the rest of the
request needs about the member just to answer - their language for the message, their
id for the logs - is copied here the moment they are authenticated (a session cookie in
``auth.sessions``, a bearer token in ``auth.bearer``), so that no answer, the answer to a
refused write above all, ever has to ask the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g
from flask_babel import refresh

_KEY = "peuplade_viewer"


@dataclass(frozen=True)
class Viewer:
    id: int
    locale: str | None


def remember(member) -> None:
    """``member`` is the one asking from now on; the language is chosen again for them."""
    setattr(g, _KEY, Viewer(id=member.id, locale=member.locale))
    refresh()  # a language picked earlier in the request was picked for nobody


def forget() -> None:
    """Nobody is logged in any more (logout, a closed account)."""
    g.pop(_KEY, None)
    refresh()


def current() -> Viewer | None:
    """The member asking, as remembered at authentication; None for a visitor."""
    return g.get(_KEY)
