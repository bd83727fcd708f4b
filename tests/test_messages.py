"""Private conversations: who may write to whom, subjects, unread counts, privacy."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from peuplade.errors import Forbidden, NotFound, ValidationFailed
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.messages import queries, services
from peuplade.models import Message
from tests.conftest import CLICHY, DAMES_LEMERCIER, FAR_AWAY


def _inbox(member) -> list[tuple[int, int]]:
    return [(c.id, unread) for c, unread in db.session.execute(queries.inbox(member))]


def test_neighbours_write_and_read(app, make_member):
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    bruno = make_member("Bruno", at=CLICHY)
    talk = services.start(anne, bruno, "Bonjour, vous avez toujours l'échelle ?")
    db.session.commit()
    assert _inbox(bruno) == [(talk.id, 1)]
    assert _inbox(anne) == [(talk.id, 0)]  # my own message is not unread for me
    services.write(talk, bruno, "Oui, passez quand vous voulez.")
    services.write(talk, bruno, "Je suis là ce soir.")
    db.session.commit()
    assert queries.unread_total(anne) == 2
    services.mark_read(talk, anne)
    db.session.commit()
    assert queries.unread_total(anne) == 0
    bodies = [m.body for m in db.session.scalars(queries.messages(talk))]
    assert bodies[-1] == "Je suis là ce soir."  # newest last
    # Writing again about nothing in particular goes on in the same conversation.
    assert services.start(bruno, anne, "Au fait, merci !").id == talk.id


def test_only_participants_read_a_conversation(app, make_member):
    anne, bruno = make_member("Anne", at=DAMES_LEMERCIER), make_member("Bruno", at=CLICHY)
    chloe = make_member("Chloé", at=CLICHY)
    talk = services.start(anne, bruno, "Bonjour")
    db.session.commit()
    assert queries.get_conversation_or_404(bruno, talk.id) == talk
    with pytest.raises(NotFound):
        queries.get_conversation_or_404(chloe, talk.id)
    with pytest.raises(NotFound):
        services.write(talk, chloe, "Je m'invite")


def test_strangers_cannot_write_unless_an_exchange_joins_them(app, make_member):
    anne = make_member("Anne", at=DAMES_LEMERCIER, radius_m=200)
    far = make_member("Loin", at=FAR_AWAY, radius_m=200)
    with pytest.raises(Forbidden):
        services.start(far, anne, "Bonjour")
    with pytest.raises(Forbidden):
        services.start(anne, anne, "Moi-même")
    request = exchanges.create_exchange(
        anne,
        exchanges.ExchangeInput(
            kind="request", title="Monter un meuble", body="Samedi.", category="bricolage"
        ),
    )
    exchanges.respond(request, far, "Je viens en voiture.")
    db.session.commit()
    talk = services.start(far, anne, "Je serai là à 10 h.")
    assert talk.id


def test_a_conversation_about_a_post_carries_its_title(app, make_member):
    anne, bruno = make_member("Anne", at=DAMES_LEMERCIER), make_member("Bruno", at=CLICHY)
    offer = exchanges.create_exchange(
        anne,
        exchanges.ExchangeInput(
            kind="offer", title="Cours de guitare", body="Débutants.", category="cours"
        ),
    )
    db.session.commit()
    about = services.start(bruno, anne, "Ça m'intéresse", services.Subject("exchange", offer.id))
    plain = services.start(bruno, anne, "Autre chose")
    db.session.commit()
    assert about.subject_title == "Cours de guitare" and about.id != plain.id
    for subject in (services.Subject("exchange", 999999), services.Subject("planète", 1)):
        with pytest.raises(ValidationFailed) as err:
            services.start(bruno, anne, "Bonjour", subject)
        assert "about" in err.value.fields


@pytest.mark.parametrize("body", ["", "   ", "x" * 4001, None])
def test_bad_messages_are_refused_and_nothing_is_written(app, make_member, body):
    anne, bruno = make_member("Anne", at=DAMES_LEMERCIER), make_member("Bruno", at=CLICHY)
    with pytest.raises(ValidationFailed):
        services.start(anne, bruno, body)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_unread_total_is_a_plain_int(app, make_member):
    anne, bruno = make_member("Anne", at=DAMES_LEMERCIER), make_member("Bruno", at=CLICHY)
    services.start(anne, bruno, "Bonjour")
    db.session.commit()
    total = queries.unread_total(bruno)
    assert total == 1 and type(total) is int
