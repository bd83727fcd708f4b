"""Every kind of notification: its wording, its group on the settings page and the
email mode a member gets until they choose.

Texts are built when shown (in the reader's language), from the stored actor, subject
title and day; nothing is stored translated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString


@dataclass(frozen=True)
class Kind:
    name: str
    group: str
    default: str  # "on" | "digest" | "off"
    setting: LazyString  # the settings page's wording: "when ..."
    text: LazyString  # %(who)s, %(what)s and %(day)s are filled in


GROUPS = {
    "exchanges": _l("Mes échanges"),
    "loans": _l("Mes prêts et emprunts"),
    "messages": _l("Messages"),
    "events": _l("Mes sorties"),
    "nearby": _l("Près de chez moi"),
    "safety": _l("Mon compte"),
}

_KINDS = (
    Kind(
        "response",
        "exchanges",
        "on",
        _l("Quelqu'un répond à une de mes annonces"),
        _l("%(who)s a répondu à votre annonce « %(what)s »."),
    ),
    Kind(
        "picked",
        "exchanges",
        "on",
        _l("La personne que j'ai aidée me désigne comme son aide"),
        _l("%(who)s indique que vous l'avez aidé·e pour « %(what)s ». Merci !"),
    ),
    Kind(
        "thanks",
        "exchanges",
        "on",
        _l("On me remercie"),
        _l("%(who)s vous remercie pour « %(what)s »."),
    ),
    Kind(
        "nudge",
        "exchanges",
        "on",
        _l("Une de mes annonces ou un de mes objets va quitter les listes"),
        _l("« %(what)s » quitte les listes le %(day)s : est-ce toujours d'actualité ?"),
    ),
    Kind(
        "loan_requested",
        "loans",
        "on",
        _l("Quelqu'un demande à emprunter un de mes objets"),
        _l("%(who)s voudrait emprunter « %(what)s »."),
    ),
    Kind(
        "loan_accepted",
        "loans",
        "on",
        _l("Mon emprunt est accepté"),
        _l("%(who)s accepte de vous prêter « %(what)s »."),
    ),
    Kind(
        "loan_declined",
        "loans",
        "on",
        _l("Mon emprunt est refusé"),
        _l("%(who)s ne peut pas vous prêter « %(what)s » cette fois-ci."),
    ),
    Kind(
        "loan_handed_over",
        "loans",
        "on",
        _l("On me remet un objet emprunté"),
        _l("%(who)s vous a remis « %(what)s », à rendre le %(day)s."),
    ),
    Kind(
        "loan_returned",
        "loans",
        "on",
        _l("Le retour d'un objet que j'ai emprunté est confirmé"),
        _l("%(who)s confirme le retour de « %(what)s ». Merci !"),
    ),
    Kind(
        "loan_cancelled",
        "loans",
        "on",
        _l("Un prêt est annulé"),
        _l("%(who)s a annulé le prêt de « %(what)s »."),
    ),
    Kind(
        "loan_due_tomorrow",
        "loans",
        "on",
        _l("Un objet emprunté est à rendre demain"),
        _l("« %(what)s » est à rendre demain à %(who)s."),
    ),
    Kind(
        "loan_overdue",
        "loans",
        "on",
        _l("Un objet emprunté est en retard"),
        _l("« %(what)s » devait être rendu à %(who)s le %(day)s."),
    ),
    Kind(
        "message",
        "messages",
        "on",
        _l("On m'écrit"),
        _l("%(who)s vous a écrit."),
    ),
    Kind(
        "rsvp",
        "events",
        "on",
        _l("Quelqu'un vient à une sortie que j'organise"),
        _l("%(who)s vient à votre sortie « %(what)s »."),
    ),
    Kind(
        "matching_request",
        "nearby",
        "digest",
        _l("Une nouvelle demande près de chez moi correspond à mes savoir-faire"),
        _l("Près de chez vous, %(who)s demande un coup de main : « %(what)s »."),
    ),
    Kind(
        "moderation_warning",
        "safety",
        "on",
        _l("La modération m'adresse un avertissement"),
        _l("Avertissement de la modération : « %(what)s »."),
    ),
)

KINDS: dict[str, Kind] = {kind.name: kind for kind in _KINDS}
NAMES = tuple(KINDS)


def text(kind: str, who: str | None, what: str, day: str | None) -> str:
    """The sentence for one notification, in the current language."""
    when = ""
    if day:
        try:
            when = format_date(date.fromisoformat(day), format="long")
        except ValueError:
            when = day
    return str(KINDS[kind].text) % {
        "who": who or _l("Un·e voisin·e"),
        "what": what,
        "day": when,
    }


# Kinds whose lines on one subject come from several neighbours, said in one sentence.
_TWO = {
    "response": _l("%(who)s et %(other)s ont répondu à votre annonce « %(what)s »."),
    "rsvp": _l("%(who)s et %(other)s viennent à votre sortie « %(what)s »."),
}


def _many(kind: str, who: str, others: int, what: str) -> str:
    if kind == "response":
        return ngettext(
            "%(who)s et %(num)s autre voisin ont répondu à votre annonce « %(what)s ».",
            "%(who)s et %(num)s autres voisins ont répondu à votre annonce « %(what)s ».",
            others,
            who=who,
            what=what,
        )
    return ngettext(
        "%(who)s et %(num)s autre voisin viennent à votre sortie « %(what)s ».",
        "%(who)s et %(num)s autres voisins viennent à votre sortie « %(what)s ».",
        others,
        who=who,
        what=what,
    )


def groups_well(kind: str) -> bool:
    """Several neighbours' lines of this kind on one subject make one sentence."""
    return kind in _TWO


def group_text(kind: str, names: list[str | None], what: str) -> str:
    """One sentence for several neighbours (``names``: newest first, two or more):
    "Hugo D. et Sophie M. viennent…", "Hugo D. et 4 autres voisins viennent…"."""
    who = [name or _("Un·e voisin·e") for name in names]
    if len(who) == 2:
        return str(_TWO[kind]) % {"who": who[0], "other": who[1], "what": what}
    return _many(kind, who[0], len(who) - 1, what)
