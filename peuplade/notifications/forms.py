"""The email settings form: one of three presets for every kind at once, or one
choice per kind of notification."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import Optional

from peuplade.notifications.kinds import KINDS

MODE_CHOICES = (
    ("on", _l("Un email à chaque fois")),
    ("digest", _l("Dans le résumé du jour")),
    ("off", _l("Pas d'email")),
)


# The presets: "recommended" is every kind's own default (what concerns me at once, the
# neighbours' requests matching my know-how in the daily summary: what a new member
# has), the three others the same mode for every kind; "custom" is the state when the
# kinds differ otherwise (shown then, and choosing it keeps the kind-by-kind choices).
RECOMMENDED = "recommended"
PRESETS = (
    (RECOMMENDED, _l("Le réglage conseillé")),
    ("on", _l("Tout de suite")),
    ("digest", _l("Un résumé par jour")),
    ("off", _l("Rien")),
)
CUSTOM = ("custom", _l("Personnalisé"))
PRESET_HINTS = {
    RECOMMENDED: _l(
        "Tout de suite ce qui vous concerne (réponses, prêts, messages) ; les demandes "
        "des voisins qui correspondent à votre savoir-faire dans un résumé par jour."
    ),
    "on": _l("Un email à chaque nouvelle."),
    "digest": _l("Un seul email par jour, qui rassemble tout."),
    "off": _l("Aucun email : tout reste visible sur Peuplade."),
    "custom": _l("Vos choix type par type, ci-dessous."),
}


def preset_of(settings: dict[str, str]) -> str:
    """The preset these choices make, or "custom" when the kinds differ otherwise."""
    if all(settings.get(name) == kind.default for name, kind in KINDS.items()):
        return RECOMMENDED
    modes = set(settings.values())
    return modes.pop() if len(modes) == 1 else CUSTOM[0]


def modes_of(preset: str) -> dict[str, str]:
    """Every kind's mode under ``preset``."""
    if preset == RECOMMENDED:
        return {name: kind.default for name, kind in KINDS.items()}
    return dict.fromkeys(KINDS, preset)


class EmailSettingsForm(FlaskForm):
    """``preset``, then fields named after the kinds (``response``,
    ``loan_requested``...)."""

    preset = RadioField(
        _l("Recevoir des emails"), choices=(*PRESETS, CUSTOM), validators=[Optional()]
    )

    def chosen(self, before: str) -> dict[str, str]:
        """Every kind's mode as submitted: a preset newly chosen (``before`` was the
        state shown) sets every kind; otherwise the kind-by-kind choices."""
        preset = self.preset.data
        if preset != before and preset in dict(PRESETS):
            return modes_of(preset)
        return {name: getattr(self, name).data for name in KINDS}


for _name, _kind in KINDS.items():
    setattr(
        EmailSettingsForm,
        _name,
        RadioField(_kind.setting, choices=MODE_CHOICES, default=_kind.default),
    )


class ButtonForm(FlaskForm):
    """A form that is only a button (keep open, unsubscribe)."""
