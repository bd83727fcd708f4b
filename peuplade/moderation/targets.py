"""What members can report, found by moderation: a registry the features fill in.

Moderation imports no feature. Each feature whose things can be reported registers
each kind here, in its own ``queries`` module, right below the loader it gives::

    targets.register("exchange", get_exchange_or_404)

A loader takes the member reporting and an id, and gives the thing if that member may
see it, else raises ``NotFound`` (as for any page out of their reach). The feature's
own module registers, rather than the app factory: a feature's report targets come and
go with its folder, and moderation's pages and API cannot run without them, since
``create_app`` imports every feature's routes, hence its queries, before the first
request.

The kinds are the models' ``REPORT_TARGETS``. Members ("member") are not registered:
``account`` lies below moderation, which loads profiles itself. What moderation makes
of a thing (its author, its quartier, its title) is ``moderation.queries.find_target``;
what a moderator reads later comes from the models alone (``queries.find_any``).
"""

from __future__ import annotations

from collections.abc import Callable

from peuplade.models import REPORT_TARGETS, Member

Loader = Callable[[Member, int], object]

_LOADERS: dict[str, Loader] = {}


def register(kind: str, load: Loader) -> None:
    """``load(viewer, id)`` finds the ``kind`` thing ``id`` for ``viewer`` (NotFound
    when they may not see it)."""
    if kind not in REPORT_TARGETS or kind == "member":
        raise ValueError(f"not a kind of report target: {kind!r}")
    _LOADERS[kind] = load


def missing() -> list[str]:
    """The kinds of report target no feature has registered ("member" is moderation's own):
    ``create_app`` refuses to start with any (a 500 on the first report otherwise)."""
    return sorted(k for k in REPORT_TARGETS if k != "member" and k not in _LOADERS)


def load(kind: str, viewer: Member, ident: int) -> object:
    """The ``kind`` thing ``ident``, if ``viewer`` may see it (else NotFound)."""
    return _LOADERS[kind](viewer, ident)
