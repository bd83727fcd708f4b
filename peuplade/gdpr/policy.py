"""The privacy policy's register of processing, written against the real data model.

Every table of ``peuplade.models`` and every one of its columns is described here: what
it is, why it is kept (purpose and legal basis), for how long, and who can see it. The
page ``/privacy`` is rendered from this register, and ``tests/test_gdpr_policy.py``
fails as soon as a table or a column exists in the models but not here (or the other
way round), so the published policy cannot drift from what is stored.

The retention periods that need a clean-up are enforced by ``flask purge-old-data``
(:func:`peuplade.gdpr.services.purge_old_data`), from the durations in ``RETENTION``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

# --- how long: the durations the purge applies --------------------------------------

RETENTION = {
    # Notifications (in-app, and the outbox of their emails).
    "notifications": timedelta(days=365),
    # Password-reset rows, counted from their expiry (used or not).
    "password_resets": timedelta(days=1),
    # Home changes: only the last 30 days are counted (account.services.home_changes_left).
    "home_changes": timedelta(days=30),
    # A deleted account's home changes, under a keyed hash of its e-mail: the same window.
    "departed_home_changes": timedelta(days=30),
    # Reports, counted from when a moderator handled them.
    "reports": timedelta(days=365),
    # The moderation log; kept longer while the measure it records still applies.
    "moderation_actions": timedelta(days=365),
}

# --- who can see it -----------------------------------------------------------------

SEEN_BY = {
    "you": _l("vous seul·e"),
    "nobody": _l("personne : seule l'application s'en sert"),
    "parties": _l("vous et l'autre personne concernée"),
    "neighbours": _l("les membres de votre voisinage"),
    "moderators": _l("les modératrices, modérateurs et administrateurs"),
    "everyone": _l("tout le monde, même sans compte"),
}

# --- legal bases (article 6.1 of the GDPR) ------------------------------------------

BASES = {
    "contract": _l(
        "Contrat (article 6.1.b du RGPD) : nécessaire au service que vous demandez en vous "
        "inscrivant."
    ),
    "legitimate_interest": _l(
        "Intérêt légitime (article 6.1.f du RGPD) : la sécurité du service et de ses membres."
    ),
    "consent": _l(
        "Consentement (article 6.1.a du RGPD) : facultatif ; vous le retirez à tout moment en "
        "effaçant ces informations."
    ),
}

GROUPS = {
    "account": _l("Votre compte"),
    "security": _l("Connexion et sécurité du compte"),
    "posts": _l("Ce que vous publiez dans le voisinage"),
    "loans": _l("Prêts d'objets"),
    "messages": _l("Messages privés"),
    "notifications": _l("Notifications"),
    "safety": _l("Modération et protection"),
    "reference": _l("Données de référence (sans donnée personnelle)"),
}

# --- retention texts ----------------------------------------------------------------

UNTIL_ACCOUNT_DELETED = _l("Jusqu'à la suppression de votre compte.")
UNTIL_YOU_DELETE = _l(
    "Jusqu'à ce que vous le supprimiez, ou jusqu'à la suppression de votre compte."
)
UNTIL_EITHER_DELETED = _l("Jusqu'à la suppression du compte de l'une des deux personnes.")


@dataclass(frozen=True)
class Column:
    """One column: what it holds, who sees it (None: as its table says), and whether it
    is sensitive (a secret, or tells where someone lives)."""

    what: LazyString
    seen_by: str | None = None
    sensitive: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    group: str
    title: LazyString
    what: LazyString
    why: LazyString
    basis: str
    retention: LazyString
    seen_by: str
    columns: dict[str, Column] = field(default_factory=dict)

    def seen_by_of(self, column: str) -> str:
        return self.columns[column].seen_by or self.seen_by


def col(what: LazyString, seen_by: str | None = None, *, sensitive: bool = False) -> Column:
    return Column(what, seen_by, sensitive)


# Shared descriptions of the columns many tables have.
ID = col(_l("numéro interne"))
CREATED = col(_l("date de création"))
UPDATED = col(_l("date de la dernière modification"))
MEMBER = col(_l("le membre concerné (son numéro)"))
AUTHOR = col(_l("qui l'a écrit (numéro du membre)"))
POST_ID = col(_l("le même numéro que l'annonce (table des annonces)"))
TITLE = col(_l("titre"))
BODY = col(_l("texte"))
HIDDEN = col(_l("date où la modération l'a masqué, le cas échéant"), "moderators")
SECRET_HASH = col(
    _l("empreinte SHA-256 du secret : le secret lui-même n'est jamais enregistré"),
    "nobody",
    sensitive=True,
)
TARGET_TYPE = col(_l("type de ce qui est visé (annonce, objet, commentaire, message, membre…)"))
TARGET_ID = col(_l("numéro de ce qui est visé"))
# A copy of the cells holding the member's PUBLIC position (never the home) on each of
# their skills and keywords: who knows what nearby is found without reading every member.
SKILL_CELLS = {
    "cell_fine": col(
        _l(
            "le carré d'environ 500 m qui contient votre position publique (jamais votre "
            "domicile), pour trouver vite les voisins qui savent faire ça"
        ),
        "nobody",
    ),
    "cell_coarse": col(
        _l("le carré d'environ 2 km qui contient votre position publique, pour la même raison"),
        "nobody",
    ),
    "shown_within_m": col(
        _l(
            "la taille du carré où vous êtes montré (ou « votre quartier »), lue sur votre "
            "position publique : à combien de mètres d'elle votre domicile peut se trouver"
        ),
        "nobody",
    ),
    "public_lat": col(
        _l(
            "la latitude de votre position publique (jamais votre domicile), recopiée ici "
            "pour trouver vite les voisins qui savent faire ça, du plus proche au plus loin"
        ),
        "nobody",
        sensitive=True,
    ),
    "public_lon": col(
        _l("la longitude de votre position publique, pour la même raison"),
        "nobody",
        sensitive=True,
    ),
    "sort_name": col(
        _l("votre nom sans accents ni majuscules, recopié ici pour trier cette liste par nom"),
        "nobody",
    ),
}


TABLES: tuple[Table, ...] = (
    # --- your account ---------------------------------------------------------------
    Table(
        "members",
        "account",
        _l("Votre compte"),
        _l("Votre adresse e-mail, votre nom, votre présentation et votre domicile."),
        _l(
            "Vous connecter, vous montrer aux voisins qui habitent près de chez vous et "
            "vous montrer ce qui se passe autour de votre domicile."
        ),
        "contract",
        UNTIL_ACCOUNT_DELETED,
        "you",
        {
            "id": ID,
            "email": col(
                _l(
                    "votre adresse e-mail : pour vous connecter et recevoir vos "
                    "notifications ; montrée à personne"
                ),
                sensitive=True,
            ),
            "display_name": col(_l("le nom que vous avez choisi (un prénom suffit)"), "neighbours"),
            "sort_name": col(
                _l("ce nom sans accents ni majuscules, pour trier les listes"), "nobody"
            ),
            "password_hash": col(
                _l("empreinte Argon2id de votre mot de passe (jamais le mot de passe lui-même)"),
                "nobody",
                sensitive=True,
            ),
            "bio": col(_l("votre présentation, si vous en écrivez une"), "neighbours"),
            "home": col(
                _l(
                    "votre domicile (un point, pas l'adresse) : ne quitte jamais le serveur, "
                    "sauf pour vous"
                ),
                sensitive=True,
            ),
            "public_position": col(
                _l(
                    "le centre du carré d'environ 200 m où vous habitez (plus grand si peu de "
                    "membres y habitent) : la seule position que les autres peuvent connaître"
                ),
                "neighbours",
                sensitive=True,
            ),
            "radius_m": col(_l("le rayon de votre voisinage, en mètres")),
            "quartier_id": col(_l("votre quartier, trouvé à partir de ce carré"), "neighbours"),
            "locale": col(_l("votre langue")),
            "session_version": col(
                _l("compteur qui met fin à vos sessions quand vous changez de mot de passe"),
                "nobody",
            ),
            "cell_0": col(
                _l(
                    "les carrés de la grille qui contiennent votre domicile, du plus fin au plus "
                    "large : seulement comptés (combien de membres y habitent)"
                ),
                "nobody",
                sensitive=True,
            ),
            "cell_1": col(_l("idem, carré intermédiaire"), "nobody", sensitive=True),
            "cell_2": col(_l("idem, carré le plus large"), "nobody", sensitive=True),
            "status": col(_l("actif, suspendu ou exclu par la modération")),
            "suspended_until": col(_l("fin d'une suspension, le cas échéant")),
            "is_admin": col(_l("administrateur ou non")),
            "email_confirmed_at": col(
                _l(
                    "date où vous avez suivi le lien envoyé à votre adresse e-mail : seuls "
                    "les comptes confirmés comptent pour flouter la position des voisins"
                ),
                "you",
            ),
            "pending_email": col(
                _l(
                    "la nouvelle adresse e-mail que vous avez demandée, tant que vous n'avez "
                    "pas suivi le lien qui lui a été envoyé"
                ),
                "you",
                sensitive=True,
            ),
            "privacy_floor": col(
                _l(
                    "la position la plus précise que vous acceptez de montrer (~200 m, "
                    "~450 m, ~900 m ou votre quartier seulement)"
                ),
                "you",
            ),
            "avatar_key": col(
                _l(
                    "votre photo de profil, si vous en mettez une (le numéro de la photo, "
                    "table des photos) : sans elle, vos initiales sur un disque de couleur"
                ),
                "neighbours",
            ),
            "created_at": col(_l("date d'inscription")),
            "updated_at": UPDATED,
        },
    ),
    Table(
        "member_skills",
        "account",
        _l("Vos savoir-faire"),
        _l("Les savoir-faire que vous cochez (bricolage, jardinage…)."),
        _l("Vous proposer les demandes qui vous correspondent, et vous faire connaître."),
        "consent",
        UNTIL_YOU_DELETE,
        "neighbours",
        {"member_id": MEMBER, "skill": col(_l("le savoir-faire")), **SKILL_CELLS},
    ),
    Table(
        "member_tags",
        "account",
        _l("Vos mots-clés"),
        _l("Les mots-clés libres de votre profil (vélo, tricot…)."),
        _l("Vous faire connaître de vos voisins."),
        "consent",
        UNTIL_YOU_DELETE,
        "neighbours",
        {"member_id": MEMBER, "tag": col(_l("le mot-clé")), **SKILL_CELLS},
    ),
    Table(
        "home_changes",
        "account",
        _l("Changements de domicile"),
        _l("La date de chaque changement de domicile (pas les adresses)."),
        _l(
            "Limiter les changements de domicile, pour qu'un compte ne puisse pas être "
            "promené dans la ville pour deviner où habitent les autres."
        ),
        "legitimate_interest",
        _l(
            "%(days)s jours, puis effacés par la purge quotidienne.",
            days=RETENTION["home_changes"].days,
        ),
        "nobody",
        {"id": ID, "member_id": MEMBER, "changed_at": col(_l("date du changement"))},
    ),
    Table(
        "departed_home_changes",
        "account",
        _l("Changements de domicile d'un compte supprimé"),
        _l(
            "Quand un compte est supprimé : la date de ses changements de domicile des 30 "
            "derniers jours, et celle de la suppression, rangées sous une empreinte de son "
            "adresse e-mail (calculée avec une clé secrète du site ; l'adresse elle-même "
            "n'est pas gardée). Ces lignes ne sont rattachées à aucun compte : aucun export "
            "ne les contient."
        ),
        _l(
            "Que supprimer son compte puis se réinscrire avec la même adresse ne remette "
            "pas à zéro la limite de changements de domicile : sans cela, un compte "
            "pourrait être promené dans la ville pour deviner où habitent les autres."
        ),
        "legitimate_interest",
        _l(
            "%(days)s jours après chaque changement, puis effacés par la purge quotidienne.",
            days=RETENTION["departed_home_changes"].days,
        ),
        "nobody",
        {
            "id": ID,
            "email_key": col(
                _l("empreinte HMAC-SHA256 de l'adresse e-mail (jamais l'adresse)"),
                "nobody",
                sensitive=True,
            ),
            "changed_at": col(_l("date du changement")),
        },
    ),
    Table(
        "privacy_cells",
        "account",
        _l("Carrés de la grille assez peuplés"),
        _l(
            "Les carrés de la grille de confidentialité où vivent assez de membres établis "
            "pour y montrer une position plus précise, et depuis quand. Aucun membre n'y "
            "est nommé."
        ),
        _l(
            "Ne rendre une position plus précise qu'une fois le voisinage stable, pour que "
            "des comptes créés exprès ne puissent pas la préciser."
        ),
        "legitimate_interest",
        _l("Tant que le carré reste assez peuplé ; effacé dès qu'il ne l'est plus."),
        "nobody",
        {
            "key": col(_l("le carré de la grille")),
            "crowded_since": col(_l("depuis quand il compte assez de membres établis")),
        },
    ),
    # --- sign-in and account security --------------------------------------------------
    Table(
        "member_sessions",
        "security",
        _l("Sessions de connexion"),
        _l("Une ligne par navigateur connecté à votre compte."),
        _l(
            "Vous garder connecté, et pouvoir vraiment terminer une session (déconnexion, "
            "changement de mot de passe)."
        ),
        "contract",
        _l(
            "Jusqu'à la déconnexion, au changement de mot de passe ou à la fin de la session "
            "(inactivité ou durée maximale) ; les sessions terminées sont effacées par la "
            "purge quotidienne."
        ),
        "you",
        {
            "id_hash": SECRET_HASH,
            "member_id": MEMBER,
            "created_at": col(_l("début de la session")),
            "last_seen_at": col(_l("dernière activité")),
        },
    ),
    Table(
        "api_tokens",
        "security",
        _l("Jetons d'accès à l'API"),
        _l("Les jetons qu'une application (mobile, script) utilise pour agir en votre nom."),
        _l("Permettre aux applications que vous choisissez d'accéder à votre compte."),
        "contract",
        _l(
            "Jusqu'à leur expiration ou au changement de mot de passe, puis effacés par la "
            "purge quotidienne."
        ),
        "you",
        {
            "id": ID,
            "member_id": MEMBER,
            "token_hash": SECRET_HASH,
            "name": col(_l("le nom que vous avez donné au jeton, le cas échéant")),
            "session_version": col(
                _l("la version de vos sessions quand le jeton a été créé"), "nobody"
            ),
            "created_at": CREATED,
            "expires_at": col(_l("date d'expiration")),
            "last_used_at": col(_l("dernière utilisation (à quelques minutes près)")),
        },
    ),
    Table(
        "password_resets",
        "security",
        _l("Réinitialisations de mot de passe"),
        _l("Les liens « mot de passe oublié » envoyés par e-mail."),
        _l(
            "Vous permettre de retrouver l'accès à votre compte, une seule fois et pour peu "
            "de temps."
        ),
        "contract",
        _l(
            "Un lien ne sert qu'une fois et expire vite ; la ligne est effacée par la purge "
            "quotidienne le lendemain de son expiration."
        ),
        "you",
        {
            "id": ID,
            "member_id": MEMBER,
            "token_hash": SECRET_HASH,
            "created_at": col(_l("date de la demande")),
            "expires_at": col(_l("date d'expiration du lien")),
            "used_at": col(_l("date d'utilisation du lien")),
        },
    ),
    # --- what you publish --------------------------------------------------------------
    Table(
        "posts",
        "posts",
        _l("Annonces (partie commune)"),
        _l(
            "Ce qui est commun à vos demandes et offres de service, objets à prêter, infos "
            "et sorties : auteur, position publique, portée, dates."
        ),
        _l("Montrer vos annonces aux voisins qu'elles concernent."),
        "contract",
        UNTIL_YOU_DELETE,
        "neighbours",
        {
            "id": ID,
            "type": col(_l("échange, objet, info ou sortie")),
            "author_id": AUTHOR,
            "position": col(
                _l(
                    "position publique : le centre de votre carré, ou un lieu public que vous "
                    "avez choisi ; jamais votre domicile"
                ),
                sensitive=True,
            ),
            "place_name": col(_l("le nom du lieu public choisi, le cas échéant")),
            "at_author": col(_l("si l'annonce est montrée à votre position publique (et la suit)")),
            "cell_fine": col(
                _l(
                    "le carré d'environ 500 m qui contient la position publique, pour "
                    "trouver vite les annonces proches"
                )
            ),
            "cell_coarse": col(
                _l("le carré d'environ 2 km qui contient la position publique, pour la même raison")
            ),
            "reach_m": col(_l("jusqu'où l'annonce est montrée, en mètres")),
            "status": col(_l("ouverte, réalisée ou annulée")),
            "expires_at": col(_l("date où elle quitte les listes")),
            "quartier_id": col(_l("le quartier visé, pour une info adressée à tout un quartier")),
            "is_alert": col(
                _l("si c'est une info de type « Alerte », épinglée en tête du fil 48 heures")
            ),
            "hidden_at": HIDDEN,
            "submission_key": col(
                _l(
                    "un jeton aléatoire du formulaire, pour qu'un double clic ne publie pas "
                    "deux fois"
                )
            ),
            "share_token": col(
                _l(
                    "si vous avez rendu l'annonce partageable hors de Peuplade : la partie "
                    "aléatoire de son lien de partage, qui montre à qui l'ouvre le titre, le "
                    "genre et le quartier de l'annonce, jamais votre nom ni une position"
                )
            ),
            "share_photo": col(
                _l("si ce lien de partage montre aussi la première photo de l'annonce")
            ),
            "created_at": CREATED,
            "updated_at": UPDATED,
        },
    ),
    Table(
        "exchanges",
        "posts",
        _l("Demandes et offres de service"),
        _l("Le détail de vos demandes et offres d'entraide."),
        _l("Trouver de l'aide près de chez vous, ou en proposer."),
        "contract",
        UNTIL_YOU_DELETE,
        "neighbours",
        {
            "id": POST_ID,
            "kind": col(_l("demande ou offre")),
            "title": TITLE,
            "body": BODY,
            "category": col(_l("catégorie")),
            "starts_on": col(_l("à partir de quand (facultatif)")),
            "ends_on": col(_l("jusqu'à quand (facultatif)")),
            "helper_id": col(_l("le voisin qui a aidé, si l'auteur le nomme")),
            "closed_at": col(_l("date de clôture")),
            "on_behalf_of": col(
                _l("le nom du voisin sans internet pour qui vous publiez, le cas échéant")
            ),
            "behalf_consent_at": col(_l("quand vous avez confirmé que ce voisin était d'accord")),
            "matched_at": col(
                _l("quand les voisins qui savent faire ça ont été prévenus de votre demande")
            ),
        },
    ),
    Table(
        "exchange_responses",
        "posts",
        _l("Réponses aux demandes et offres"),
        _l("Votre « je peux vous aider » (ou « ça m'intéresse ») et son message."),
        _l("Mettre en relation l'auteur de l'annonce et les voisins qui répondent."),
        "contract",
        UNTIL_EITHER_DELETED,
        "parties",
        {
            "id": ID,
            "exchange_id": col(_l("l'annonce à laquelle vous répondez")),
            "author_id": AUTHOR,
            "message": col(_l("votre message")),
            "created_at": CREATED,
        },
    ),
    Table(
        "thanks",
        "posts",
        _l("Remerciements"),
        _l("Les mots de remerciement après un échange réalisé."),
        _l("Dire merci, et montrer sur un profil l'aide déjà donnée."),
        "contract",
        UNTIL_EITHER_DELETED,
        "neighbours",
        {
            "id": ID,
            "exchange_id": col(_l("l'échange concerné")),
            "from_member_id": col(_l("qui remercie")),
            "to_member_id": col(_l("qui est remercié")),
            "message": col(_l("le mot de remerciement")),
            "created_at": CREATED,
        },
    ),
    Table(
        "items",
        "posts",
        _l("Objets à prêter"),
        _l("Les objets que vous proposez de prêter."),
        _l("Partager des objets entre voisins."),
        "contract",
        UNTIL_YOU_DELETE,
        "neighbours",
        {
            "id": POST_ID,
            "title": TITLE,
            "description": col(_l("description")),
            "category": col(_l("catégorie")),
            "condition": col(_l("état de l'objet")),
            "notes": col(_l("vos remarques (caution, mode d'emploi…)")),
            "available": col(_l("disponible ou non")),
        },
    ),
    Table(
        "news_posts",
        "posts",
        _l("Infos du quartier"),
        _l("Les infos que vous publiez (alerte, perdu-trouvé, vie de quartier…)."),
        _l(
            "Informer vos voisins. Une info adressée à tout un quartier figure aussi dans le "
            "flux Atom public du quartier, sans le nom de son auteur."
        ),
        "contract",
        UNTIL_YOU_DELETE,
        "neighbours",
        {
            "id": POST_ID,
            "kind": col(_l("genre d'info")),
            "title": TITLE,
            "body": BODY,
            "link": col(_l("un lien, si vous en donnez un")),
        },
    ),
    Table(
        "news_comments",
        "posts",
        _l("Commentaires des infos"),
        _l("Vos commentaires sous les infos du quartier."),
        _l("Échanger entre voisins sur une info."),
        "contract",
        UNTIL_YOU_DELETE,
        "neighbours",
        {
            "id": ID,
            "news_id": col(_l("l'info commentée")),
            "author_id": AUTHOR,
            "body": BODY,
            "created_at": CREATED,
            "hidden_at": HIDDEN,
            "submission_key": col(
                _l(
                    "un jeton aléatoire du formulaire, pour qu'un double clic ne publie pas "
                    "deux fois"
                )
            ),
        },
    ),
    Table(
        "events",
        "posts",
        _l("Sorties"),
        _l("Les sorties que vous organisez, dans un lieu public."),
        _l("Organiser des sorties entre voisins."),
        "contract",
        UNTIL_YOU_DELETE,
        "neighbours",
        {
            "id": POST_ID,
            "title": TITLE,
            "body": BODY,
            "starts_at": col(_l("début")),
            "ends_at": col(_l("fin (facultative)")),
            "capacity": col(_l("nombre de places (facultatif)")),
        },
    ),
    Table(
        "rsvps",
        "posts",
        _l("Réponses aux sorties"),
        _l("Si vous allez à une sortie, ou non."),
        _l("Dire à l'organisateur et aux voisins qui vient."),
        "contract",
        UNTIL_YOU_DELETE,
        "neighbours",
        {
            "id": ID,
            "event_id": col(_l("la sortie")),
            "member_id": MEMBER,
            "going": col(_l("j'y vais, ou je n'y vais pas")),
            "created_at": CREATED,
            "updated_at": UPDATED,
        },
    ),
    Table(
        "photos",
        "posts",
        _l("Photos"),
        _l(
            "Les photos de vos annonces, objets, infos et sorties, et votre photo de profil : "
            "chacune refaite par le serveur en une photo d'au plus 1600 pixels et une "
            "vignette de 400 pixels, avec sa description. Aucune métadonnée n'est gardée : "
            "la position GPS, l'appareil, la date de prise de vue et tout le reste sont "
            "effacés à l'envoi."
        ),
        _l(
            "Montrer l'objet, la demande, l'animal perdu ou la sortie aux voisins qui voient "
            "l'annonce, et votre visage à ceux qui voient votre profil."
        ),
        "contract",
        _l(
            "Aussi longtemps que l'annonce ou le compte (vous pouvez retirer une photo à tout "
            "moment). Les photos envoyées avec un formulaire qui n'a pas abouti sont gardées "
            "un jour pour ce formulaire, puis effacées par la purge quotidienne."
        ),
        "neighbours",
        {
            "id": ID,
            "member_id": col(_l("qui l'a envoyée (numéro du membre)")),
            "post_id": col(_l("l'annonce qu'elle illustre ; vide pour une photo de profil")),
            "staged_key": col(
                _l(
                    "le formulaire pour lequel elle est gardée, s'il n'a pas encore abouti "
                    "(vous seul·e la voyez alors)"
                ),
                "you",
            ),
            "position": col(_l("son rang parmi les photos de l'annonce")),
            "alt": col(_l("sa description, lue par les lecteurs d'écran")),
            "token": col(
                _l("un jeton aléatoire dans son adresse, qui change avec la photo"), "nobody"
            ),
            "content_type": col(_l("son format (JPEG)")),
            "width": col(_l("largeur, en pixels")),
            "height": col(_l("hauteur, en pixels")),
            "thumb_width": col(_l("largeur de la vignette")),
            "thumb_height": col(_l("hauteur de la vignette")),
            "byte_size": col(_l("taille du fichier")),
            "thumb_byte_size": col(_l("taille de la vignette")),
            "digest": col(_l("empreinte SHA-256 de la photo, pour les caches"), "nobody"),
            "thumb_digest": col(_l("empreinte SHA-256 de la vignette"), "nobody"),
            "data": col(
                _l(
                    "la photo refaite par le serveur, sans aucune métadonnée (ou dans un "
                    "dossier du serveur, selon l'installation)"
                )
            ),
            "thumb_data": col(_l("sa vignette, refaite de même")),
            "created_at": CREATED,
            "updated_at": UPDATED,
        },
    ),
    # --- loans -------------------------------------------------------------------------
    Table(
        "loans",
        "loans",
        _l("Prêts"),
        _l("Chaque emprunt d'un objet, de la demande au retour."),
        _l("Organiser le prêt entre le prêteur et l'emprunteur, et en garder l'historique."),
        "contract",
        UNTIL_EITHER_DELETED,
        "parties",
        {
            "id": ID,
            "item_id": col(_l("l'objet prêté")),
            "lender_id": col(_l("le prêteur")),
            "borrower_id": col(_l("l'emprunteur")),
            "start": col(_l("premier jour")),
            "due": col(_l("jour du retour prévu")),
            "status": col(_l("demandé, accepté, refusé, prêté, rendu ou annulé")),
            "message": col(_l("le message de la demande")),
            "decided_at": col(_l("date de la réponse du prêteur")),
            "lent_at": col(_l("date de la remise de l'objet")),
            "returned_at": col(_l("date du retour")),
            "created_at": CREATED,
            "updated_at": UPDATED,
        },
    ),
    # --- private messages --------------------------------------------------------------
    Table(
        "conversations",
        "messages",
        _l("Conversations"),
        _l("Une conversation privée entre deux membres, parfois à propos d'une annonce."),
        _l("Vous permettre d'écrire à un voisin sans donner votre adresse e-mail."),
        "contract",
        UNTIL_EITHER_DELETED,
        "parties",
        {
            "id": ID,
            "member_a_id": col(_l("l'une des deux personnes")),
            "member_b_id": col(_l("l'autre personne")),
            "subject_type": col(_l("type de l'annonce dont il est question, le cas échéant")),
            "subject_id": col(_l("numéro de cette annonce")),
            "subject_title": col(_l("titre de cette annonce au début de la conversation")),
            "created_at": CREATED,
            "last_message_at": col(_l("date du dernier message")),
            "a_read_at": col(_l("quand la première personne l'a lue pour la dernière fois")),
            "b_read_at": col(_l("quand la seconde personne l'a lue pour la dernière fois")),
        },
    ),
    Table(
        "messages",
        "messages",
        _l("Messages"),
        _l("Les messages d'une conversation."),
        _l("Vous permettre d'écrire à un voisin. Un message signalé est lu par la modération."),
        "contract",
        UNTIL_EITHER_DELETED,
        "parties",
        {
            "id": ID,
            "conversation_id": col(_l("la conversation")),
            "author_id": AUTHOR,
            "body": BODY,
            "created_at": col(_l("date d'envoi")),
            "hidden_at": HIDDEN,
            "submission_key": col(
                _l(
                    "un jeton aléatoire du formulaire, pour qu'un double clic ne publie pas "
                    "deux fois"
                )
            ),
        },
    ),
    # --- notifications -----------------------------------------------------------------
    Table(
        "notifications",
        "notifications",
        _l("Notifications"),
        _l(
            "Ce qu'on vous signale (une réponse, une étape d'un prêt, un message…), dans "
            "l'application et par e-mail."
        ),
        _l("Vous tenir au courant de ce qui vous concerne."),
        "contract",
        _l("Un an, puis effacées par la purge quotidienne."),
        "you",
        {
            "id": ID,
            "member_id": col(_l("à qui elle s'adresse")),
            "kind": col(_l("de quoi il s'agit")),
            "actor_id": col(_l("qui a agi (son nom est montré, jamais son adresse)")),
            "subject_type": col(_l("type de ce dont il est question")),
            "subject_id": col(_l("numéro de ce dont il est question")),
            "subject_title": col(_l("son titre à ce moment-là")),
            "detail": col(_l("une date mentionnée (retour prévu, expiration)")),
            "dedupe_key": col(_l("clé qui évite d'envoyer deux fois le même rappel"), "nobody"),
            "created_at": CREATED,
            "read_at": col(_l("date de lecture")),
            "email_state": col(_l("où en est l'e-mail (à envoyer, envoyé, dans le résumé…)")),
            "email_attempts": col(_l("nombre d'essais d'envoi de l'e-mail")),
            "email_claimed_at": col(_l("début du dernier essai d'envoi"), "nobody"),
            "emailed_at": col(_l("date d'envoi de l'e-mail")),
            "email_error": col(
                _l("le type de la dernière erreur d'envoi (jamais le texte du serveur)"), "nobody"
            ),
        },
    ),
    Table(
        "notification_settings",
        "notifications",
        _l("Vos choix d'e-mails"),
        _l("Pour chaque type de notification : un e-mail à chaque fois, un résumé ou rien."),
        _l("Respecter vos choix de notification."),
        "consent",
        UNTIL_ACCOUNT_DELETED,
        "you",
        {
            "member_id": MEMBER,
            "kind": col(_l("type de notification")),
            "email": col(_l("à chaque fois, dans le résumé du jour, ou jamais")),
        },
    ),
    # --- moderation and protection -----------------------------------------------------
    Table(
        "blocks",
        "safety",
        _l("Blocages"),
        _l("Les membres que vous avez bloqués. La personne bloquée n'en est pas informée."),
        _l("Vous protéger : un membre bloqué ne peut plus vous écrire ni voir vos annonces."),
        "legitimate_interest",
        _l(
            "Tant que le blocage dure (vous pouvez le lever), ou jusqu'à la suppression de "
            "l'un des deux comptes."
        ),
        "you",
        {
            "blocker_id": col(_l("qui bloque")),
            "blocked_id": col(_l("qui est bloqué")),
            "created_at": CREATED,
        },
    ),
    Table(
        "reports",
        "safety",
        _l("Signalements"),
        _l("Les signalements d'un contenu ou d'un membre à la modération."),
        _l("Faire respecter les règles du voisinage et protéger ses membres."),
        "legitimate_interest",
        _l(
            "Tant qu'il n'est pas traité, puis un an après son traitement (effacé par la "
            "purge quotidienne). Qui a signalé n'est jamais dit à la personne signalée."
        ),
        "moderators",
        {
            "id": ID,
            "reporter_id": col(_l("qui signale (vous voyez vos propres signalements)")),
            "target_type": TARGET_TYPE,
            "target_id": TARGET_ID,
            "target_member_id": col(_l("qui a écrit ce qui est signalé")),
            "reason": col(
                _l(
                    "motif (indésirable, abus, danger, vie privée, autre ; ou inscriptions "
                    "groupées, signalées par Peuplade elle-même, sans personne qui signale)"
                )
            ),
            "details": col(_l("précisions de la personne qui signale")),
            "quartier_id": col(_l("le quartier dont la modération s'en occupe")),
            "status": col(_l("ouvert, traité ou classé")),
            "created_at": CREATED,
            "handled_by_id": col(_l("qui l'a traité")),
            "handled_at": col(_l("date du traitement")),
        },
    ),
    Table(
        "moderation_actions",
        "safety",
        _l("Journal de modération"),
        _l(
            "Chaque décision de modération : qui, quoi, quand et pourquoi (masquer, "
            "avertir, suspendre, exclure…)."
        ),
        _l("Pouvoir rendre compte de chaque décision de modération, et la contester."),
        "legitimate_interest",
        _l(
            "Un an, puis effacé par la purge quotidienne ; tant que dure une suspension ou "
            "une exclusion, ce qui la concerne est gardé."
        ),
        "moderators",
        {
            "id": ID,
            "moderator_id": col(_l("qui a décidé")),
            "action": col(_l("la décision")),
            "target_type": TARGET_TYPE,
            "target_id": TARGET_ID,
            "member_id": col(_l("le membre concerné")),
            "report_id": col(_l("le signalement à l'origine, le cas échéant")),
            "reason": col(_l("la raison donnée")),
            "until": col(_l("fin d'une suspension")),
            "created_at": col(_l("date de la décision")),
        },
    ),
    Table(
        "moderators",
        "safety",
        _l("Modératrices et modérateurs"),
        _l("Qui modère quel quartier."),
        _l("Confier la modération de chaque quartier à des voisins."),
        "legitimate_interest",
        _l("Tant que la personne modère ce quartier."),
        "moderators",
        {"member_id": MEMBER, "quartier_id": col(_l("le quartier modéré"))},
    ),
    # --- reference data ----------------------------------------------------------------
    Table(
        "quartiers",
        "reference",
        _l("Quartiers"),
        _l("Les contours des quartiers (données publiques de la ville)."),
        _l("Trouver le quartier d'un carré de la grille, et adresser une info à un quartier."),
        "legitimate_interest",
        _l("Tant qu'ils servent."),
        "everyone",
        {
            "id": ID,
            "slug": col(_l("nom court, pour les adresses web")),
            "name": col(_l("nom, tel que les données d'origine l'écrivent")),
            "display_name": col(_l("nom affiché, avec ses accents")),
            "source_ref": col(_l("référence dans les données d'origine")),
            "arrondissement": col(_l("arrondissement")),
            "geom": col(_l("contour")),
            "created_at": CREATED,
            "updated_at": UPDATED,
        },
    ),
    Table(
        "places",
        "reference",
        _l("Lieux publics"),
        _l("Places, squares, stations… qu'un auteur peut choisir au lieu de son carré."),
        _l("Montrer une annonce à un lieu public plutôt qu'à côté de chez vous."),
        "legitimate_interest",
        _l("Tant qu'ils servent."),
        "everyone",
        {
            "id": ID,
            "name": col(_l("nom")),
            "source_ref": col(_l("référence dans les données d'origine")),
            "position": col(_l("position du lieu")),
        },
    ),
)

REGISTRY: dict[str, Table] = {table.name: table for table in TABLES}


def grouped() -> list[tuple[LazyString, list[Table]]]:
    """The register for the page: groups in a fixed order, tables in register order."""
    return [
        (title, [t for t in TABLES if t.group == key])
        for key, title in GROUPS.items()
        if any(t.group == key for t in TABLES)
    ]
